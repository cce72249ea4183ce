"""Ban evasion: link accounts created after a suspension to the suspended account they replace.

Every suspended account is on a watch list of what identified it (`WatchList`): its display name
and its bio, normalized; its handle and the handle's family (letters only, then edit distance);
its avatar and profile header; its off-platform contacts; the devices it signed in from; the accounts it followed and
the accounts that followed it; its hashtags. An account created after a suspension (within
``WINDOW_DAYS``) is compared with the suspended accounts it shares at least one *block* with, so
that no single identifier decides whether a pair is looked at:

- exact blocks: an off-platform contact, a rare avatar or header (SHA-256), a rare normalized display name,
  a handle family, a rare device;
- near-duplicate blocks (datasketch MinHash LSH): bio shingles (words and word pairs of the bio
  without its contacts, links and hashtags), the followed set, the follower set.

Each pair is scored by independent evidence, each with its weight and a reason:

- the same contact (a phone number is one contact whichever app the bio names with it):
  ``1 / (holders - 1)`` (a network's shared handle says "same network", a personal one "same person"), and at least ``CONTACT_BACKED`` when the pair also shares one of the
  person's own traits (avatar, header, device, name, bio, handle family): a network's contact says
  "this network", the trait says "this member", and the two together are stronger than their sum;
  the same rare avatar or header: the same image file (SHA-256) ``AVATAR_UNIQUE / (holders - 1)`` for
  the accounts that show it (shown by exactly the pair, the suspended account and the new one, it
  weighs like a shared device and is a link alone; shown by 3-5 it says "one of these", like a
  network's contact; by more, a stock image, nothing), a near copy (PDQ within ``AVATAR_PDQ``) the
  same over the holders of both files, at most ``WEIGHTS["avatar"]`` (copies not byte for byte the
  same are not counted);
  the same device;
- the same display name, weighted by its rarity among the accounts that could be the suspended one
  (``1 - log(n) / log(NAME_COMMON)`` for n accounts created after a suspension showing it: a name
  one of them shows weighs 1, one that ``NAME_COMMON`` or more show nothing);
- the same bio (Jaccard of shingles >= ``BIO_JACCARD``, weighted by rarity among newer accounts
  like names; bios shared by more than ``BIO_MAX`` accounts in all, stock phrases, say nothing), or
  mostly the same (>= ``BIO_BACKED``, the bio block's reach) when the pair also shares another of the
  person's own traits (avatar, header, device, name, handle family): the line carried over, the words
  around a changed contact ("msg me", "add me on") not;
- the handle family: the same letters, the handles at edit distance <= 2 (or letters one edit apart,
  "x" + the old handle, and the handles at distance ``FAMILY_LETTER_EDIT``), weighted by rarity like
  names, counting the newer accounts created in the suspension's window whose handle is as close to
  the old handle (`close_family`: "thecedar" + digits may be a hundred accounts on a large platform,
  one digit away from the suspended handle and signing up after it went is one or two);
- overlap of followed accounts (popular accounts, followed by more than max(100, 0.5%) of all
  accounts, left out: everyone follows them) and of followers (exact Jaccard, at least
  ``MIN_COMMON`` in common);
- shared rare hashtags;
- ties: at least ``TIES_MIN`` accounts the new account follows or is followed by were the suspended
  account's (followed or following), up to ``WEIGHTS["ties"]`` at ``TIES_FULL``, less what follows and
  followers already counted. Ties say "same network", not "same person": like recency they back an
  identifier and never stand alone.

A new account's candidates are ranked by total evidence; a link is reported when the best score
reaches ``LINK_THRESHOLD`` (two independent identifiers, or one strong one plus returning
followers or ties, or one of what a person holds: a rare device, an image file only the pair shows;
one identifier plus recency is not enough). The stream worker runs the profile part of the same rules on every signup as it arrives
(`EvasionWatch`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..store import evasion_queries as q

WINDOW_DAYS = 60
AVATAR_PDQ = 31
AVATAR_MAX = 5  # avatars shown by more accounts are stock images
AVATAR_UNIQUE = 1.5  # an image file shown by exactly the pair weighs like a shared device (WEIGHTS["device"])
FOLLOW_JACCARD = 0.3
FOLLOWER_JACCARD = 0.2
BIO_JACCARD = 0.8
BIO_BACKED = BIO_JACCARD * 0.8  # a bio this close (the bio block's reach) counts beside another trait of the person's
BIO_MAX = 5  # a bio (without its contacts) shown by more accounts is a stock phrase
BIO_MIN_WORDS = 3
NAME_COMMON = 20  # a display name shown by this many newer accounts says nothing
POPULAR_MIN, POPULAR_SHARE = 100, 0.005  # followed by more than max(100, 0.5% of accounts): popular
MIN_COMMON = 3  # follow / follower overlap needs this many accounts in common (Jaccard of 1 of 1 says nothing)
HASHTAG_MAX = 50  # hashtags used by more accounts are not rare
DEVICE_MAX = 3
STEM_MIN = 4  # shortest handle family (letters only) that blocks
FAMILY_LETTER_EDIT = 1  # a handle whose letters differ from the old one's ("x" + it) is in its family this close
STEM_MAX = 400  # a family shared by more accounts blocks nothing (scored when met by another block)
LINK_THRESHOLD = 1.25
WEIGHTS = {"handle": 1.0, "avatar": 1.0, "follows": 1.5, "followers": 1.0, "name": 1.0, "bio": 1.2,
           "handle_family": 1.0, "device": 1.5, "hashtags": 0.3, "recent": 0.15,
           "header": 1.0, "ties": 0.4}
RECENT_DAYS = 14
CONTACT_BACKED = 0.5  # a shared contact backed by a second profile identifier weighs at least this
PROFILE_KINDS = ("avatar", "header", "device", "name", "bio", "handle_family")  # independent of the contact
TIES_MIN, TIES_FULL = 3, 10  # accounts in common around both (followed or following) for some / full ties weight
NUM_PERM = 64


@dataclass
class EvasionLink:
    new_account: str
    suspended_account: str
    score: float
    rank: int
    evidence: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"new_account": self.new_account, "suspended_account": self.suspended_account,
                "score": round(self.score, 4), "rank": self.rank, "evidence": self.evidence}

    def reasons(self) -> list[str]:
        return [describe(e) for e in self.evidence]


def describe(e: dict) -> str:
    k = e["kind"]
    if k == "handle":
        return (f"same off-platform contact {e['value']} (shown by {e['shared_by']} accounts)"
                + (", with a second trait of the suspended account's own" if e.get("backed") else ""))
    if k in ("avatar", "header"):
        what = "avatar" if k == "avatar" else "profile header"
        if "shared_by" not in e:
            return f"same {what} image"
        if e.get("near"):
            return f"a near copy of its {what} image (PDQ; the two files shown by {e['shared_by']} accounts)"
        return f"same {what} image (shown by {e['shared_by']} accounts)"
    if k == "device":
        return f"signed in from the same device {e['value']}"
    if k == "name":
        return f"same display name {e['value']!r} (shown by {e['shared_by']} accounts)"
    if k == "bio":
        return (f"same bio (shingle Jaccard {e['jaccard']})"
                + (", with a second trait of the suspended account's own" if e.get("backed") else ""))
    if k == "handle_family":
        return (f"handle {e['value']} in the family of {e['old']} (edit distance {e['distance']}, "
                f"{e.get('shared_by', 1)} newer account(s) as close to it since the suspension)")
    if k == "follows":
        return f"follows the same accounts (Jaccard {e['jaccard']}, {e['common']} in common)"
    if k == "followers":
        return f"followed by the same accounts (Jaccard {e['jaccard']}, {e['common']} in common)"
    if k == "ties":
        return f"{e['common']} accounts it follows or that follow it were ties of the suspended account"
    if k == "recent":
        return f"created {e['days']} days after the suspension"
    if k == "hashtags":
        return "uses the same rare hashtags " + ", ".join(e["tags"])
    return k


def _t(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


# -- normalization ---------------------------------------------------------------------------------
_WORD = re.compile(r"[a-z]+")


def name_key(display_name: str | None) -> str:
    """A display name in matching form: folded (case, accents, homoglyphs), letters and digits only."""
    from ..text.normalize import fold

    if not display_name:
        return ""
    return " ".join(re.findall(r"[a-z0-9]+", fold(display_name)))


def handle_stem(handle_lc: str | None) -> str:
    """A handle's family: its letters only ("quiet_fox22" and "quietfox7" are one family)."""
    return "".join(re.findall(r"[a-z]+", handle_lc or ""))


_LEAD_IN = re.compile(r"([^|,.;!?\n•·]*)\Z")
CONTACT_LEAD_WORDS = 3  # a clause this short right before a contact is its call to action ("add me on")


def bio_words(bio: str | None) -> list[str]:
    """The words of a bio without its contacts, links and hashtags (what a person wrote about themself).
    A contact goes with its call to action: a clause of up to ``CONTACT_LEAD_WORDS`` words between the
    last separator (| , . ; ! ? a line break) and the contact ("add me on kik ...", "business
    enquiries: ..."), which says how to reach the person, not who they are, and changes with the contact."""
    from ..text.contacts import extract_contacts
    from ..text.normalize import fold
    from ..text.urls import URL_RE

    if not bio:
        return []
    cut: list[tuple[int, int]] = []
    prev_end = 0
    for c in sorted((c for c in extract_contacts(bio) if c.start >= 0), key=lambda c: c.start):
        start = max(c.start, prev_end)
        lead = _LEAD_IN.search(bio, prev_end, start)  # the clause before the contact, back to a separator
        if lead and len(re.findall(r"\w+", lead.group(1))) <= CONTACT_LEAD_WORDS:
            start = lead.start(1)
        cut.append((start, c.end))
        prev_end = max(prev_end, c.end)
    t, at = [], 0
    for a, b in cut:
        t.append(bio[at:a])
        at = max(at, b)
    t = " ".join(t + [bio[at:]])
    t = URL_RE.sub(" ", t)
    t = re.sub(r"#\w+", " ", t)
    return [w for w in _WORD.findall(fold(t)) if len(w) > 1]


def shingles(words: list[str]) -> set[str]:
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}


def edit_distance(a: str, b: str, cap: int = 3) -> int:
    """Levenshtein distance, stopping early above `cap` (returns cap + 1)."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class EvasionInputs:
    """What evasion linking reads from the store: suspended accounts, newer accounts and their identifiers."""

    susp: dict[str, tuple[datetime | None, str]]  # suspended account -> (suspension time, handle)
    newer: dict[str, tuple[datetime | None, str]]  # account created after a suspension -> (created, handle)
    handles: dict[str, set[str]]  # account -> "platform:handle" off-platform contacts ("tel:+1..." a phone number)
    handle_count: dict[str, int]  # "platform:handle" -> accounts showing it
    avatars: dict[str, tuple[str | None, str | None]]  # account -> (avatar sha256 or uri, avatar PDQ)
    avatar_count: dict[str, int]
    follows: dict[str, set[str]]
    tags: dict[str, set[str]]
    names: dict[str, str] = field(default_factory=dict)  # account -> name_key
    name_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # among newer accounts
    bios: dict[str, set[str]] = field(default_factory=dict)  # account -> bio shingles (rare bios only)
    bio_keys: dict[str, str] = field(default_factory=dict)  # account -> its bio's words, joined
    bio_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # among newer accounts
    bio_all: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # among all accounts
    tag_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    popular: set[str] = field(default_factory=set)  # accounts so widely followed that following them says nothing
    headers: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # as avatars, the profile header
    header_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    family_members: dict[str, list[tuple[str, datetime | None]]] = field(default_factory=lambda: defaultdict(list))  # family -> newer (handle, created)
    devices: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    device_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    followers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def load_inputs(store, conn=None) -> EvasionInputs | None:
    """Read the identifiers of suspended accounts and of accounts created after a suspension
    (on `conn` when given, e.g. the stream worker's batch transaction)."""
    if conn is None:
        with store.engine.connect() as c:
            return load_inputs(store, c)
    susp = read_suspended(conn)
    if not susp:
        return None
    first = first_suspension(susp)
    if first is None:
        return None
    newer = {a: (_t(c), h) for a, c, h in q.rows(conn, q.NEWER_SQL, {"t": _since(first)})}
    involved = set(susp) | set(newer)
    inp = EvasionInputs(susp, newer, defaultdict(set), defaultdict(int), {}, defaultdict(int),
                        defaultdict(set), defaultdict(set))
    for c, h in newer.values():
        add_family(inp, h, c)
    for a, key in q.rows(conn, q.CONTACTS_SQL):
        inp.handle_count[key] += 1
        if a in involved:
            inp.handles[a].add(key)
    for a, sha, pdq in q.rows(conn, q.AVATAR_SQL):
        if sha:
            inp.avatar_count[sha] += 1
        if a in involved:
            inp.avatars[a] = (sha, pdq)
    for a, sha, pdq in q.rows(conn, q.HEADER_SQL):
        if sha:
            inp.header_count[sha] += 1
        if a in involved:
            inp.headers[a] = (sha, pdq)
    indeg: dict[str, int] = defaultdict(int)
    for s, d in q.rows(conn, q.FOLLOWS_SQL):
        indeg[d] += 1
        if s in involved:
            inp.follows[s].add(d)
        if d in involved:
            inp.followers[d].add(s)
    n_accounts = q.count(conn, q.ACCOUNTS_COUNT_SQL)
    inp.popular = {d for d, k in indeg.items() if k > max(POPULAR_MIN, POPULAR_SHARE * n_accounts)}
    for a in list(inp.follows):
        inp.follows[a] -= inp.popular
    tag_count: dict[str, int] = defaultdict(int)
    for a, tag in q.rows(conn, q.TAGS_SQL):
        tag_count[tag] += 1
        if a in involved:
            inp.tags[a].add(tag)
    for a in list(inp.tags):
        inp.tags[a] = {t for t in inp.tags[a] if tag_count[t] <= HASHTAG_MAX}
    inp.tag_count = tag_count
    words: dict[str, list[str]] = {}
    for a, name, bio in q.rows(conn, q.PROFILES_SQL):
        nk = name_key(name)
        if nk and a in involved:
            inp.names[a] = nk
            if a in newer:
                inp.name_count[nk] += 1
        w = bio_words(bio) if bio else []
        if len(w) >= BIO_MIN_WORDS:
            inp.bio_all[" ".join(w)] += 1
            if a in involved:
                words[a] = w
    for a, w in words.items():
        _set_bio(inp, a, w, a in newer)
    for a, dev in q.rows(conn, q.DEVICE_SQL):
        inp.device_count[dev] += 1
        if a in involved:
            inp.devices[a].add(dev)
    return inp


def _set_bio(inp: EvasionInputs, a: str, words: list[str], is_new: bool) -> None:
    key = " ".join(words)
    if inp.bio_all.get(key, 0) <= BIO_MAX:
        inp.bios[a] = shingles(words)
        inp.bio_keys[a] = key
        if is_new:
            inp.bio_count[key] += 1


def add_newcomers(conn, inp: EvasionInputs, ids: list[str]) -> list[str]:
    """Read the identifiers of accounts that just arrived (the stream worker's signups) into `inp`;
    returns those created after a suspension (the ones to score)."""
    first = min((t for t, _ in inp.susp.values() if t), default=None)
    out = []
    for a, created, h, name, bio in q.rows_in(conn, q.NEW_ACCOUNTS_SQL, ids):
        c = _t(created)
        if first is None or c is None or c < first or a in inp.newer:
            continue
        inp.newer[a] = (c, h)
        add_family(inp, h, c)
        out.append(a)
        nk = name_key(name)
        if nk:
            inp.names[a] = nk
            inp.name_count[nk] += 1
        w = bio_words(bio) if bio else []
        if len(w) >= BIO_MIN_WORDS:
            inp.bio_all[" ".join(w)] += 1
            _set_bio(inp, a, w, True)
    if not out:
        return out
    for a, key in q.rows_in(conn, q.NEW_CONTACTS_SQL, out):
        inp.handles[a].add(key)
        inp.handle_count[key] += 1
    for a, sha, pdq in q.rows_in(conn, q.NEW_AVATARS_SQL, out):
        inp.avatars[a] = (sha, pdq)
        if sha:
            inp.avatar_count[sha] += 1
    for a, sha, pdq in q.rows_in(conn, q.NEW_HEADERS_SQL, out):
        inp.headers[a] = (sha, pdq)
        if sha:
            inp.header_count[sha] += 1
    for a, dev in q.rows_in(conn, q.NEW_DEVICES_SQL, out):
        inp.devices[a].add(dev)
        inp.device_count[dev] += 1
    for s, d in q.rows_in(conn, q.NEW_FOLLOWS_SQL, out):
        if d not in inp.popular:
            inp.follows[s].add(d)
    return out


def read_suspended(conn) -> dict[str, tuple[datetime | None, str]]:
    """The suspended accounts: id -> (suspension time, handle)."""
    return {a: (_t(st), h) for a, st, h in q.rows(conn, q.SUSPENDED_SQL)}


def first_suspension(susp) -> datetime | None:
    return min((t for t, _ in susp.values() if t), default=None)


def _since(first: datetime) -> str:
    return first.strftime("%Y-%m-%dT%H:%M:%SZ")  # NEWER_SQL compares the stored text


# -- the watch list, kept up to date one account at a time -------------------------------------------
def update_suspended(conn, inp: EvasionInputs, blocks: Blocks, current: dict) -> bool:
    """Bring `inp` and `blocks` to the suspended set `current` (`read_suspended`) one account at a time:
    a newly suspended account's watch entry (its identifiers, read now) is added, a reinstated one's
    removed, and the counts over newer accounts (names, bios, handle families) follow the accounts that
    leave or join the newer ones. The result is what `load_inputs` and `Blocks` would build from the
    store now, given the same counts over all accounts (contacts, avatars, devices, bios, hashtags,
    popular accounts), which a change of state does not move. Returns False, having changed nothing,
    when only a full read can say it: no suspended account left, or the earliest suspension moved
    (which accounts are newer changes then)."""
    first = first_suspension(inp.susp)
    if not current or first is None or first_suspension(current) != first:
        return False
    since = _since(first)
    came = [a for a in current if a not in inp.susp]
    gone = [a for a in inp.susp if a not in current]
    for a in [a for a in current if a in inp.susp and current[a] != inp.susp[a]]:  # time or handle
        blocks.remove(a)
        inp.susp[a] = current[a]
        blocks.add(a)
    rows = {r[0]: r for r in q.rows_in(conn, q.WATCH_ACCOUNTS_SQL, came + gone)}
    for a in gone:
        blocks.remove(a)
        del inp.susp[a]
        r = rows.get(a)
        if r is not None and r[1] and r[1] >= since:  # newer again, with the identifiers it had
            _join_newer(inp, a, _t(r[1]), r[2])
        else:
            _forget(inp, a)
    for a in came:
        if a in inp.newer:
            _leave_newer(inp, a)
        _forget(inp, a)
    _read_entries(conn, inp, [a for a in came if a in rows], rows)
    for a in came:
        inp.susp[a] = current[a]
        blocks.add(a)
    return True


def _join_newer(inp: EvasionInputs, a: str, created: datetime | None, handle: str) -> None:
    inp.newer[a] = (created, handle)
    add_family(inp, handle, created)
    if a in inp.names:
        inp.name_count[inp.names[a]] += 1
    if a in inp.bio_keys:
        inp.bio_count[inp.bio_keys[a]] += 1


def _leave_newer(inp: EvasionInputs, a: str) -> None:
    created, handle = inp.newer.pop(a)
    members = inp.family_members.get(handle_stem(handle))
    if members is not None:
        members.remove((handle or "", created))
        if not members:
            del inp.family_members[handle_stem(handle)]
    for key, counts in ((inp.names.get(a), inp.name_count), (inp.bio_keys.get(a), inp.bio_count)):
        if key is not None:
            counts[key] -= 1
            if counts[key] <= 0:
                del counts[key]


def _forget(inp: EvasionInputs, a: str) -> None:
    for d in (inp.handles, inp.avatars, inp.headers, inp.follows, inp.followers, inp.tags, inp.names,
              inp.bios, inp.bio_keys, inp.devices):
        d.pop(a, None)


def _read_entries(conn, inp: EvasionInputs, ids: list[str], rows: dict) -> None:
    """Read the identifiers of `ids` (accounts outside the watch so far) as `load_inputs` reads them."""
    if not ids:
        return
    for a in ids:
        _, _, _, name, bio = rows[a]
        nk = name_key(name)
        if nk:
            inp.names[a] = nk
        w = bio_words(bio) if bio else []
        if len(w) >= BIO_MIN_WORDS:
            _set_bio(inp, a, w, False)
    for a, key in q.rows_in(conn, q.NEW_CONTACTS_SQL, ids):
        inp.handles[a].add(key)
    for a, sha, pdq in q.rows_in(conn, q.NEW_AVATARS_SQL, ids):
        inp.avatars[a] = (sha, pdq)
    for a, sha, pdq in q.rows_in(conn, q.NEW_HEADERS_SQL, ids):
        inp.headers[a] = (sha, pdq)
    for a, dev in q.rows_in(conn, q.NEW_DEVICES_SQL, ids):
        inp.devices[a].add(dev)
    for s, d in q.rows_in(conn, q.WATCH_FOLLOWS_SQL, ids):
        if d not in inp.popular:
            inp.follows[s].add(d)
    for s, d in q.rows_in(conn, q.WATCH_FOLLOWERS_SQL, ids):
        inp.followers[d].add(s)
    for a, tag in q.rows_in(conn, q.WATCH_TAGS_SQL, ids):
        inp.tags[a]  # noqa: B018 - load_inputs keeps an (empty) entry for an account with only common tags
        if inp.tag_count.get(tag, 0) <= HASHTAG_MAX:
            inp.tags[a].add(tag)


def add_family(inp: EvasionInputs, handle: str | None, created: datetime | None) -> None:
    stem = handle_stem(handle)
    inp.family_members[stem].append((handle or "", created))


def close_family(inp: EvasionInputs, old: str, suspended: datetime | None, distance: int,
                 also: str | None = None) -> int:
    """How many newer accounts created in the suspension's window have a handle within `distance` of the
    suspended handle `old` (the candidate included): "thecedar" + digits may be a family of a hundred on
    a large platform, but few of them sit one digit away from the old handle and sign up after it went.
    `also`: a second family to count in (the candidate's, when its letters are one edit from the old)."""
    fams = [handle_stem(old)] + ([also] if also and also != handle_stem(old) else [])
    return sum(1 for f in fams for h, c in inp.family_members.get(f, ())
               if in_window(c, suspended) and edit_distance(h, old, distance) <= distance)


def rarity(n: int) -> float:
    """1 for an identifier one newer account shows, falling to 0 at ``NAME_COMMON`` accounts."""
    return max(0.0, 1.0 - math.log(max(1, n)) / math.log(NAME_COMMON))


def in_window(created: datetime | None, suspended: datetime | None) -> bool:
    return bool(suspended and created and suspended <= created <= suspended + timedelta(days=WINDOW_DAYS))


def score_pair(n: str, s: str, inp: EvasionInputs) -> EvasionLink | None:
    """The evidence that new account `n` is suspended account `s` again, or None (none, or outside the window)."""
    created, uname = inp.newer[n]
    st, sname = inp.susp[s]
    if not in_window(created, st):
        return None
    ev: list[dict] = []
    for h in sorted(inp.handles.get(n, set()) & inp.handles.get(s, set())):
        w = WEIGHTS["handle"] / max(1, inp.handle_count[h] - 1)
        ev.append({"kind": "handle", "value": h, "shared_by": inp.handle_count[h], "weight": round(w, 3)})
    for kind, images, counts in (("avatar", inp.avatars, inp.avatar_count), ("header", inp.headers, inp.header_count)):
        e = _image_evidence(kind, images.get(s, (None, None)), images.get(n, (None, None)), counts)
        if e is not None:
            ev.append(e)
    for d in sorted(inp.devices.get(n, set()) & inp.devices.get(s, set())):
        if inp.device_count[d] <= DEVICE_MAX:
            ev.append({"kind": "device", "value": d, "weight": WEIGHTS["device"]})
            break
    nk = inp.names.get(n)
    if nk and nk == inp.names.get(s):
        cnt = max(1, inp.name_count.get(nk, 1))
        w = WEIGHTS["name"] * rarity(cnt)
        if w > 0:
            ev.append({"kind": "name", "value": nk, "shared_by": cnt, "weight": round(w, 3)})
    bj = _jaccard(inp.bios.get(n, set()), inp.bios.get(s, set()))
    if bj >= BIO_JACCARD:
        _add_bio(ev, inp, n, bj)
    if uname and sname:
        fam, sfam = handle_stem(uname), handle_stem(sname)
        if len(fam) >= STEM_MIN and len(sfam) >= STEM_MIN:
            # the same letters and the handle within 2 edits; or a letter added, dropped or changed
            # ("x" + the old handle): the letters one edit apart and the handle one edit from the old
            d = edit_distance(uname, sname, 2 if fam == sfam else FAMILY_LETTER_EDIT)
            close = d <= 2 if fam == sfam else d <= FAMILY_LETTER_EDIT
            cnt = max(1, close_family(inp, sname, st, d, also=fam if fam != sfam else None)) if close else 0
            w = WEIGHTS["handle_family"] * rarity(cnt)
            if close and w > 0:
                ev.append({"kind": "handle_family", "value": uname, "old": sname, "distance": d,
                           "shared_by": cnt, "weight": round(w, 3)})
    if BIO_BACKED <= bj < BIO_JACCARD and any(e["kind"] in PROFILE_KINDS for e in ev):
        _add_bio(ev, inp, n, bj, backed=True)  # mostly the same bio, and another trait of the person's
    for kind, sets, floor in (("follows", inp.follows, FOLLOW_JACCARD), ("followers", inp.followers, FOLLOWER_JACCARD)):
        fs, fn = sets.get(s, set()) - {n}, sets.get(n, set()) - {s}
        jac = _jaccard(fs, fn)
        if jac >= floor and len(fs & fn) >= MIN_COMMON:
            ev.append({"kind": kind, "jaccard": round(jac, 3), "common": len(fs & fn),
                       "weight": round(WEIGHTS[kind] * jac, 3)})
    if any(e["kind"] in PROFILE_KINDS for e in ev):  # a network's contact *and* the person's own trait
        for e in ev:
            if e["kind"] == "handle" and e["weight"] < CONTACT_BACKED:
                e["weight"], e["backed"] = CONTACT_BACKED, True
    if ev:  # the accounts around both: "same network" backs an identifier, never stands alone
        tn = (inp.follows.get(n, set()) | inp.followers.get(n, set())) - {s}
        ts = (inp.follows.get(s, set()) | inp.followers.get(s, set())) - {n}
        common = len(tn & ts)
        if common >= TIES_MIN:
            counted = sum(e["weight"] for e in ev if e["kind"] in ("follows", "followers"))
            w = WEIGHTS["ties"] * min(1.0, (common - TIES_MIN + 1) / (TIES_FULL - TIES_MIN + 1)) - counted
            if w > 0:
                ev.append({"kind": "ties", "common": common, "weight": round(w, 3)})
    common_tags = inp.tags.get(n, set()) & inp.tags.get(s, set())
    if common_tags:
        ev.append({"kind": "hashtags", "tags": sorted(common_tags)[:10], "weight": WEIGHTS["hashtags"]})
    if ev:  # an evader comes back soon: recency adds to identifiers, never stands alone
        days = (created - st).total_seconds() / 86400
        if days < RECENT_DAYS:
            w = WEIGHTS["recent"] * (1 - days / RECENT_DAYS)
            ev.append({"kind": "recent", "days": round(days, 1), "weight": round(w, 3)})
    score = sum(e["weight"] for e in ev)
    return EvasionLink(n, s, score, 0, ev) if score > 0 else None


def image_weight(kind: str, holders: int, exact: bool = True) -> float:
    """The weight of an avatar or header image the pair shows, by how many accounts show it: the
    suspended account is one of them, the new account one of the other ``holders - 1`` (as for a
    contact), so ``AVATAR_UNIQUE / (holders - 1)``: an image file only the pair shows, ``AVATAR_UNIQUE``
    (the same person, like a shared device), one shown by 3-5 accounts 0.75-0.375 (one of a few, where
    every image of at most ``AVATAR_MAX`` holders used to weigh a flat 1.0). A near copy (``exact`` False, PDQ only) is at most
    ``WEIGHTS[kind]``: other copies that are not byte for byte the same are not in the count."""
    w = AVATAR_UNIQUE / max(1, holders - 1)
    return w if exact else min(WEIGHTS[kind], w)


def _image_evidence(kind: str, old: tuple, new: tuple, counts) -> dict | None:
    """The avatar (or header) evidence of a pair, or None: the same image file (SHA-256) or a near copy
    (PDQ within ``AVATAR_PDQ``), the old account's image shown by at most ``AVATAR_MAX`` accounts."""
    (sa, sp_), (na, np_) = old, new
    if not (sa and na and counts.get(sa, 0) <= AVATAR_MAX):
        return None
    if sa == na:
        holders = max(2, counts.get(sa, 0))
        return {"kind": kind, "value": na, "shared_by": holders, "weight": round(image_weight(kind, holders), 3)}
    if not _pdq_close(sp_, np_):
        return None
    holders = max(1, counts.get(sa, 0)) + max(1, counts.get(na, 0))
    return {"kind": kind, "value": na, "shared_by": holders, "near": True,
            "weight": round(image_weight(kind, holders, exact=False), 3)}


def _add_bio(ev: list[dict], inp: EvasionInputs, n: str, bj: float, backed: bool = False) -> None:
    cnt = max(1, inp.bio_count.get(inp.bio_keys.get(n, ""), 1))
    w = WEIGHTS["bio"] * bj * rarity(cnt)
    if w > 0:
        ev.append({"kind": "bio", "jaccard": round(bj, 3), "shared_by": cnt, "weight": round(w, 3)}
                  | ({"backed": True} if backed else {}))


def best_links(pairs, inp: EvasionInputs, top: int = 3) -> dict[str, list[EvasionLink]]:
    """Score candidate (new, suspended) pairs; each new account's best `top` links, ranked."""
    by_new: dict[str, list[EvasionLink]] = defaultdict(list)
    for n, s in set(pairs):
        link = score_pair(n, s, inp)
        if link is not None:
            by_new[n].append(link)
    out: dict[str, list[EvasionLink]] = {}
    for n, links in by_new.items():
        links.sort(key=lambda x: (-x.score, x.suspended_account))
        for i, lk in enumerate(links[:top]):
            lk.rank = i + 1
        out[n] = links[:top]
    return out


def _minhash(items) -> object:
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=1)
    m.update_batch([x.encode() for x in items])
    return m


BLOCKS = ("contact", "avatar", "header", "name", "family", "device", "bio", "follows", "followers")
SPARK_BLOCKS = ("contact", "avatar", "follows")  # what scale/spark_evasion.py generates and collects


def restrict(inp: EvasionInputs, kinds) -> EvasionInputs:
    """`inp` without the identifiers of the block kinds not in `kinds` (to compare with a job that reads fewer)."""
    kinds = set(kinds)
    if "name" not in kinds:
        inp.names = {}
    if "bio" not in kinds:
        inp.bios = {}
    if "device" not in kinds:
        inp.devices = defaultdict(set)
    if "followers" not in kinds:
        inp.followers = defaultdict(set)
    if "header" not in kinds:
        inp.headers = {}
    return inp


class Blocks:
    """The suspended accounts indexed by every kind of block (exact keys and MinHash LSH)."""

    def __init__(self, inp: EvasionInputs, accounts, kinds=BLOCKS):
        from datasketch import MinHashLSH

        self.kinds = set(kinds)
        self.inp = inp
        self.exact: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._keys: dict[str, list[tuple[str, str]]] = {}  # account -> the exact keys it is indexed under
        self.lsh = {"bio": MinHashLSH(threshold=BIO_JACCARD * 0.8, num_perm=NUM_PERM),
                    "follows": MinHashLSH(threshold=FOLLOW_JACCARD, num_perm=NUM_PERM),
                    "followers": MinHashLSH(threshold=FOLLOWER_JACCARD, num_perm=NUM_PERM)}
        for a in accounts:
            self.add(a)

    def keys(self, a: str, susp: bool) -> list[tuple[str, str]]:
        """The exact blocks of `a`. A suspended account is indexed under all of its keys; the rarity
        rules (a stock avatar, a common name, a shared device block nothing) apply when a newer
        account looks up its own: one key, one count, so the same pairs, and the index stays true
        as counts move (EvasionWatch keeps it up to date instead of rebuilding it)."""
        inp = self.inp
        out = [("contact", h) for h in inp.handles.get(a, ())]
        sha = inp.avatars.get(a, (None, None))[0]
        if sha and (susp or inp.avatar_count[sha] <= AVATAR_MAX):
            out.append(("avatar", sha))
        hsha = inp.headers.get(a, (None, None))[0]
        if hsha and (susp or inp.header_count[hsha] <= AVATAR_MAX):
            out.append(("header", hsha))
        nk = inp.names.get(a)
        if nk and (susp or inp.name_count.get(nk, 0) < NAME_COMMON):
            out.append(("name", nk))
        h = (inp.susp if susp else inp.newer)[a][1]
        fam = handle_stem(h)
        if len(fam) >= STEM_MIN:
            out.append(("family", fam))
        out += [("device", d) for d in inp.devices.get(a, ()) if susp or inp.device_count[d] <= DEVICE_MAX]
        return [k for k in out if k[0] in self.kinds]

    def sets(self, a: str) -> dict[str, set[str]]:
        inp = self.inp
        out = {"bio": inp.bios.get(a, set()), "follows": inp.follows.get(a, set()),
               "followers": inp.followers.get(a, set())}
        return {k: v for k, v in out.items() if k in self.kinds}

    def add(self, a: str) -> None:
        """Index suspended account `a` (again, if it was: its entry is replaced)."""
        if a in self._keys:
            self.remove(a)
        keys = self._keys[a] = self.keys(a, True)
        for k in keys:
            self.exact[k].append(a)
        for kind, st in self.sets(a).items():
            if len(st) >= 3 and a not in self.lsh[kind].keys:
                self.lsh[kind].insert(a, _minhash(st))

    def remove(self, a: str) -> None:
        """Take `a` out of every block it was indexed under."""
        for k in self._keys.pop(a, ()):
            got = self.exact[k]
            got.remove(a)
            if not got:
                del self.exact[k]
        for lsh in self.lsh.values():
            if a in lsh.keys:
                lsh.remove(a)

    def candidates(self, n: str) -> set[str]:
        out: set[str] = set()
        for k in self.keys(n, False):
            got = self.exact.get(k, ())
            if k[0] != "family" or len(got) <= STEM_MAX:
                out.update(got)
        for kind, st in self.sets(n).items():
            if len(st) >= 3:
                out.update(self.lsh[kind].query(_minhash(st)))
        return out


def candidate_pairs(inp: EvasionInputs, kinds=BLOCKS) -> list[tuple[str, str]]:
    blocks = Blocks(inp, inp.susp, kinds)
    pairs = []
    for n in inp.newer:
        created = inp.newer[n][0]
        pairs.extend((n, s) for s in blocks.candidates(n) if in_window(created, inp.susp[s][0]))
    return pairs


def candidate_links(store, top: int = 3, kinds=BLOCKS) -> dict[str, list[EvasionLink]]:
    """For every account created after some suspension, its best `top` suspended candidates
    (`kinds`: the block kinds to use, and whose identifiers to read; default all)."""
    inp = load_inputs(store)
    if inp is None:
        return {}
    if set(kinds) != set(BLOCKS):
        inp = restrict(inp, kinds)
    return best_links(candidate_pairs(inp, kinds), inp, top)


def _pdq_close(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return bin(int(a, 16) ^ int(b, 16)).count("1") <= AVATAR_PDQ


def find_evasion(store, threshold: float = LINK_THRESHOLD, kinds=BLOCKS) -> list[EvasionLink]:
    """Reported links: each new account's best candidate when its score reaches `threshold`."""
    links = [c[0] for c in candidate_links(store, kinds=kinds).values() if c and c[0].score >= threshold]
    return sorted(links, key=lambda x: (-x.score, x.new_account))


def watch_state(inp: EvasionInputs, blocks: Blocks) -> dict:
    """Everything a watch list holds (its inputs and blocks), in a form two builds can be compared by:
    empty entries and zero counts dropped, since a full read and an incremental update may differ in
    those alone (the update's tests and bench/evasion_watch.py compare them)."""
    import dataclasses

    def norm(v):
        if isinstance(v, set):
            return sorted(v)
        if isinstance(v, list):
            return sorted(v, key=repr)
        return v

    out = {}
    for f in dataclasses.fields(inp):
        v = getattr(inp, f.name)
        out[f.name] = ({k: norm(x) for k, x in v.items() if x not in (set(), [], 0)} if isinstance(v, dict)
                       else norm(v))
    out["exact"] = {k: sorted(v) for k, v in blocks.exact.items() if v}
    out["lsh"] = {k: sorted(lsh.keys) for k, lsh in blocks.lsh.items()}
    return out
