"""Why each member is in a case, in words a reviewer can check (issue 18).

For every member of a case: the members it is tied to and how (counted from the graph's own tie
definition, netwarden.graph.build.ties_among), the off-platform contacts it shares with other
members, the bank matches of its media, and its other risk reasons, except the circular "member of
this case". Evidence paths read with handles and tie kinds in words. Contacts are shown shortened
(first and last two characters): the full value is on the account page.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .graph import build
from .store import schema as t

TIE_WORDS = {"follow": "follow", "request": "approved follow request",
             "reply": "reply", "mention": "mention", "repost": "repost", "quote": "quote", "like": "like"}
PLATFORM_WORDS = {"kik": "Kik handle", "telegram": "Telegram contact", "snapchat": "Snapchat handle",
                  "whatsapp": "WhatsApp number", "phone": "phone number", "email": "email address",
                  "discord": "Discord invite", "signal": "Signal contact", "session": "Session id", "wickr": "Wickr id"}


def short(value: str) -> str:
    """An identifier shortened for a sentence: q...22 (the full value is on the account page)."""
    v = str(value)
    return v if len(v) <= 6 else f"{v[:2]}\u2026{v[-2:]}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def step_words(label: str) -> str:
    """One path step's tie kinds ("like+handle:kik:ab12") in words."""
    parts = []
    for k in str(label).split("+"):
        if k in TIE_WORDS:
            parts.append(TIE_WORDS[k])
        elif k.startswith("handle"):
            key = k.split(":", 1)[1] if ":" in k else ""
            plat, _, h = key.partition(":")
            parts.append(f"shared {PLATFORM_WORDS.get(plat, plat + ' contact')} {short(h)}" if h else "shared contact")
        elif k.startswith("media"):
            key = k.split(":", 1)[1] if ":" in k else ""
            parts.append(f"media matching the same bank entry ({key.removeprefix('entry:')})" if key.startswith("entry:")
                         else "the same media file" if key else "matching media")
        elif k.startswith("hashtag"):
            parts.append(f"the same rare hashtag #{k.split(':', 1)[1]}" if ":" in k else "the same rare hashtag")
        elif k.startswith("avatar"):
            parts.append("the same avatar")
        elif k:
            parts.append(k)
    return ", ".join(parts) or "a tie"


def path_steps(path: list, handles: dict[str, str | None]) -> list[dict]:
    """A stored evidence path (ids and tie labels alternating, seed first) as steps for a template:
    {"account": id, "handle": handle} and {"tie": words}."""
    out = []
    for i, p in enumerate(path):
        if not isinstance(p, str):
            continue
        if i % 2 == 0:
            out.append({"account": p, "handle": handles.get(p) or p})
        else:
            out.append({"tie": step_words(p)})
    return out


def circular(reason: dict, cid: int) -> bool:
    """A "member of this case" reason: it explains nothing about this case."""
    return reason.get("kind") == "proximity" and str(reason.get("case_id")) == str(cid)


def case_reasons(conn: Connection, cid: int, members: list[dict], ties=None, only=None) -> dict[str, list[dict]]:
    """account id -> sentences [{"kind", "text", "media_id"?}] for the members of case `cid` (those
    in `only`, when given; ties and shared contacts are still counted over every member); `ties`
    (src, dst, kind) among them when the caller has them already."""
    ids = [m["account_id"] for m in members]
    state = {m["account_id"]: m["state"] for m in members}
    core = {m["account_id"] for m in members if m.get("core")}
    tied: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for a, b, kind in (build.ties_among(conn, ids) if ties is None else ties):
        tied[a][kind].add(b)
        tied[b][kind].add(a)
    shared: dict[tuple[str, str], set[str]] = defaultdict(set)
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(t.contacts.c.account_id, t.contacts.c.platform, t.contacts.c.handle)
                              .where(t.contacts.c.account_id.in_(ids[i:i + 500]))):
            shared[(r.platform, r.handle)].add(r.account_id)
    contacts_of: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for (plat, handle), accs in shared.items():
        for a in accs:
            contacts_of[a].append((plat, handle, len(accs) - 1))
    out: dict[str, list[dict]] = {}
    for m in members:
        aid = m["account_id"]
        if only is not None and aid not in only:
            continue
        words: list[dict] = []
        kinds = tied.get(aid, {})
        others = set().union(*kinds.values()) if kinds else set()
        if others:
            n_conf = sum(1 for o in others if state.get(o) == "confirmed")
            n_core = len(others & core)
            how = ", ".join(f"{TIE_WORDS.get(k, k)} {len(v)}" for k, v in
                            sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0])))
            extra = [x for x in (f"{n_conf} confirmed" if n_conf else "", f"{n_core} core" if n_core else "") if x]
            words.append({"kind": "ties", "text": f"tied to {_plural(len(others), 'member')} of this case"
                          + (f" ({', '.join(extra)})" if extra else "") + f": {how}"})
        for plat, handle, n in sorted(contacts_of.get(aid, []), key=lambda x: (-x[2], x[0], x[1])):
            what = f"{PLATFORM_WORDS.get(plat, plat + ' contact')} {short(handle)}"
            words.append({"kind": "contact", "text": f"shares the {what} with {_plural(n, 'other member')}" if n
                          else f"shows the {what} (no other member does)"})
        for r in m.get("reasons") or []:
            if r.get("kind") == "contact":
                continue  # said above, with who shares it
            if circular(r, cid):
                continue
            w = {"kind": r.get("kind") or "", "text": r.get("text") or ""}
            if r.get("media_id"):
                w["media_id"] = r["media_id"]
            words.append(w)
        out[aid] = words
    return out


def handles_of(conn: Connection, ids) -> dict[str, str | None]:
    ids = list(set(ids))
    out: dict[str, str | None] = {}
    for i in range(0, len(ids), 500):
        out.update(conn.execute(select(t.accounts.c.id, t.accounts.c.handle)
                                .where(t.accounts.c.id.in_(ids[i:i + 500]))).all())
    return out

