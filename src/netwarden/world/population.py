"""Who is on the platform: communities, popularity, creation times, handles, and weighted samplers.

Popularity weights are heavy-tailed (Pareto), so follow targets drawn in proportion to weight give a
power-law in-degree; most follows stay inside the follower's community, some cross; the heaviest
accounts are celebrity hubs that many accounts follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import vocab

DAY = 86400


@dataclass
class Population:
    n: int
    community: np.ndarray  # int32 per account
    weight: np.ndarray  # float64 popularity per account
    activity: np.ndarray  # float64 posting / liking activity per account
    created: np.ndarray  # int64 creation time (unix seconds)
    protected: np.ndarray  # bool
    hubs: np.ndarray  # account indices of celebrity hubs, most popular first
    planted: np.ndarray  # bool: member (or re-registration) of a planted network
    _order: np.ndarray | None = None
    _cum: np.ndarray | None = None
    _cstart: np.ndarray | None = None
    _cend: np.ndarray | None = None
    _bg: np.ndarray | None = None

    @classmethod
    def build(cls, rng: np.random.Generator, n: int, start: int, p_protected: float) -> Population:
        n_comm = max(4, n // 250)
        # Zipf-ish community sizes.
        csize = 1.0 / np.arange(1, n_comm + 1) ** 0.6
        community = rng.choice(n_comm, size=n, p=csize / csize.sum()).astype(np.int32)
        weight = rng.pareto(1.3, n) + 1.0
        activity = np.minimum(rng.lognormal(0.0, 1.0, n), 30.0)
        created = (start - rng.integers(0, 540 * DAY, n)).astype(np.int64)
        protected = rng.random(n) < p_protected
        n_hubs = int(min(40, max(3, n // 5000)))
        hubs = np.argsort(-weight, kind="stable")[:n_hubs]
        weight[hubs] *= 20.0
        protected[hubs] = False
        pop = cls(n, community, weight, activity, created, protected, hubs, np.zeros(n, bool))
        pop.reindex()
        return pop

    def reindex(self) -> None:
        """(Re)build the weighted samplers; call after marking planted accounts."""
        self._order = np.argsort(self.community, kind="stable")
        self._cum = np.cumsum(self.weight[self._order])
        counts = np.bincount(self.community, minlength=int(self.community.max()) + 1)
        self._cend = np.cumsum(counts)
        self._cstart = self._cend - counts
        self._bg = np.flatnonzero(~self.planted)

    def in_community(self, rng: np.random.Generator, comms: np.ndarray) -> np.ndarray:
        """One account per entry of comms, drawn from that community in proportion to weight."""
        cum = self._cum
        lo = np.where(self._cstart[comms] > 0, cum[np.maximum(self._cstart[comms] - 1, 0)], 0.0)
        hi = cum[self._cend[comms] - 1]
        pos = np.searchsorted(cum, lo + rng.random(len(comms)) * (hi - lo), side="right")
        return self._order[np.minimum(pos, self.n - 1)]

    def popular(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k accounts drawn from the whole platform in proportion to weight."""
        pos = np.searchsorted(self._cum, rng.random(k) * self._cum[-1], side="right")
        return self._order[np.minimum(pos, self.n - 1)]

    def background(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k uniformly random accounts that are not planted."""
        return self._bg[rng.integers(0, len(self._bg), k)]


def make_handles(rng: np.random.Generator, n: int) -> list[str]:
    """n unique, ordinary-looking handles."""
    adj = rng.integers(0, len(vocab.ADJECTIVES), n)
    noun = rng.integers(0, len(vocab.NOUNS), n)
    num = rng.integers(0, 10_000, n)
    style = rng.integers(0, 4, n)
    seen: set[str] = set()
    out: list[str] = []
    for i in range(n):
        a, b = vocab.ADJECTIVES[adj[i]], vocab.NOUNS[noun[i]]
        s = int(style[i])
        h = f"{a}_{b}{num[i]}" if s == 0 else f"{a}{b}{num[i]}" if s == 1 else f"{b}.{a}{num[i] % 100}" if s == 2 else f"the{b}{num[i]}"
        if h in seen:
            h = f"{h}_{i}"
        seen.add(h)
        out.append(h)
    return out


def make_handle(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        h = f"{vocab.ADJECTIVES[rng.integers(len(vocab.ADJECTIVES))]}{vocab.NOUNS[rng.integers(len(vocab.NOUNS))]}_{rng.integers(10_000, 99_999)}"
        if h not in taken:
            taken.add(h)
            return h


def handle_variant(rng: np.random.Generator, old: str, taken: set[str]) -> str:
    """A handle of the same family as `old` (edit distance 1-2): a digit added, changed or an underscore."""
    while True:
        u = rng.random()
        d = str(rng.integers(0, 10))
        if u < 0.45:
            h = old + d
        elif u < 0.7 and old[-1:].isdigit():
            h = old[:-1] + d
        elif u < 0.85:
            h = old + "_" + d
        else:
            h = old.replace("_", "") + d if "_" in old else "x" + old
        if h not in taken and h != old:
            taken.add(h)
            return h


def contact_handle(rng: np.random.Generator, platform: str, taken: set[str]) -> str:
    """A new invented off-platform handle; WhatsApp gets a number in the fictional 555-01xx block."""
    syl = vocab.HANDLE_SYLLABLES
    while True:
        if platform == "whatsapp":
            h = f"+1 {rng.integers(201, 990)} 555 01{rng.integers(0, 100):02d}"
        else:
            parts = "".join(syl[i] for i in rng.integers(0, len(syl), int(rng.integers(2, 4))))
            h = f"{parts}{rng.integers(10, 999)}"
        if h not in taken:
            taken.add(h)
            return h


def ip(rng: np.random.Generator) -> str:
    return f"{vocab.IP_PREFIXES[rng.integers(len(vocab.IP_PREFIXES))]}{rng.integers(1, 255)}"
