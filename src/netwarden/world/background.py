"""The ordinary platform: follows, posts (with replies, reposts, quotes, mentions, hashtags, media)
and likes of every account that is not planted. Vectorised with numpy and streamed to the sink in
chunks, so memory grows with the number of posts, not of events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import vocab
from .ids import account_id, post_id
from .images import MediaFile
from .population import DAY, Population
from .writer import EventSink

CHUNK = 20_000


def request_events(sink: EventSink, rng: np.random.Generator, src: str, dst: str, t: int, p_ok: float, p_pending: float) -> str:
    """A follow request to a protected account: pending, then (maybe) approved or rejected."""
    sink.emit("follow_request", t, {"src": src, "dst": dst, "state": "pending"})
    u = rng.random()
    if u < p_ok:
        sink.emit("follow_request", t + int(rng.integers(60, 3 * DAY)), {"src": src, "dst": dst, "state": "approved"})
        return "approved"
    if u < p_ok + p_pending:
        return "pending"
    sink.emit("follow_request", t + int(rng.integers(60, 3 * DAY)), {"src": src, "dst": dst, "state": "rejected"})
    return "rejected"


@dataclass
class BackgroundPosts:
    """Original background posts, for replies, likes and the networks' camouflage."""

    author: np.ndarray
    time: np.ndarray
    index: np.ndarray  # global post index (for post_id)

    def sample(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return rng.integers(0, len(self.index), k)


def follows(sink: EventSink, rng: np.random.Generator, pop: Population, end: int, mean: float, tick: Callable[[int], None]) -> int:
    srcs_all = np.flatnonzero(~pop.planted)
    n_edges = 0
    hub_p = 0.25 / np.arange(1, len(pop.hubs) + 1) ** 0.8
    for c0 in range(0, len(srcs_all), CHUNK):
        srcs = srcs_all[c0 : c0 + CHUNK]
        deg = np.clip(rng.lognormal(np.log(mean) - 0.5, 1.0, len(srcs)), 1, 1500).astype(np.int64)
        src = np.repeat(srcs, deg)
        local = rng.random(len(src)) < 0.8
        dst = np.empty(len(src), np.int64)
        dst[local] = pop.in_community(rng, pop.community[src[local]])
        dst[~local] = pop.popular(rng, int((~local).sum()))
        hub_src = [srcs[rng.random(len(srcs)) < p] for p in hub_p]
        src = np.concatenate([src, *hub_src])
        dst = np.concatenate([dst, *[np.full(len(s), h) for s, h in zip(hub_src, pop.hubs, strict=True)]])
        keep = src != dst
        key = np.unique(src[keep] * pop.n + dst[keep])
        src, dst = key // pop.n, key % pop.n
        lo = np.maximum(pop.created[src], pop.created[dst])
        t = lo + ((end - lo) * rng.beta(1.0, 3.0, len(src))).astype(np.int64)
        prot = pop.protected[dst]
        planted_dst = pop.planted[dst]
        for s, d, tt, p, pl in zip(src.tolist(), dst.tolist(), t.tolist(), prot.tolist(), planted_dst.tolist(), strict=True):
            if p:
                # outsiders asking to follow a planted (protected) member are rarely let in
                request_events(sink, rng, account_id(s), account_id(d), tt, 0.15 if pl else 0.8, 0.45 if pl else 0.1)
            else:
                sink.emit("follow", tt, {"src": account_id(s), "dst": account_id(d)})
        n_edges += len(src)
        tick(len(srcs))
    return n_edges


def _tag_sampler(rng: np.random.Generator, n: int) -> np.ndarray:
    z = 1.0 / np.arange(1, len(vocab.BENIGN_HASHTAGS) + 1) ** 1.1
    return rng.choice(len(vocab.BENIGN_HASHTAGS), size=n, p=z / z.sum())


def posts(
    sink: EventSink,
    rng: np.random.Generator,
    pop: Population,
    start: int,
    end: int,
    mean_posts: float,
    pool: list[MediaFile],
    decoys: dict[int, str],
    tick: Callable[[int], None],
) -> tuple[BackgroundPosts, int]:
    """All background posts; decoys maps an account to a signal hashtag it uses innocently once."""
    authors_all = np.flatnonzero(~pop.planted)
    act = pop.activity[authors_all]
    counts = rng.poisson(mean_posts * act / act.mean())
    for a in decoys:  # a decoy posts at least once
        counts[np.searchsorted(authors_all, a)] = max(1, counts[np.searchsorted(authors_all, a)])
    author = np.repeat(authors_all, counts)
    n = len(author)
    lo = np.maximum(pop.created[author], start)
    t = lo + ((end - lo) * rng.random(n)).astype(np.int64)
    kind = rng.choice(4, size=n, p=[0.72, 0.15, 0.08, 0.05])  # original, reply, repost, quote
    orig = np.flatnonzero(kind == 0)
    if len(orig) == 0:
        kind[:] = 0
        orig = np.arange(n)
    # targets of replies/reposts/quotes: originals by the same community (80%) or anyone
    o_comm = pop.community[author[orig]]
    o_sort = orig[np.argsort(o_comm, kind="stable")]
    ccount = np.bincount(o_comm, minlength=int(pop.community.max()) + 1)
    cend = np.cumsum(ccount)
    cstart = cend - ccount
    target = np.full(n, -1, np.int64)
    ref = np.flatnonzero(kind != 0)
    c = pop.community[author[ref]]
    has = ccount[c] > 0
    local = (rng.random(len(ref)) < 0.8) & has
    pick = np.where(local, cstart[c] + (rng.random(len(ref)) * np.maximum(ccount[c], 1)).astype(np.int64), 0)
    target[ref] = np.where(local, o_sort[np.minimum(pick, len(o_sort) - 1)], orig[rng.integers(0, len(orig), len(ref))])
    t[ref] = np.minimum(np.maximum(t[ref], t[target[ref]] + rng.integers(60, 2 * DAY, len(ref))), end)
    # hashtags, mentions, media, text
    tag1 = _tag_sampler(rng, n)
    tag2 = _tag_sampler(rng, n)
    ntags = rng.choice(3, size=n, p=[0.45, 0.4, 0.15])
    mention = np.where(rng.random(n) < 0.1, pop.in_community(rng, pop.community[author]), -1)
    media = np.where(rng.random(n) < 0.25, rng.integers(0, max(1, len(pool)), n), -1) if pool else np.full(n, -1)
    text = rng.integers(0, len(vocab.BENIGN_POSTS), n)
    rtext = rng.integers(0, len(vocab.BENIGN_REPLIES), n)
    decoy_first: dict[int, str] = dict(decoys)
    used_decoys: dict[int, str] = {}
    for i in range(n):
        a = int(author[i])
        k = int(kind[i])
        data: dict = {"id": post_id(i), "author_id": account_id(a), "created_at": None, "lang": "en"}
        tags: list[str] = []
        if k == 0 or k == 3:
            nt = int(ntags[i])
            if nt >= 1:
                tags.append(vocab.BENIGN_HASHTAGS[tag1[i]])
            if nt >= 2 and tag2[i] != tag1[i]:
                tags.append(vocab.BENIGN_HASHTAGS[tag2[i]])
            body = vocab.BENIGN_POSTS[text[i]]
        else:
            body = vocab.BENIGN_REPLIES[rtext[i]]
        if k != 2 and a in decoy_first:
            tags.append(decoy_first.pop(a))
            used_decoys[a] = tags[-1]
        tt = int(t[i])
        data["created_at"] = sink._iso(tt)
        if k == 2:
            data = {"id": post_id(i), "author_id": account_id(a), "created_at": data["created_at"], "repost_of": post_id(int(target[i]))}
        else:
            data["text"] = body + "".join(f" #{x}" for x in tags)
            data["hashtags"] = tags
            if k == 1:
                data["reply_to"] = post_id(int(target[i]))
                data["mentions"] = [account_id(int(author[target[i]]))]
            elif k == 3:
                data["quote_of"] = post_id(int(target[i]))
            if mention[i] >= 0 and mention[i] != a and k != 1:
                data["mentions"] = [account_id(int(mention[i]))]
            if media[i] >= 0 and k in (0, 3):
                data["media"] = [pool[int(media[i])].media(f"m{post_id(i)[1:]}")]
            data["visibility"] = "followers" if pop.protected[a] else "public"
        sink.emit("post", tt, data)
        if i % 50_000 == 0:
            tick(0)
    decoys.clear()
    decoys.update(used_decoys)  # only the decoys that really used their hashtag
    return BackgroundPosts(author[orig], t[orig], orig), n


def likes(
    sink: EventSink, rng: np.random.Generator, pop: Population, bp: BackgroundPosts, end: int, mean: float,
    tick: Callable[[int], None],
) -> int:
    likers_all = np.flatnonzero(~pop.planted)
    if len(bp.index) == 0:
        return 0
    act = pop.activity[likers_all]
    total = 0
    # popularity of a post follows its author's weight
    w = pop.weight[bp.author]
    cum = np.cumsum(w)
    for c0 in range(0, len(likers_all), CHUNK):
        ls = likers_all[c0 : c0 + CHUNK]
        cnt = rng.poisson(mean * act[c0 : c0 + CHUNK] / act.mean())
        liker = np.repeat(ls, cnt)
        pos = np.minimum(np.searchsorted(cum, rng.random(len(liker)) * cum[-1], side="right"), len(cum) - 1)
        key = np.unique(liker * len(cum) + pos)
        liker, pos = key // len(cum), key % len(cum)
        t = np.minimum(np.maximum(bp.time[pos], pop.created[liker]) + rng.integers(60, 3 * DAY, len(pos)), end)
        for a, p, tt in zip(liker.tolist(), pos.tolist(), t.tolist(), strict=True):
            sink.emit("like", tt, {"account_id": account_id(a), "post_id": post_id(int(bp.index[p]))})
        total += len(liker)
        tick(0)
    return total
