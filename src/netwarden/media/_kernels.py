"""Compiled inner loops of the PDQ index (numba, a base dependency).

One query at a time, in one thread: probe every chunk's buckets, verify each candidate's full
256-bit distance with four popcounts, keep hits, drop duplicates found through several chunks.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

PREFETCH = 16  # candidates ahead: hide the memory latency of the random row reads


@intrinsic
def _prefetch_row(typingctx, arr, row):
    """Prefetch arr[row, 0] (LLVM's llvm.prefetch: read, high locality, data cache)."""
    sig = types.void(arr, row)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx, zero], wraparound=False, boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _prefetch1(typingctx, arr, i):
    """Prefetch arr[i] of a 1-D array."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx], wraparound=False, boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _popcount64(typingctx, x):
    """LLVM's ctpop: one POPCNT instruction where the CPU has it."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@njit(cache=True, nogil=True)
def chunk_keys(h8, chunks):
    """(n, 32) uint8 hashes, (m, b) bit positions -> (n, m) int64 keys."""
    n = h8.shape[0]
    m, b = chunks.shape
    out = np.empty((n, m), dtype=np.int64)
    for i in range(n):
        for j in range(m):
            k = 0
            for t in range(b):
                p = chunks[j, t]
                k = (k << 1) | ((h8[i, p >> 3] >> (7 - (p & 7))) & 1)
            out[i, j] = k
    return out


@njit(cache=True, nogil=True)
def build_csr(keys, size, offsets, rows):
    """Counting sort of each chunk's keys: offsets (m, size+1), rows (m, n) filled in place."""
    n, m = keys.shape
    for j in range(m):
        off = offsets[j]
        off[:] = 0
        for i in range(n):
            off[keys[i, j] + 1] += 1
        for k in range(size):
            off[k + 1] += off[k]
        fill = off[:size].copy()
        for i in range(n):
            k = keys[i, j]
            rows[j, fill[k]] = i
            fill[k] += 1


@njit(cache=True, nogil=True)
def _verify(buf, nbuf, j, qi, q0, q1, q2, q3, h64, alive, radius, chunk_masks, r, out_q, out_r, out_d, cnt):
    """Check buffered candidates of chunk j; returns the new hit count, or -1 when out of room."""
    cap = out_q.shape[0]
    for k in range(min(PREFETCH, nbuf)):
        _prefetch_row(h64, buf[k])
    for k in range(nbuf):
        if k + PREFETCH < nbuf:
            _prefetch_row(h64, buf[k + PREFETCH])
        row = buf[k]
        x0 = h64[row, 0] ^ q0
        x1 = h64[row, 1] ^ q1
        x2 = h64[row, 2] ^ q2
        x3 = h64[row, 3] ^ q3
        d = _popcount64(x0) + _popcount64(x1) + _popcount64(x2) + _popcount64(x3)
        if d <= radius and alive[row]:
            dup = False
            for jj in range(j):
                c = (_popcount64(x0 & chunk_masks[jj, 0]) + _popcount64(x1 & chunk_masks[jj, 1])
                     + _popcount64(x2 & chunk_masks[jj, 2]) + _popcount64(x3 & chunk_masks[jj, 3]))
                if c <= r:
                    dup = True
                    break
            if dup:
                continue
            if cnt >= cap:
                return -1
            out_q[cnt] = qi
            out_r[cnt] = row
            out_d[cnt] = d
            cnt += 1
    return cnt


@njit(cache=True, nogil=True)
def search(qkeys, q64, masks, offsets, rows, h64, alive, radius, chunk_masks, r, out_q, out_r, out_d):
    """Range search; returns the number of hits written, or -1 if the output buffers are too small.

    Per query and chunk, candidate rows are gathered from the probed buckets (sequential reads)
    into a buffer, then verified with the rows prefetched ahead. A hit found through chunk j is
    kept only if no earlier chunk would also have found it (its XOR with the query has <= r bits
    in that chunk), so each row is reported once without a sort.
    """
    nq, m = qkeys.shape
    buf = np.empty(4096, dtype=np.int64)
    cnt = 0
    for qi in range(nq):
        q0, q1, q2, q3 = q64[qi, 0], q64[qi, 1], q64[qi, 2], q64[qi, 3]
        for j in range(m):
            off = offsets[j]
            rj = rows[j]
            base = qkeys[qi, j]
            nbuf = 0
            for mi in range(masks.shape[0]):
                key = base ^ masks[mi]
                for pos in range(off[key], off[key + 1]):
                    if nbuf == buf.shape[0]:
                        cnt = _verify(buf, nbuf, j, qi, q0, q1, q2, q3, h64, alive, radius, chunk_masks, r,
                                      out_q, out_r, out_d, cnt)
                        if cnt < 0:
                            return -1
                        nbuf = 0
                    buf[nbuf] = rj[pos]
                    nbuf += 1
            if nbuf:
                cnt = _verify(buf, nbuf, j, qi, q0, q1, q2, q3, h64, alive, radius, chunk_masks, r,
                              out_q, out_r, out_d, cnt)
                if cnt < 0:
                    return -1
    return cnt


# ------------------------------------------------------------------ the compact layout (approx mode)
#
# Hashes are stored with their 256 bits permuted (a fixed random permutation: Hamming distance is
# unchanged), as 4 uint64 words, bit i being (w[i >> 6] >> (i & 63)) & 1. Table j reads the field of
# FIELD bits starting at bit j * FIELD: its low `d` bits are the directory key D, the next `s` bits a
# suffix S kept beside the row number in one uint32 entry (row in the low bits). A row is a candidate
# of table j when its D is within 2 bits of the query's and D + S within `rt` bits; table 0 holds no
# entries: the hash rows themselves are sorted by its D, so its buckets are runs of rows.

FIELD = 36


@njit(cache=True, nogil=True)
def permute_bits(h8, lut, order, out):
    """out[k] = the permuted words of h8[order[k]] (lut: (32, 256, 4) uint64, one entry per byte)."""
    for k in range(order.shape[0]):
        i = order[k]
        w0 = np.uint64(0)
        w1 = np.uint64(0)
        w2 = np.uint64(0)
        w3 = np.uint64(0)
        for p in range(32):
            v = h8[i, p]
            w0 |= lut[p, v, 0]
            w1 |= lut[p, v, 1]
            w2 |= lut[p, v, 2]
            w3 |= lut[p, v, 3]
        out[k, 0] = w0
        out[k, 1] = w1
        out[k, 2] = w2
        out[k, 3] = w3


@njit(cache=True, nogil=True, inline="always")
def _field(w0, w1, w2, w3, start, length):
    """`length` (<= 64) bits of the 256-bit word string from bit `start`."""
    lo = start >> 6
    off = start & 63
    if lo == 0:
        a, b = w0, w1
    elif lo == 1:
        a, b = w1, w2
    elif lo == 2:
        a, b = w2, w3
    else:
        a, b = w3, np.uint64(0)
    v = a >> np.uint64(off)
    if off + length > 64:
        v |= b << np.uint64(64 - off)
    if length < 64:
        v &= (np.uint64(1) << np.uint64(length)) - np.uint64(1)
    return v


@njit(cache=True, nogil=True)
def table0_keys(h8, lut, d):
    """D of table 0 for raw (n, 32) uint8 hashes (permuting each on the fly)."""
    n = h8.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        w0 = np.uint64(0)
        w1 = np.uint64(0)
        for p in range(32):
            v = h8[i, p]
            w0 |= lut[p, v, 0]
            w1 |= lut[p, v, 1]
        out[i] = _field(w0, w1, np.uint64(0), np.uint64(0), 0, d)
    return out


@njit(cache=True, nogil=True)
def counting_order(keys, size):
    """Stable counting sort: (offsets (size + 1,) int64, order (n,) int64)."""
    n = keys.shape[0]
    off = np.zeros(size + 1, dtype=np.int64)
    for i in range(n):
        off[keys[i] + 1] += 1
    for k in range(size):
        off[k + 1] += off[k]
    fill = off[:size].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = keys[i]
        order[fill[k]] = i
        fill[k] += 1
    return off, order


@njit(cache=True, nogil=True)
def build_table(w, j, d, s, rowbits, offsets, entries):
    """Fill table j (j >= 1) of permuted rows w: offsets (2**d + 1,), entries (n,) uint32 (S << rowbits | row)."""
    n = w.shape[0]
    size = 1 << d
    start = j * FIELD
    offsets[:] = 0
    for i in range(n):
        k = _field(w[i, 0], w[i, 1], w[i, 2], w[i, 3], start, d)
        offsets[k + 1] += 1
    for k in range(size):
        offsets[k + 1] += offsets[k]
    fill = offsets[:size].copy()
    for i in range(n):
        k = _field(w[i, 0], w[i, 1], w[i, 2], w[i, 3], start, d)
        sv = _field(w[i, 0], w[i, 1], w[i, 2], w[i, 3], start + d, s)
        entries[fill[k]] = np.uint32((sv << np.uint64(rowbits)) | np.uint64(i))
        fill[k] += 1


@njit(cache=True, nogil=True, inline="always")
def _caught(x0, x1, x2, x3, jj, d, s, rt):
    """Would table jj find a row whose XOR with the query is x? (table 0: D within 2 bits)."""
    start = jj * FIELD
    kd = _popcount64(_field(x0, x1, x2, x3, start, d))
    if kd > 2:
        return False
    if jj == 0:
        return True
    return kd + _popcount64(_field(x0, x1, x2, x3, start + d, s)) <= rt


@njit(cache=True, nogil=True)
def compact_search(q, m, d, s, rt, rowbits, masks, mask_k, offsets, entries, w, alive, radius,
                   out_q, out_r, out_d):
    """Range search over a compact segment; returns hits written, or -1 when the buffers are full.

    q: (nq, 4) permuted query words; offsets: (m, 2**d + 1) (row 0 used by table 0 too); entries:
    (m - 1, n); masks / mask_k: every D flip pattern of <= 2 bits and its bit count. Per query and
    table the directory slots of all probes are prefetched first, then the buckets' starts, then the
    buckets are scanned (table 0: the rows themselves; others: the entries, filtered on S) and the
    candidates verified with their rows prefetched ahead. A row is reported by the first table that
    finds it only.
    """
    nq = q.shape[0]
    npr = masks.shape[0]
    cap = out_q.shape[0]
    keys = np.empty(npr, dtype=np.int64)
    lo = np.empty(npr, dtype=np.int64)
    hi = np.empty(npr, dtype=np.int64)
    buf = np.empty(8192, dtype=np.int64)
    rowmask = np.uint32((1 << rowbits) - 1) if rowbits < 32 else np.uint32(0xFFFFFFFF)
    check_alive = alive.shape[0] > 0
    cnt = 0
    for qi in range(nq):
        q0, q1, q2, q3 = q[qi, 0], q[qi, 1], q[qi, 2], q[qi, 3]
        for j in range(m):
            start = j * FIELD
            qd = np.int64(_field(q0, q1, q2, q3, start, d))
            qs = _field(q0, q1, q2, q3, start + d, s)
            off = offsets[j]
            for p in range(npr):
                keys[p] = qd ^ masks[p]
            for p in range(npr):
                _prefetch1(off, keys[p])
            if j == 0:
                for p in range(npr):
                    lo[p] = off[keys[p]]
                    hi[p] = off[keys[p] + 1]
                    if hi[p] > lo[p]:
                        _prefetch_row(w, lo[p])
                for p in range(npr):
                    for row in range(lo[p], hi[p]):
                        x0 = w[row, 0] ^ q0
                        x1 = w[row, 1] ^ q1
                        x2 = w[row, 2] ^ q2
                        x3 = w[row, 3] ^ q3
                        dd = _popcount64(x0) + _popcount64(x1) + _popcount64(x2) + _popcount64(x3)
                        if dd <= radius and (not check_alive or alive[row]):
                            if cnt >= cap:
                                return -1
                            out_q[cnt] = qi
                            out_r[cnt] = row
                            out_d[cnt] = dd
                            cnt += 1
                continue
            ent = entries[j - 1]
            for p in range(npr):
                lo[p] = off[keys[p]]
                hi[p] = off[keys[p] + 1]
                if hi[p] > lo[p]:
                    _prefetch1(ent, lo[p])
            nbuf = 0
            for p in range(npr):
                lim = rt - mask_k[p]
                for pos in range(lo[p], hi[p]):
                    e = ent[pos]
                    if _popcount64(np.uint64(e >> np.uint32(rowbits)) ^ qs) <= lim:
                        if nbuf == buf.shape[0]:
                            cnt = _verify_compact(buf, nbuf, j, qi, q0, q1, q2, q3, w, alive, check_alive, radius,
                                                  d, s, rt, out_q, out_r, out_d, cnt)
                            if cnt < 0:
                                return -1
                            nbuf = 0
                        buf[nbuf] = np.int64(e & rowmask)
                        nbuf += 1
            if nbuf:
                cnt = _verify_compact(buf, nbuf, j, qi, q0, q1, q2, q3, w, alive, check_alive, radius,
                                      d, s, rt, out_q, out_r, out_d, cnt)
                if cnt < 0:
                    return -1
    return cnt


@njit(cache=True, nogil=True)
def _verify_compact(buf, nbuf, j, qi, q0, q1, q2, q3, w, alive, check_alive, radius, d, s, rt,
                    out_q, out_r, out_d, cnt):
    cap = out_q.shape[0]
    for k in range(min(PREFETCH, nbuf)):
        _prefetch_row(w, buf[k])
    for k in range(nbuf):
        if k + PREFETCH < nbuf:
            _prefetch_row(w, buf[k + PREFETCH])
        row = buf[k]
        x0 = w[row, 0] ^ q0
        x1 = w[row, 1] ^ q1
        x2 = w[row, 2] ^ q2
        x3 = w[row, 3] ^ q3
        dd = _popcount64(x0) + _popcount64(x1) + _popcount64(x2) + _popcount64(x3)
        if dd <= radius and (not check_alive or alive[row]):
            dup = False
            for jj in range(j):
                if _caught(x0, x1, x2, x3, jj, d, s, rt):
                    dup = True
                    break
            if dup:
                continue
            if cnt >= cap:
                return -1
            out_q[cnt] = qi
            out_r[cnt] = row
            out_d[cnt] = dd
            cnt += 1
    return cnt


@njit(cache=True, nogil=True)
def field_keys(w, start, length):
    """A field of every row of permuted words w, as int64."""
    n = w.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = np.int64(_field(w[i, 0], w[i, 1], w[i, 2], w[i, 3], start, length))
    return out


@njit(cache=True, nogil=True)
def apply_order_in_place(order, w, ids):
    """Rearrange rows in place so that new row k is old row order[k] (w (n, 4), ids (n,)), following
    each cycle of the permutation with one row held aside: no second copy of w. `order` is used up
    (set to -1)."""
    n = order.shape[0]
    for start in range(n):
        if order[start] < 0:
            continue
        t0, t1, t2, t3, tid = w[start, 0], w[start, 1], w[start, 2], w[start, 3], ids[start]
        k = start
        while True:
            src = order[k]
            order[k] = -1
            if src == start:
                w[k, 0], w[k, 1], w[k, 2], w[k, 3], ids[k] = t0, t1, t2, t3, tid
                break
            w[k, 0], w[k, 1], w[k, 2], w[k, 3], ids[k] = w[src, 0], w[src, 1], w[src, 2], w[src, 3], ids[src]
            k = src
