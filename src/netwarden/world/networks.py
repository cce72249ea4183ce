"""Planted networks: who is in them, what each member does, and the truth about it.

A network is a few dozen to a few hundred accounts that behave as the story in docs/worlds.md:
posters re-post "known" media (abstract stand-ins), commenters reply in English, Arabic and
Spanish placeholder text, silent members only follow; about a fifth are protected and let members in
through follow requests; bios point off-platform, some to one shared handle; some members are
suspended and come back under a new handle. A `camouflage` fraction of every member's follows and
interactions goes to ordinary accounts (popular ones and random ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import vocab
from .background import BackgroundPosts, request_events
from .ids import account_id, post_id
from .images import VARIANT_KINDS, MediaFile, MediaWriter, known_image, pdq_hex
from .params import WorldParams
from .population import DAY, Population, contact_handle
from .writer import EventSink

POSTER, COMMENTER, SILENT = "poster", "commenter", "silent"


@dataclass
class KnownItem:
    label: str
    original: MediaFile
    variants: list[tuple[str, MediaFile, int]]  # (kind, file, PDQ distance to the original)


@dataclass
class Member:
    idx: int
    role: str
    protected: bool
    created: int
    end: int
    contacts: list[tuple[str, str]] = field(default_factory=list)
    avatar: MediaFile | None = None
    bio: str = ""
    suspended_at: int | None = None
    replaces: int | None = None  # index of the suspended account this one re-registers
    name: str | None = None  # display name (rich profiles; else the generic one)
    bio_line: str | None = None  # the personal line of the bio (rich profiles)
    low_tie: bool = False  # only 2-3 ties inside the network


@dataclass
class Network:
    id: str
    camouflage: float
    hashtags: list[str]
    members: list[Member]
    shared: dict  # {"platform", "handle", "members": [idx]}
    known: list[KnownItem]
    reregistrations: list[dict] = field(default_factory=list)
    media_posts: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    style: str = "mixed"  # where camouflage goes: mixed | random | popular | community
    community: int | None = None  # the ordinary community a "community" network blends into
    unwitting: list[int] = field(default_factory=list)  # ordinary accounts following several members


def rich_name(rng: np.random.Generator) -> str:
    """A display name as people write them: a full name (1,200 forms, so some are common), an initial,
    a nickname with a number, or a word pair; sometimes an emoji (which normalization drops)."""
    first = vocab.FIRST_NAMES[rng.integers(len(vocab.FIRST_NAMES))]
    sur = vocab.SURNAMES[rng.integers(len(vocab.SURNAMES))]
    decor = vocab.NAME_DECOR[rng.integers(len(vocab.NAME_DECOR))]
    u = rng.random()
    if u < 0.35:
        return f"{first} {sur}{decor}"
    if u < 0.5:
        return f"{first} {sur[0]}.{decor}"
    if u < 0.8:
        return f"{first.lower()}_{sur.lower()}{rng.integers(10, 100)}{decor}"
    adj = vocab.ADJECTIVES[rng.integers(len(vocab.ADJECTIVES))]
    noun = vocab.NOUNS[rng.integers(len(vocab.NOUNS))]
    return f"{first} the {adj} {noun}{decor}"


def bio_line(rng: np.random.Generator) -> str:
    """A personal bio line from a space of 168,000 (some lines still repeat on a large platform)."""
    o, m, c, pl = (v[rng.integers(len(v))] for v in (vocab.BIO_OPENERS, vocab.BIO_MIDDLES, vocab.BIO_CLOSERS,
                                                      vocab.BIO_PLACES))
    return f"{o} {m}" + (f" {pl}" if pl else "") + (f", {c}" if c else "")


def retyped(rng: np.random.Generator, line: str) -> str:
    """The same line typed again: case, an emoji or punctuation changed (equal once normalized)."""
    u = rng.random()
    if u < 0.3:
        return line.capitalize()
    if u < 0.55:
        return line + " " + ("✨", "🌙", "🌿", "🖤")[rng.integers(4)]
    if u < 0.75:
        return line.replace(",", " -")
    return line


def _bio(rng: np.random.Generator, contacts: list[tuple[str, str]], tag: str | None, line: str | None = None) -> str:
    parts = []
    if rng.random() < 0.5 and line is None:
        parts.append(vocab.BENIGN_BIOS[rng.integers(len(vocab.BENIGN_BIOS))])
    if line is not None:
        parts.append(line)
    for platform, handle in contacts:
        tpl = vocab.BIO_TEMPLATES[platform]
        parts.append(tpl[rng.integers(len(tpl))].format(h=handle))
    if tag:
        parts.append(f"#{tag}")
    return " | ".join(p for p in parts if p)


def make_known(rng: np.random.Generator, mw: MediaWriter, start_no: int, n: int) -> list[KnownItem]:
    items = []
    for j in range(n):
        no = start_no + j
        img = known_image(rng)
        label = f"known-{no:04d}"
        orig = mw.save(img, f"media/known/{label}.png", "PNG", with_pdq=True)
        opdq = orig.pdq or pdq_hex(img)[0]
        variants = []
        for kind in VARIANT_KINDS:
            mf, dist = mw.known_variant(rng, img, opdq, f"media/posted/{label}-{kind}.jpg", kind)
            variants.append((kind, mf, dist))
        items.append(KnownItem(label, orig, variants))
    return items


def plan(
    rng: np.random.Generator, pop: Population, p: WorldParams, start: int, end: int, mw: MediaWriter,
    avatar_pool: list[MediaFile], contact_taken: set[str], rx: np.random.Generator | None = None,
) -> list[Network]:
    """Choose members, roles, protection, contacts, avatars and re-registrations; mark them planted.

    rx: the random stream of the hiding options (styles, low-tie members, rich profiles, carried
    traits), apart from `rng` so that a world without them is the same as before they existed."""
    from .images import avatar_image
    from .params import REREG_TRAITS

    rx = rx if rx is not None else np.random.default_rng(0)
    comm_sizes = np.bincount(pop.community)

    hubs = set(pop.hubs.tolist())
    candidates = [int(i) for i in rng.permutation(pop.n) if int(i) not in hubs]
    cursor = 0
    nets: list[Network] = []
    used_tags = list(vocab.SIGNAL_HASHTAGS)
    known_no = 0
    for k in range(p.n_networks()):
        lo, hi = p.network_size
        total = int(rng.integers(lo, hi + 1))  # members, counting the re-registered accounts
        size = total - round(total * p.reregistered_fraction / (1 + p.reregistered_fraction))
        idxs = candidates[cursor : cursor + size]
        cursor += size
        n_post = round(size * p.role_mix[0])
        n_comm = round(size * p.role_mix[1])
        roles = [POSTER] * n_post + [COMMENTER] * n_comm + [SILENT] * (size - n_post - n_comm)
        roles = [roles[i] for i in rng.permutation(size)]
        prot = set(rng.choice(size, round(size * p.protected_fraction), replace=False).tolist())
        tags = [used_tags[(3 * k + j) % len(used_tags)] for j in range(3)]
        members = [
            Member(i, roles[j], j in prot, int(start - rng.integers(0, 200 * DAY)), end)
            for j, i in enumerate(idxs)
        ]
        talkers = [m for m in members if m.role != SILENT]
        if p.rich_profiles:
            for m in members:
                m.name = rich_name(rx)
                m.bio_line = bio_line(rx) if m.role != SILENT or rx.random() < 0.5 else None
        if p.low_tie_fraction > 0:
            for m in members:
                m.low_tie = bool(rx.random() < p.low_tie_fraction)
        # the shared off-platform handle
        platform = vocab.PLATFORMS[rng.integers(len(vocab.PLATFORMS))]
        shared_handle = contact_handle(rng, platform, contact_taken)
        n_shared = min(len(talkers), round(size * p.shared_handle_fraction))
        shared_members = [talkers[i] for i in sorted(rng.choice(len(talkers), n_shared, replace=False).tolist())]
        for m in shared_members:
            m.contacts.append((platform, shared_handle))
        for m in talkers:
            if not m.contacts or rng.random() < 0.3:
                if rng.random() < 0.65 or not m.contacts:
                    pf = vocab.PLATFORMS[rng.integers(len(vocab.PLATFORMS))]
                    m.contacts.append((pf, contact_handle(rng, pf, contact_taken)))
        for m in members:
            m.avatar = avatar_pool[rng.integers(len(avatar_pool))] if avatar_pool and rng.random() < 0.7 else None
        # re-registrations after suspension
        n_rereg = min(len(talkers), total - size)
        rereg = []
        for j in sorted(rng.choice(len(talkers), n_rereg, replace=False).tolist()):
            old = talkers[j]
            carried = [c for c in ("handle", "avatar", "follows") if rng.random() < 0.7]
            if len(carried) < 2 and rng.random() < 0.6:
                carried = sorted({*carried, ("handle", "avatar", "follows")[rng.integers(3)]}, key=("handle", "avatar", "follows").index)
            if not carried:
                carried = ["handle"]
            if p.rereg_carry == "traits":  # 1-3 of the six traits, the rest new
                k_tr = int(rx.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
                carried = [REREG_TRAITS[i] for i in sorted(rx.choice(len(REREG_TRAITS), k_tr, replace=False).tolist())]
            t_s = int(start + rng.uniform(0.3, 0.7) * (end - start))
            new_idx = candidates[cursor]
            cursor += 1
            new = Member(new_idx, old.role, bool(rng.random() < p.protected_fraction), t_s + int(rng.integers(DAY, 10 * DAY)), end)
            old.suspended_at = t_s
            old.end = t_s
            new.replaces = old.idx
            if "avatar" in carried:
                old.avatar = mw.save(avatar_image(rng), f"media/avatars/u{old.idx}.png", "PNG")
                new.avatar = old.avatar
            else:
                new.avatar = avatar_pool[rng.integers(len(avatar_pool))] if avatar_pool and rng.random() < 0.5 else None
            if "handle" in carried or "contact" in carried:
                new.contacts = list(old.contacts)
            else:
                pf = vocab.PLATFORMS[rng.integers(len(vocab.PLATFORMS))]
                new.contacts = [(pf, contact_handle(rng, pf, contact_taken))] if rng.random() < 0.5 else []
            if p.rich_profiles:
                new.name = old.name if "name" in carried else rich_name(rx)
                if "bio" in carried and old.bio_line:
                    new.bio_line = retyped(rx, old.bio_line)
                else:
                    new.bio_line = bio_line(rx)
            rereg.append({"old": old.idx, "new": new_idx, "carried": carried, "suspended_at": t_s, "created_at": new.created})
            members.append(new)
        shared = {"platform": platform, "handle": shared_handle, "members": [m.idx for m in members if (platform, shared_handle) in m.contacts]}
        for m in members:
            tag = tags[0] if m.role == POSTER and rng.random() < 0.3 else None
            m.bio = "" if m.role == SILENT else _bio(rng, m.contacts, tag, m.bio_line)
            if m.role == SILENT and rng.random() < 0.5:
                m.bio = vocab.BENIGN_BIOS[rng.integers(len(vocab.BENIGN_BIOS))]
            if m.role == SILENT and m.bio_line:
                m.bio = m.bio_line
        known = make_known(rng, mw, known_no, p.known_per_network) if p.media else []
        known_no += len(known)
        cam = p.camouflage[k % len(p.camouflage)]
        net = Network(f"net-{k + 1:02d}", cam, tags, members, shared, known, rereg)
        net.style = p.camouflage_style[k % len(p.camouflage_style)]
        if net.style == "community":  # one ordinary community of some size, that the network blends into
            big = np.flatnonzero(comm_sizes >= np.quantile(comm_sizes, 0.5))
            net.community = int(big[rx.integers(len(big))])
        for m in members:
            pop.planted[m.idx] = True
            pop.protected[m.idx] = m.protected
            pop.created[m.idx] = m.created
            pop.weight[m.idx] = 1.0
        nets.append(net)
    pop.reindex()
    return nets


class PostCounter:
    def __init__(self, start: int):
        self.next = start

    def __call__(self) -> int:
        self.next += 1
        return self.next - 1


def _ratio(n: int, c: float, cap: int = 400) -> int:
    """How many camouflage items go with n network items so that they make fraction c of the whole."""
    return min(cap, round(n * c / (1 - c))) if c > 0 else 0


def activity(
    sink: EventSink, rng: np.random.Generator, pop: Population, net: Network, bp: BackgroundPosts,
    start: int, end: int, new_post: PostCounter, benign_pool: list[MediaFile],
) -> None:
    """Emit every follow, post, reply, repost and like of one network's members."""
    c = net.camouflage
    by_idx = {m.idx: m for m in net.members}
    ids = [m.idx for m in net.members]
    size = len(ids)
    counts = {"follows": 0, "requests": 0, "posts": 0, "replies": 0, "likes": 0, "camouflage_follows": 0,
              "camouflage_interactions": 0, "internal_interactions": 0}
    followees: dict[int, list[int]] = {}

    def window(a: Member, b: Member | None) -> tuple[int, int]:
        lo = max(a.created, b.created if b else 0, start - 60 * DAY)
        hi = min(a.end, b.end if b else end)
        return lo, hi

    def follow(a: Member, dst: int, internal: bool) -> None:
        b = by_idx.get(dst)
        lo, hi = window(a, b)
        if hi <= lo:
            return
        t = lo + int((hi - lo) * rng.beta(1.0, 2.5))
        if pop.protected[dst]:
            request_events(sink, rng, account_id(a.idx), account_id(dst), t, 0.9 if internal else 0.75, 0.07 if internal else 0.1)
            counts["requests"] += 1
        else:
            sink.emit("follow", t, {"src": account_id(a.idx), "dst": account_id(dst)})
        counts["follows"] += 1
        followees.setdefault(a.idx, []).append(dst)

    def outside(k: int) -> list[int]:
        if k <= 0:
            return []
        if net.style == "random":
            picks = pop.background(rng, k)
        elif net.style == "popular":
            picks = pop.popular(rng, k)
        elif net.style == "community":
            picks = pop.in_community(rng, np.full(k, net.community, dtype=np.int64))
        else:
            pops = pop.popular(rng, k)
            rand = pop.background(rng, k)
            picks = np.where(rng.random(k) < 0.5, pops, rand)
        return [int(x) for x in dict.fromkeys(picks.tolist()) if not pop.planted[x]]

    # ordinary posts the camouflage likes and replies go to, by style
    if net.style == "community" and len(bp.index):
        cam_posts = np.flatnonzero(pop.community[bp.author] == net.community)
        cam_posts = cam_posts if len(cam_posts) else np.arange(len(bp.index))
    else:
        cam_posts = None
    if net.style == "popular" and len(bp.index):
        pw = np.cumsum(pop.weight[bp.author])
    else:
        pw = None

    def cam_sample(k: int) -> np.ndarray:
        if cam_posts is not None:
            return cam_posts[rng.integers(0, len(cam_posts), k)]
        if pw is not None:
            return np.minimum(np.searchsorted(pw, rng.random(k) * pw[-1], side="right"), len(pw) - 1)
        return bp.sample(rng, k)

    # follows: internal (dense-ish, often mutual) and camouflage; new accounts may copy the old ones'
    edges: set[tuple[int, int]] = set()
    originals = [m for m in net.members if m.replaces is None]
    for m in originals:
        k_int = int(np.clip(round(size * rng.uniform(0.12, 0.3)), 4, size - 1))
        if m.low_tie:
            k_int = int(rng.integers(2, 4))
        picks = [ids[d] for d in rng.choice(size, k_int + 1, replace=False).tolist() if ids[d] != m.idx]
        edges.update((m.idx, d) for d in picks[:k_int])
    low = {m.idx for m in net.members if m.low_tie}
    if low:  # few members follow a low-tie member either: at most two
        inbound: dict[int, int] = {}
        for a, b in sorted(edges):
            if b in low and a not in low:
                inbound[b] = inbound.get(b, 0) + 1
                if inbound[b] > 2:
                    edges.discard((a, b))
    for a, b in sorted(edges):
        if (b, a) not in edges and rng.random() < 0.4 and not ({a, b} & low):
            edges.add((b, a))
    for rr in net.reregistrations:  # some members follow the new account back, after it appears
        for a, b in sorted(edges):
            if b == rr["old"] and rng.random() < 0.6:
                edges.add((a, rr["new"]))
    outs: dict[int, list[int]] = {}
    for a, b in sorted(edges):
        outs.setdefault(a, []).append(b)
    for m in originals:
        internal = outs.get(m.idx, [])
        for d in internal:
            follow(m, d, True)
        ext = outside(_ratio(len(internal), c, 2000))
        for d in ext:
            follow(m, d, False)
        counts["camouflage_follows"] += len(ext)
    for rr in net.reregistrations:
        old, new = by_idx[rr["old"]], by_idx[rr["new"]]
        prev = [d for d in followees.get(old.idx, []) if d != new.idx]
        if "follows" in rr["carried"]:
            keep = [d for d in prev if rng.random() < 0.85]
            internal = [d for d in keep if d in by_idx]
            ext = [d for d in keep if d not in by_idx]
        else:
            internal = [ids[d] for d in rng.choice(size, min(size - 1, max(4, len(prev) // 3)), replace=False).tolist()]
            internal = [d for d in internal if d not in (old.idx, new.idx)]
            ext = outside(_ratio(len(internal), c, 2000))
        for d in internal:
            follow(new, d, True)
        for d in ext:
            follow(new, d, False)
        counts["camouflage_follows"] += len(ext)
        sink.emit("account_state", old.suspended_at or end, {
            "account_id": account_id(old.idx), "state": "suspended",
            "reason": vocab.SUSPENSION_REASONS_NETWORK[rng.integers(len(vocab.SUSPENSION_REASONS_NETWORK))]})
    # ordinary accounts that follow several members without knowing what they follow
    for u in net.unwitting:
        lo_u = int(pop.created[u])
        for j in rng.choice(size, min(size, int(rng.integers(3, 13))), replace=False).tolist():
            m = by_idx[ids[j]]
            lo, hi = max(m.created, lo_u), m.end
            if hi > lo:
                t = lo + int((hi - lo) * rng.random())
                if m.protected:
                    request_events(sink, rng, account_id(u), account_id(m.idx), t, 0.5, 0.3)
                else:
                    sink.emit("follow", t, {"src": account_id(u), "dst": account_id(m.idx)})
    # a few ordinary accounts follow members too (outsiders asking a protected member mostly wait)
    for m in net.members:
        for s in pop.background(rng, int(rng.poisson(1.5))).tolist():
            lo, hi = max(m.created, int(pop.created[s])), m.end
            if hi > lo:
                t = lo + int((hi - lo) * rng.random())
                if m.protected:
                    request_events(sink, rng, account_id(s), account_id(m.idx), t, 0.15, 0.45)
                else:
                    sink.emit("follow", t, {"src": account_id(s), "dst": account_id(m.idx)})

    # posts of known media by posters
    net_posts: list[tuple[int, int, int]] = []  # (time, post index, author)
    vis = {m.idx: ("followers" if m.protected else "public") for m in net.members}

    def t_in(m: Member) -> int | None:
        lo, hi = max(m.created, start), m.end
        return lo + int((hi - lo) * rng.random()) if hi > lo else None

    def benign_post(m: Member) -> None:
        t = t_in(m)
        if t is None:
            return
        pi = new_post()
        tag = vocab.BENIGN_HASHTAGS[rng.integers(len(vocab.BENIGN_HASHTAGS))]
        data = {"id": post_id(pi), "author_id": account_id(m.idx), "created_at": sink._iso(t),
                "text": f"{vocab.BENIGN_POSTS[rng.integers(len(vocab.BENIGN_POSTS))]} #{tag}", "hashtags": [tag],
                "visibility": vis[m.idx], "lang": "en"}
        if benign_pool and rng.random() < 0.25:
            data["media"] = [benign_pool[rng.integers(len(benign_pool))].media(f"m{post_id(pi)[1:]}")]
        sink.emit("post", t, data)
        counts["posts"] += 1

    for m in net.members:
        if m.role != POSTER:
            continue
        n = int(rng.integers(4, 13))
        for _ in range(n):
            t = t_in(m)
            if t is None:
                break
            pi = new_post()
            tags = [net.hashtags[j] for j in sorted(rng.choice(len(net.hashtags), int(rng.integers(1, 3)), replace=False).tolist())]
            text = vocab.PLACEHOLDER_CAPTIONS[rng.integers(len(vocab.PLACEHOLDER_CAPTIONS))] + "".join(f" #{x}" for x in tags)
            data = {"id": post_id(pi), "author_id": account_id(m.idx), "created_at": sink._iso(t),
                    "text": text, "hashtags": tags, "visibility": vis[m.idx], "lang": "en"}
            net_posts.append((t, pi, m.idx))
            counts["posts"] += 1
            if not net.known:  # a world without media: the caption and hashtags only
                sink.emit("post", t, data)
                continue
            item = net.known[rng.integers(len(net.known))]
            if rng.random() < 0.3:
                kind, mf, dist = "original", item.original, 0
            else:
                kind, mf, dist = item.variants[rng.integers(len(item.variants))]
            mid = f"m{post_id(pi)[1:]}"
            data["media"] = [mf.media(mid)]
            sink.emit("post", t, data)
            net.media_posts.append({"post_id": post_id(pi), "author": account_id(m.idx), "media_id": mid, "label": item.label,
                                    "variant": kind, "uri": mf.uri, "pdq_distance": dist})
        for _ in range(_ratio(n, c, 40)):
            benign_post(m)
    net_posts.sort()

    def reply(m: Member, target: tuple[int, int, int], text: str, lang: str, tags: list[str], internal: bool) -> bool:
        t0, pi_parent, author = target
        lo = max(t0, m.created)
        if lo >= m.end:
            return False
        t = min(m.end, end, lo + int(rng.exponential(8 * 3600)) + 60)
        pi = new_post()
        sink.emit("post", t, {"id": post_id(pi), "author_id": account_id(m.idx), "created_at": sink._iso(t),
                              "text": text + "".join(f" #{x}" for x in tags), "hashtags": tags, "reply_to": post_id(pi_parent),
                              "mentions": [account_id(author)], "visibility": vis[m.idx], "lang": lang})
        counts["replies"] += 1
        counts["internal_interactions" if internal else "camouflage_interactions"] += 1
        return True

    def like(m: Member, t0: int, pi: int, internal: bool) -> None:
        lo = max(t0, m.created)
        if lo >= m.end:
            return
        t = min(m.end, end, lo + int(rng.exponential(12 * 3600)) + 30)
        sink.emit("like", t, {"account_id": account_id(m.idx), "post_id": post_id(pi)})
        counts["likes"] += 1
        counts["internal_interactions" if internal else "camouflage_interactions"] += 1

    langs = [x for x, _ in vocab.COMMENT_LANG_WEIGHTS]
    lw = np.array([w for _, w in vocab.COMMENT_LANG_WEIGHTS])
    for m in net.members:
        if m.role == SILENT or not net_posts:
            continue
        own = [x for x in net_posts if x[2] != m.idx]
        if not own:
            continue
        n_rep = int(rng.integers(5, 15)) if m.role == COMMENTER else int(rng.integers(0, 4))
        done = 0
        for j in rng.choice(len(own), min(n_rep, len(own)), replace=False).tolist():
            lang = langs[rng.choice(len(langs), p=lw / lw.sum())]
            texts = vocab.PLACEHOLDER_COMMENTS[lang]
            tags = [net.hashtags[rng.integers(len(net.hashtags))]] if rng.random() < 0.3 else []
            done += reply(m, own[j], texts[rng.integers(len(texts))], lang, tags, True)
        n_like = min(len(own), int(rng.integers(5, 20)))
        for j in rng.choice(len(own), n_like, replace=False).tolist():
            like(m, own[j][0], own[j][1], True)
        if m.role == POSTER:
            for j in rng.choice(len(own), min(len(own), int(rng.integers(0, 3))), replace=False).tolist():
                t0, pi_parent, _ = own[j]
                lo = max(t0, m.created)
                if lo < m.end:
                    t = min(m.end, end, lo + int(rng.exponential(6 * 3600)) + 60)
                    pi = new_post()
                    sink.emit("post", t, {"id": post_id(pi), "author_id": account_id(m.idx), "created_at": sink._iso(t),
                                          "repost_of": post_id(pi_parent)})
                    counts["internal_interactions"] += 1
        # camouflage interactions on ordinary posts
        if len(bp.index):
            for j in cam_sample(_ratio(n_like, c)).tolist():
                like(m, int(bp.time[j]), int(bp.index[j]), False)
            for j in cam_sample(_ratio(done, c)).tolist():
                reply(m, (int(bp.time[j]), int(bp.index[j]), int(bp.author[j])),
                      vocab.BENIGN_REPLIES[rng.integers(len(vocab.BENIGN_REPLIES))], "en", [], False)
        if m.role == COMMENTER:
            for _ in range(_ratio(2, c, 20)):
                benign_post(m)
    net.counts = counts
