"""A big synthetic store for the cold-start measurement (docs/graph.md, "Cold start at 10M accounts").

    .venv/bin/python bench/cold_start.py generate --accounts 100000 --db /tmp/cs100k.db
    flock /tmp/netwarden-bigmem.lock nice -n 5 .venv/bin/python bench/cold_start.py generate \
        --accounts 10000000 --db /tmp/cs10m.db
    .venv/bin/python bench/cold_start.py batch --db /tmp/cs10m.db --follows 1000 --out /tmp/batch.jsonl

`netwarden world generate` writes JSON lines that `netwarden ingest` validates and projects one event at
a time: far too slow at 10M accounts. This writes the same rows straight into a store made by the
product (`open_store`: the migrations, so the schema and the alembic revision are the product's): one
`events` row per event (seq in order, the native JSON line as payload, subject and source as ingestion
sets them) and its projection (accounts, follows, posts, likes, contacts) with the columns
`ingest/apply.py` writes, in big transactions, the secondary indexes dropped during the load and
re-created after. Ids are fixed width (`a00000042`, `p00000042`) so numeric order is the key order and
every B-tree is written in order.

The platform: every account makes `--follows` follows on average (60% to popular accounts, drawn from a
power law, 40% to accounts near it in id order: communities), `--posts` posts per account (a share of
them replies to earlier posts), `--likes` likes per account (of popular posts). `--groups` planted dense
groups of `--group-size` members spread over the id space: each member follows `--group-follows` other
members, and a third of them show the group's shared off-platform handle (contacts: the handle layer).
The store has no signals. `truth` (JSON beside the db) names the groups' members, for the seeds.

`batch` writes native events (new follows among existing accounts, some into a planted group; with
`--posts` and `--signups` new posts with hashtags and new accounts) as a JSON-lines file for
`netwarden ingest`: the small batch a snapshot is behind by.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sqlite3
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

CHUNK = 250_000  # accounts per follow / like chunk
T0 = 1_700_000_000  # 2023-11-14, the first event's time


def aid(i: int) -> str:
    return f"a{i:08d}"


def pid(i: int) -> str:
    return f"p{i:08d}"


@functools.lru_cache(maxsize=4096)
def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Events:
    """Appends events rows in seq order; the event id and time come from the running count."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con
        self.n = 0

    def add(self, kind: str, rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """rows: (subject, data JSON); returns (time, version) per row, as ingestion stores them."""
        out = []
        evs = []
        for subject, data in rows:
            self.n += 1
            eid = f"e{self.n:010d}"
            t = iso(T0 + self.n // 20)
            evs.append((eid, kind, t, subject, "native",
                        f'{{"v":1,"id":"{eid}","kind":"{kind}","time":"{t}","data":{data}}}'))
            out.append((t, f"{t} {eid}"))
        self.con.executemany("INSERT INTO events (event_id, kind, time, subject, source, payload) "
                             "VALUES (?, ?, ?, ?, ?, ?)", evs)
        return out

    def pairs(self, kind: str, table: str, data: str, pairs: list[tuple[str, str]]) -> int:
        """One transaction of edge events (follow, like) and their active projection rows; `table` is
        "follows (src, dst" or "likes (account_id, post_id", `data` the event's data with two {} slots."""
        self.con.execute("BEGIN")
        tv = self.add(kind, [(a, data.format(a, b)) for a, b in pairs])
        self.con.executemany(f"INSERT INTO {table}, state, time, version) VALUES (?, ?, 'active', ?, ?)",
                             ((a, b, t_, v) for (a, b), (t_, v) in zip(pairs, tv, strict=True)))
        self.con.execute("COMMIT")
        return len(pairs)


def power_law(rng, k: int, n: int, a: float = 3.0) -> np.ndarray:
    """k draws in [0, n) with P(x < m) = (m / n) ** (1 / a): a few very popular, most rarely picked.
    Mapped through a fixed permutation-free scramble so the popular ones are spread over the ids."""
    x = (n * rng.random(k) ** a).astype(np.int64)
    return (x * 2654435761) % n  # a bijection on [0, n) when n is not a multiple of 2654435761's factors


def planted(n: int, groups: int, size: int, per: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    members = rng.choice(n, groups * size, replace=False).reshape(groups, size)
    keys = []
    for g in members:
        src = np.repeat(g, per)
        dst = g[rng.integers(0, size, len(src))]
        keys.append(src * n + dst)
    k = np.unique(np.concatenate(keys))
    return [np.sort(g) for g in members], k[(k // n) != (k % n)]


def generate(db: str, n: int, follows: float, posts: float, likes: float, groups: int, group_size: int,
             group_follows: int, reply_share: float, seed: int) -> dict:
    from netwarden.store.db import open_store

    t_wall = time.perf_counter()
    if os.path.exists(db):
        raise SystemExit(f"{db} exists; remove it first")
    open_store(f"sqlite:///{db}").close()  # the product's migrations: schema and revision
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a bulk load into a new file: nothing to roll back to
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    idx = con.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN "
                      "('events', 'accounts', 'posts', 'follows', 'likes', 'contacts')").fetchall()
    for name, _ in idx:
        con.execute(f"DROP INDEX {name}")
    # the events table's event_id UNIQUE is an automatic index (no sql): kept, ids are written in order
    rng = np.random.default_rng(seed)
    ev = Events(con)
    counts = {"accounts": n}
    steps = {}

    def step(name, t):
        steps[name] = round(time.perf_counter() - t, 1)
        print(f"  {name}: {steps[name]} s", file=sys.stderr, flush=True)

    t = time.perf_counter()
    for s in range(0, n, CHUNK):
        con.execute("BEGIN")
        rows = [(aid(i), f'{{"id":"{aid(i)}","handle":"u{i:08d}","created_at":"{iso(T0)}"}}') for i in range(s, min(n, s + CHUNK))]
        tv = ev.add("account", rows)
        con.executemany("INSERT INTO accounts (id, handle, handle_lc, display_name, bio, created_at, protected, "
                        "state, state_version, updated_at, version) VALUES (?, ?, ?, '', '', ?, 0, 'active', '', ?, ?)",
                        ((a, f"u{a[1:]}", f"u{a[1:]}", iso(T0), t_, v) for (a, _), (t_, v) in zip(rows, tv, strict=True)))
        con.execute("COMMIT")
    step("accounts", t)

    members, gkeys = planted(n, groups, group_size, group_follows, seed)
    t = time.perf_counter()
    nf = 0
    for s in range(0, n, CHUNK):
        e = min(n, s + CHUNK)
        k = int((e - s) * follows)
        src = rng.integers(s, e, k)
        far = rng.random(k) < 0.6
        dst = np.where(far, power_law(rng, k, n), (src + rng.integers(-2000, 2000, k)) % n)
        key = src * n + dst
        lo, hi = np.searchsorted(gkeys, [s * n, e * n])
        key = np.unique(np.concatenate([key, gkeys[lo:hi]]))
        key = key[(key // n) != (key % n)]
        nf += ev.pairs("follow", "follows (src, dst", '{{"src":"{}","dst":"{}"}}',
                       [(aid(a), aid(b)) for a, b in zip((key // n).tolist(), (key % n).tolist(), strict=True)])
    counts["follows"] = nf
    step("follows", t)

    t = time.perf_counter()
    npost = int(n * posts)
    for s in range(0, npost, CHUNK):
        e = min(npost, s + CHUNK)
        author = rng.integers(0, n, e - s)
        reply = rng.random(e - s) < reply_share
        parent = (rng.random(e - s) * np.arange(s, e)).astype(np.int64)  # an earlier post
        con.execute("BEGIN")
        rows, data = [], []
        for i, a, r, p in zip(range(s, e), author.tolist(), reply.tolist(), parent.tolist(), strict=True):
            rt = pid(p) if r and i > 0 else None
            rows.append((pid(i), aid(a), rt))
            data.append((pid(i), f'{{"id":"{pid(i)}","author_id":"{aid(a)}","text":"post {i:08d}"'
                         + (f',"reply_to":"{rt}"' if rt else "") + "}"))
        tv = ev.add("post", data)
        con.executemany("INSERT INTO posts (id, author_id, text, created_at, reply_to, visibility, updated_at, version) "
                        "VALUES (?, ?, 'post ' || substr(?, 2), ?, ?, 'public', ?, ?)",
                        ((p_, a, p_, t_, rt, t_, v) for (p_, a, rt), (t_, v) in zip(rows, tv, strict=True)))
        con.execute("COMMIT")
    counts["posts"] = npost
    step("posts", t)

    t = time.perf_counter()
    nl = 0
    for s in range(0, n, CHUNK):
        e = min(n, s + CHUNK)
        k = int((e - s) * likes)
        acc = rng.integers(s, e, k)
        post = power_law(rng, k, npost, 2.0) if npost else np.zeros(0, np.int64)
        key = np.unique(acc * max(npost, 1) + post)
        nl += ev.pairs("like", "likes (account_id, post_id", '{{"account_id":"{}","post_id":"{}"}}',
                       [(aid(a), pid(p)) for a, p in zip((key // npost).tolist(), (key % npost).tolist(), strict=True)])
    counts["likes"] = nl
    step("likes", t)

    # a third of each group shows its shared handle in the bio: an account event with the new bio, as a
    # profile edit arrives, and the contact row the text hook extracts from it
    t = time.perf_counter()
    con.execute("BEGIN")
    nc = 0
    for g, ms in enumerate(members):
        show = ms[::3].tolist()
        handle = f"grp{g:02d}share"
        tv = ev.add("account", [(aid(i), f'{{"id":"{aid(i)}","handle":"u{i:08d}","bio":"kik: {handle}"}}') for i in show])
        con.executemany("UPDATE accounts SET bio = ?, updated_at = ?, version = ? WHERE id = ?",
                        ((f"kik: {handle}", t_, v, aid(i)) for i, (t_, v) in zip(show, tv, strict=True)))
        con.executemany("INSERT INTO contacts (account_id, platform, handle, field, ref) VALUES (?, 'kik', ?, 'bio', '')",
                        ((aid(i), handle) for i in show))
        nc += len(show)
    con.execute("COMMIT")
    counts["contacts"] = nc
    counts["events"] = ev.n
    step("groups", t)

    t = time.perf_counter()
    for _, sql in idx:
        con.execute(sql)
    step("indexes", t)
    t = time.perf_counter()
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")  # as the product opens it
    con.close()
    step("checkpoint", t)
    out = {"db": db, "counts": counts, "steps_s": steps, "wall_s": round(time.perf_counter() - t_wall, 1),
           "db_bytes": os.path.getsize(db),
           "groups": [[aid(i) for i in ms.tolist()] for ms in members]}
    with open(db + ".truth.json", "w") as f:
        json.dump(out, f)
    return out


def batch(db: str, follows: int, out: str, seed: int, posts: int = 0, signups: int = 0) -> dict:
    """New follows among existing accounts (a tenth inside planted group 0), `posts` new posts by existing
    accounts (one or two hashtags each from 2,000 invented tags drawn from a power law, a tenth by group 0
    members with the group's own tag) and `signups` new accounts (a bio contact shared by a few of them,
    one follow each), as native JSON lines."""
    truth = json.load(open(db + ".truth.json"))
    n = truth["counts"]["accounts"]
    g0 = [int(a[1:]) for a in truth["groups"][0]]
    con = sqlite3.connect(db)
    last = con.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    con.close()
    rng = np.random.default_rng(seed + 99)
    lines = []
    for j in range(follows):
        if j % 10 == 0:
            a, b = rng.choice(g0, 2, replace=False).tolist()
        else:
            a, b = rng.integers(0, n, 2).tolist()
        if a == b:
            b = (b + 1) % n
        eid = f"b{last:010d}-{seed}-{j:06d}"
        lines.append(json.dumps({"v": 1, "id": eid, "kind": "follow", "time": iso(T0 + 10**7 + j),
                                 "data": {"src": aid(a), "dst": aid(b)}}, separators=(",", ":")))
    popular = power_law(rng, 2 * posts, 2000)
    for j in range(posts):
        if j % 10 == 0:
            author, tags = int(rng.choice(g0)), ["zzgroup0", f"zzcs{int(popular[2 * j])}"]
        else:
            author, tags = int(rng.integers(0, n)), [f"zzcs{int(t)}" for t in popular[2 * j:2 * j + 1 + j % 2]]
        eid = f"b{last:010d}-{seed}-p{j:06d}"
        lines.append(json.dumps({"v": 1, "id": eid, "kind": "post", "time": iso(T0 + 10**7 + follows + j),
                                 "data": {"id": f"q{seed}-{j}", "author_id": aid(author),
                                          "text": " ".join("#" + t for t in tags), "hashtags": tags}},
                                separators=(",", ":")))
    for j in range(signups):
        new = aid(n + seed * 100_000 + j)
        t = iso(T0 + 10**7 + follows + posts + j)
        lines.append(json.dumps({"v": 1, "id": f"b{last:010d}-{seed}-s{j:06d}", "kind": "account", "time": t,
                                 "data": {"id": new, "handle": "u" + new, "bio": f"kik: zzsignup{seed}_{j // 4}"}},
                                separators=(",", ":")))
        lines.append(json.dumps({"v": 1, "id": f"b{last:010d}-{seed}-f{j:06d}", "kind": "follow", "time": t,
                                 "data": {"src": new, "dst": aid(int(rng.integers(0, n)))}}, separators=(",", ":")))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    return {"out": out, "events": len(lines)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--db", required=True)
    g.add_argument("--accounts", type=int, default=100_000)
    g.add_argument("--follows", type=float, default=4.0, help="follows per account")
    g.add_argument("--posts", type=float, default=0.3, help="posts per account")
    g.add_argument("--likes", type=float, default=1.0, help="likes per account")
    g.add_argument("--reply-share", type=float, default=0.3)
    g.add_argument("--groups", type=int, default=20)
    g.add_argument("--group-size", type=int, default=150)
    g.add_argument("--group-follows", type=int, default=25)
    g.add_argument("--seed", type=int, default=7)
    b = sub.add_parser("batch")
    b.add_argument("--db", required=True)
    b.add_argument("--follows", type=int, default=1000)
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--posts", type=int, default=0, help="new posts with hashtags")
    b.add_argument("--signups", type=int, default=0, help="new accounts")
    a = p.parse_args()
    if a.cmd == "generate":
        r = generate(a.db, a.accounts, a.follows, a.posts, a.likes, a.groups, a.group_size, a.group_follows,
                     a.reply_share, a.seed)
        r.pop("groups")
    else:
        r = batch(a.db, a.follows, a.out, a.seed, a.posts, a.signups)
    print(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
