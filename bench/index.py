"""PDQ match-index benchmark: Netwarden's PdqIndex beside faiss on one realistic clustered bank.

    .venv/bin/python bench/index.py --size 10000000 --queries 20000
    .venv/bin/python bench/index.py --size 1000000            # exact mode, recall 1.0
    .venv/bin/python bench/index.py --size 200000 --queries 2000   # a quick run

The bank is clustered like real hash banks: near-duplicate families (re-encodes, crops, edits)
around random centres, family sizes from a heavy-tailed distribution, members a few bits from
their centre. Queries: half are bank members with 0-31 bits flipped (uniform; the hardest part of
the radius is as common as the easy part), half are unrelated hashes. Everything runs on one core
(faiss is set to one thread); the figure is queries per second per core of CPU time (process
time, so that other processes on a shared machine do not distort it), the same queries for every
index, ours and faiss MultiHash interleaved in slices of 100. Recall is measured against exact search (our exact mode, itself cross-checked against
faiss IndexBinaryFlat on a sample).

Two faiss MultiHash peers in the same run: python-threatexchange's default (16 sub-hashes of 16 bits,
nflip 1) and one tuned for radius 31 (12 sub-hashes of 21 bits, nflip 1: longer keys make each
bucket ~32x smaller than 16-bit keys, and with 12 sub-hashes a pair within 31 bits has, in almost all
cases, a sub-hash with at most one differing bit; its recall is measured, not assumed). Every index
warms up on queries outside the timed set first (numba compilation, page faults), and Netwarden's
rate is printed for query batches of 1, 10, 100 and 10,000 (an HMA lookup is one hash at a time).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
from netwarden.media import _kernels as K  # noqa: E402
from netwarden.media.index import PdqIndex  # noqa: E402


def flip_exact(h8: np.ndarray, k: np.ndarray, rng) -> np.ndarray:
    """Flip exactly k[i] random bits of row i."""
    bits = np.unpackbits(h8, axis=1)
    order = np.argsort(rng.random(bits.shape, dtype=np.float32), axis=1)
    mask = np.zeros_like(bits)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(256)[None, :].repeat(len(bits), 0), axis=1)
    mask[rank < k[:, None]] = 1
    return np.packbits(bits ^ mask, axis=1)


def clustered_bank(n: int, rng) -> np.ndarray:
    """n hashes in near-duplicate families (sizes 1..200, Zipf-like; members <= ~12 bits from centre)."""
    sizes = np.minimum(rng.zipf(1.8, size=n), 200)
    sizes = sizes[np.cumsum(sizes) <= n]
    if sizes.sum() < n:
        sizes = np.append(sizes, n - sizes.sum())
    centres = rng.integers(0, 256, (len(sizes), 32), dtype=np.uint8)
    out = np.empty((n, 32), dtype=np.uint8)
    fam = np.repeat(np.arange(len(sizes)), sizes)
    step = 250_000
    for s in range(0, n, step):
        c = centres[fam[s: s + step]]
        bits = np.unpackbits(c, axis=1)
        p = rng.uniform(0, 0.05, size=(len(c), 1)).astype(np.float32)  # 0..~12 bits from the centre
        bits ^= (rng.random(bits.shape, dtype=np.float32) < p).astype(np.uint8)
        out[s: s + step] = np.packbits(bits, axis=1)
    return out[rng.permutation(n)]


def queries_for(bank: np.ndarray, nq: int, rng) -> np.ndarray:
    half = nq // 2
    near = flip_exact(bank[rng.integers(0, len(bank), half)], rng.integers(0, 32, half), rng)
    far = rng.integers(0, 256, (nq - half, 32), dtype=np.uint8)
    return np.vstack([near, far])


def _brute_kernel():
    from numba import njit

    @njit(nogil=True)
    def brute(bank64, q64, radius, out_q, out_r):
        """Every (query, row) within `radius`, by scanning every row against every query (row-major:
        the bank is read once, the queries stay in cache). Returns the count (> len(out_q): too small)."""
        cnt = 0
        for i in range(bank64.shape[0]):
            b0, b1, b2, b3 = bank64[i, 0], bank64[i, 1], bank64[i, 2], bank64[i, 3]
            for k in range(q64.shape[0]):
                d = (K._popcount64(b0 ^ q64[k, 0]) + K._popcount64(b1 ^ q64[k, 1])
                     + K._popcount64(b2 ^ q64[k, 2]) + K._popcount64(b3 ^ q64[k, 3]))
                if d <= radius:
                    if cnt < out_q.shape[0]:
                        out_q[cnt] = k
                        out_r[cnt] = i
                    cnt += 1
        return cnt

    return brute


def brute_pairs(bank: np.ndarray, qs: np.ndarray, sel: np.ndarray, radius: int) -> set:
    """Ground truth for the queries `sel` by brute force over the whole bank (row i has id i)."""
    b64 = bank.view(np.uint64).reshape(-1, 4)
    q64 = np.ascontiguousarray(qs[sel]).view(np.uint64).reshape(-1, 4)
    cap = 1 << 16
    brute = _brute_kernel()
    while True:
        oq, orow = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
        n = brute(b64, q64, radius, oq, orow)
        if n <= cap:
            return {(int(sel[q]), int(r)) for q, r in zip(oq[:n], orow[:n], strict=True)}
        cap = n


def _proc_status(key: str) -> int:
    """A /proc/self/status figure (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM; Linux: 5 > /proc/self/clear_refs), so the peak read
    after a step is that step's own, not the bank generation's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def pairs(q, i) -> set:
    return set(zip(q.tolist(), i.tolist(), strict=True))


def timed(fn, *a):
    """(result, seconds of this process's CPU time): the figure is per core, and CPU time is not
    inflated when other processes on a shared machine take the core away."""
    t = time.process_time()
    r = fn(*a)
    return r, time.process_time() - t


def timed_wall(fn, *a):
    t = time.perf_counter()
    r = fn(*a)
    return r, time.perf_counter() - t


def store_add_to_matchable(n: int, rng) -> None:
    """`bank add` through the store: insert one entry, refresh the running matcher, match it."""
    import tempfile

    from sqlalchemy import create_engine

    from netwarden.media.hashing import MediaHashes
    from netwarden.media.service import BankMatcher
    from netwarden.store import media_banks as mb
    from netwarden.store.tables import metadata

    with tempfile.TemporaryDirectory() as d:
        engine = create_engine(f"sqlite:///{d}/b.db")
        metadata.create_all(engine)
        bank = clustered_bank(n, rng)
        with engine.begin() as conn:
            b = mb.create_bank(conn, "bench")
            mb.add_entries(conn, b["id"], [("pdq", h.tobytes().hex(), "") for h in bank])
        bm = BankMatcher()
        with engine.connect() as conn:
            _, load = timed(bm.refresh, conn)
        new = rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()
        t = time.perf_counter()
        with engine.begin() as conn:
            mb.add_entries(conn, b["id"], [("pdq", new, "")])
        with engine.connect() as conn:
            m = bm.refresh(conn)
        found = m.match(MediaHashes(name="q", pdq=new, quality=100)).matches
        dt = (time.perf_counter() - t) * 1000
        assert found
        print(f"store (SQLite, {n:,} PDQ entries): first load {load:.1f}s; bank add -> matchable by a running "
              f"matcher {dt:.1f} ms (insert, refresh, match)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10_000_000, help="bank size (default 10M)")
    ap.add_argument("--queries", type=int, default=20_000, help="queries for Netwarden (default 20000)")
    ap.add_argument("--peer-queries", type=int, default=300, help="queries for faiss MultiHash (default 300)")
    ap.add_argument("--flat-queries", type=int, default=30, help="queries for faiss Flat (default 30)")
    ap.add_argument("--radius", type=int, default=31)
    ap.add_argument("--mode", default="auto", choices=["auto", "exact", "approx"])
    ap.add_argument("--no-faiss", action="store_true")
    ap.add_argument("--peers", default="both", choices=["both", "tuned", "default"],
                    help="which faiss MultiHash peers to run (default both; 'tuned' alone for banks where the "
                         "16x16 default's 160 bytes a hash do not fit beside ours)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--store-size", type=int, default=100_000, help="bank size for the store add->matchable figure (0: skip)")
    ap.add_argument("--truth", default="exact", choices=["exact", "brute"],
                    help="ground truth: the exact index on every query (default), or brute force over the whole "
                         "bank on --truth-queries of them (for banks whose exact index does not fit beside ours)")
    ap.add_argument("--truth-queries", type=int, default=1000, help="queries checked by --truth brute (default 1000)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)

    t = time.perf_counter()
    bank = clustered_bank(a.size, rng)
    qs = queries_for(bank, a.queries, rng)
    print(f"bank: {a.size:,} clustered hashes, {a.queries:,} queries, radius {a.radius}  "
          f"(generated in {time.perf_counter() - t:.1f}s)")

    mode_arg = a.mode if a.mode != "auto" else ("exact" if a.size <= 1_000_000 else "approx")
    ix = PdqIndex(mode=mode_arg, radius=a.radius)
    ids = np.arange(a.size)
    rss0, peak_ok = _proc_status("VmRSS"), reset_peak()
    _, build = timed_wall(ix.add, bank, ids)
    del ids
    if peak_ok:
        beyond = _proc_status("VmHWM") - rss0 - ix.nbytes()
        print(f"  build: RSS before {rss0 / 2**30:.2f} GiB (bank and ids), peak during the build {beyond / 2**30:+.2f} "
              f"GiB beyond that and the index's own {ix.nbytes() / 2**30:.2f} GiB "
              f"({(ix.nbytes() + max(beyond, 0)) / ix.nbytes():.2f}x the index)")
    mode = "exact" if ix.exact else "approx"
    warm = queries_for(bank, 500, np.random.default_rng(a.seed + 100))
    ix.search(warm)  # warm-up outside the timing: compilation, first touch of the index's pages
    (q_ours, i_ours, _), dt = timed(ix.search, qs)
    ours_qps = a.queries / dt
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB -> GiB
    print(f"  process peak RSS after the bank and our build: {peak:.2f} GiB (bank alone {bank.nbytes / 2**30:.2f} GiB)")
    print(f"netwarden PdqIndex ({mode}): build {build:.1f}s, memory {ix.nbytes() / 2**20:,.0f} MiB "
          f"({ix.nbytes() / a.size:.0f} bytes per hash), {ours_qps:,.0f} queries/s (all {a.queries:,} in one call)")
    by_batch = {}
    for bs in (1, 10, 100, 10_000):
        n = min(len(qs), max(bs, 2000 if bs < 100 else 10_000))
        sel = qs[:n]
        c = time.process_time()
        for s0 in range(0, n, bs):
            ix.search(sel[s0: s0 + bs])
        by_batch[bs] = n / (time.process_time() - c)
    print("  by query batch size: " + ", ".join(f"{bs:,}: {q:,.0f} q/s" for bs, q in by_batch.items()))

    # Ground truth: exact search (pigeonhole multi-index hashing, recall 1.0 by construction), or
    # brute force on a sample of the queries.
    got = pairs(q_ours, i_ours)
    if a.truth == "brute":
        tsel = np.unique(np.linspace(0, a.queries - 1, min(a.truth_queries, a.queries)).astype(int))
        truth, tdt = timed_wall(brute_pairs, bank, qs, tsel, a.radius)
        tset = set(tsel.tolist())
        got = {p for p in got if p[0] in tset}
        print(f"  truth by brute force over all {a.size:,} rows for {len(tsel):,} of the queries "
              f"(evenly spaced, near and far alike): {tdt:.1f}s")
    elif ix.exact:
        truth = pairs(q_ours, i_ours)
    else:
        ex = PdqIndex(mode="exact", radius=a.radius)
        ex.add(bank, np.arange(a.size))
        (tq, ti, _), _ = timed(ex.search, qs)
        truth = pairs(tq, ti)
        del ex
    recall = len(got & truth) / max(len(truth), 1)
    print(f"  true pairs within {a.radius}: {len(truth):,}; recall {recall:.4f}; false hits {len(got - truth)}")

    # Time from add to matchable, on the full index.
    new = rng.integers(0, 256, (1, 32), dtype=np.uint8)
    t = time.perf_counter()
    ix.add(new, [a.size + 1])
    hit = ix.search(new)
    add_ms = (time.perf_counter() - t) * 1000
    assert a.size + 1 in hit[1].tolist()
    print(f"  add one hash -> matchable: {add_ms:.1f} ms")

    if a.store_size:
        store_add_to_matchable(a.store_size, rng)

    if a.no_faiss:
        return
    import faiss

    faiss.omp_set_num_threads(1)
    psel = np.unique(np.linspace(0, a.queries - 1, a.peer_queries).astype(int))
    pq = qs[psel]
    pset = set(psel.tolist())
    if a.truth == "brute":  # recall of the peers on the queries that have a truth
        pset &= tset
    peer_truth = {p for p in truth if p[0] in pset}
    peers = {}
    chosen = [p for p in (("faiss MultiHash 16x16 (default)", 16, 16, "default"), ("faiss MultiHash 12x21 (tuned)", 12, 21, "tuned"))
              if a.peers in ("both", p[3])]
    for name, nhash, bits, _ in chosen:
        mh = faiss.IndexBinaryMultiHash(256, nhash, bits)
        mh.nflip = 1
        _, mh_build = timed_wall(mh.add, bank)
        mh.range_search(warm[:50], a.radius + 1)  # warm-up
        # Interleaved with ours in slices of 100 queries, so that load from other processes on a shared
        # machine falls on both sides alike; the ratio uses these same-query, same-moment timings.
        mh_dt = sub_dt = 0.0
        found = set()
        for s0 in range(0, len(pq), 100):
            sl = pq[s0: s0 + 100]
            (lims, _, hits), t1 = timed(mh.range_search, sl, a.radius + 1)
            _, t2 = timed(ix.search, sl)
            mh_dt, sub_dt = mh_dt + t1, sub_dt + t2
            found |= {(int(psel[s0 + q]), int(hits[j])) for q in range(len(sl)) for j in range(lims[q], lims[q + 1])
                      if int(psel[s0 + q]) in pset}
        one = pq[:50]
        _, t1q = timed(lambda o=one, m=mh: [m.range_search(o[k:k + 1], a.radius + 1) for k in range(len(o))])
        peers[name] = {"qps": len(pq) / mh_dt, "ours": len(pq) / sub_dt, "build": mh_build,
                       "recall": len(found & peer_truth) / max(len(peer_truth), 1), "qps_single": len(one) / t1q}
        print(f"{name} nflip 1: build {mh_build:.1f}s, {peers[name]['qps']:,.1f} queries/s (one at a time "
              f"{peers[name]['qps_single']:,.1f}), recall {peers[name]['recall']:.4f} on {len(pq)} of the queries "
              f"(netwarden on the same, interleaved: {peers[name]['ours']:,.0f} queries/s)")
        del mh
    fl = faiss.IndexBinaryFlat(256)
    fl.add(bank)
    fsel = np.unique(np.linspace(0, a.queries - 1, max(a.flat_queries, 1)).astype(int))
    fq = qs[fsel]
    (flims, _, fI), fl_dt = timed(fl.range_search, fq, a.radius + 1)
    fl_qps = len(fq) / fl_dt
    # cross-check the ground truth on the flat sample
    flat_pairs = {(int(fsel[q]), int(fI[j])) for q in range(len(fq)) for j in range(flims[q], flims[q + 1])}
    fset = set(fsel.tolist())
    sub_truth = {p for p in truth if p[0] in fset}
    print(f"faiss IndexBinaryFlat: {fl_qps:,.1f} queries/s (its {len(flat_pairs)} pairs == exact truth: {flat_pairs == sub_truth})")
    print()
    print(f"same {len(pq)} queries, each peer interleaved with netwarden in slices of 100:")
    print(f"{'index':<36}{'queries/s/core':>16}{'recall':>9}{'netwarden / it':>16}")
    for name, r in peers.items():
        print(f"{name:<36}{r['qps']:>16,.1f}{r['recall']:>9.4f}{r['ours'] / r['qps']:>15,.1f}x")
    print(f"{'faiss IndexBinaryFlat':<36}{fl_qps:>16,.1f}{1.0:>9.4f}{ours_qps / fl_qps:>15,.0f}x")
    print(f"netwarden PdqIndex ({mode}): recall {recall:.4f}, " + ", ".join(
        f"batch {bs:,} {q:,.0f} q/s" for bs, q in by_batch.items()))


if __name__ == "__main__":
    main()
