"""Hashtags: Unicode extraction (Latin, Arabic, ...), normalization, co-use statistics.

`propose_signal_hashtags` looks at which accounts use which tags and proposes the tags used
mostly by flagged accounts as new signal hashtags. It only proposes: an operator confirms a
proposal before it joins a term list.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .normalize import fold

# letters, digits, marks (Arabic tashkeel), '_' and the zero-width (non-)joiners inside a tag
_TAG_BODY = r"[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u200c\u200d]"
HASHTAG_RE = re.compile(r"(?<![\w&/#＃])[#＃](" + _TAG_BODY + r"{1,139})")


@dataclass(frozen=True, slots=True)
class Hashtag:
    tag: str  # normalized, without '#'
    raw: str  # as written, without '#'
    start: int  # span of '#tag' in the text
    end: int


def normalize_tag(tag: str) -> str:
    """Fold a tag (case, accents, confusables, Arabic forms, invisibles); no '#'."""
    return fold(tag.lstrip("#＃")).replace(" ", "")


def extract_hashtags(text: str) -> list[Hashtag]:
    out = []
    for m in HASHTAG_RE.finditer(text):
        raw = m.group(1)
        if not any(c.isalpha() for c in raw):
            continue  # "#1" is a number, not a tag
        out.append(Hashtag(tag=normalize_tag(raw), raw=raw, start=m.start(), end=m.end()))
    return out


@dataclass
class Proposal:
    tag: str
    accounts: int  # distinct accounts using the tag
    flagged_accounts: int
    share: float  # flagged_accounts / accounts
    lower_bound: float  # Wilson 95% lower bound of the share
    lift: float  # share / base rate of flagged accounts among all tag users
    co_used_with: list[tuple[str, int]] = field(default_factory=list)  # known signal tags, by accounts

    def as_dict(self) -> dict:
        return {
            "tag": self.tag, "accounts": self.accounts, "flagged_accounts": self.flagged_accounts,
            "share": round(self.share, 4), "lower_bound": round(self.lower_bound, 4), "lift": round(self.lift, 3),
            "co_used_with": [list(x) for x in self.co_used_with],
        }


def _wilson_lower(k: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 0.0
    p = k / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / den)


def propose_signal_hashtags(
    rows: Iterable[tuple[str, Iterable[str], bool]],
    known: Iterable[str] = (),
    min_accounts: int = 5,
    min_lower_bound: float = 0.6,
    limit: int = 50,
) -> list[Proposal]:
    """Propose tags used mostly by flagged accounts.

    rows: (account_id, tags the account used, whether the account is flagged); an account may
    appear in several rows. known: tags already on the list (not proposed again, but reported as
    co-used). A tag is proposed when at least `min_accounts` distinct accounts used it and the
    Wilson lower bound of the flagged share is at least `min_lower_bound`. Best first.
    """
    known_n = {normalize_tag(k) for k in known}
    acc_tags: dict[str, set[str]] = defaultdict(set)
    flagged: dict[str, bool] = {}
    for acc, tags, is_flagged in rows:
        acc_tags[acc].update(normalize_tag(t) for t in tags if t)
        flagged[acc] = flagged.get(acc, False) or bool(is_flagged)
    users: Counter[str] = Counter()
    flagged_users: Counter[str] = Counter()
    co: dict[str, Counter[str]] = defaultdict(Counter)
    for acc, tags in acc_tags.items():
        ks = tags & known_n
        for t in tags:
            users[t] += 1
            if flagged[acc]:
                flagged_users[t] += 1
            for k in ks:
                if k != t:
                    co[t][k] += 1
    with_tags = [a for a, ts in acc_tags.items() if ts]
    base = (sum(flagged[a] for a in with_tags) / len(with_tags)) if with_tags else 0.0
    out = []
    for t, n in users.items():
        if t in known_n or n < min_accounts or not t:
            continue
        k = flagged_users[t]
        lb = _wilson_lower(k, n)
        if lb < min_lower_bound:
            continue
        share = k / n
        out.append(Proposal(tag=t, accounts=n, flagged_accounts=k, share=share, lower_bound=lb,
                            lift=share / base if base else math.inf, co_used_with=co[t].most_common(5)))
    out.sort(key=lambda p: (-p.lower_bound, -p.accounts, p.tag))
    return out[:limit]
