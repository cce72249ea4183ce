"""Profiles, sessions and suspensions: one `account` event per account, sign-up and log-in
`session` events from documentation IP ranges, and a few ordinary suspensions (spam and the like)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import vocab
from .ids import account_id
from .images import MediaFile
from .population import DAY, Population, contact_handle, ip
from .writer import EventSink


def emit_accounts(
    sink: EventSink,
    rng: np.random.Generator,
    pop: Population,
    handles: list[str],
    overrides: dict[int, dict],
    avatar_pool: list[MediaFile],
    unique_avatars: dict[int, MediaFile],
    contact_taken: set[str],
    end: int,
    tick: Callable[[int], None],
    contact_fraction: float = 0.03,
    rich: dict[int, tuple[str, str | None]] | None = None,
) -> None:
    """overrides: account index -> {"bio": str, "avatar": MediaFile | None, "name": str | None} for
    planted accounts; rich: ordinary account index -> (display name, bio line or None)."""
    n = pop.n
    first = rng.integers(0, len(vocab.FIRST_NAMES), n)
    bio_i = rng.integers(0, len(vocab.BENIGN_BIOS), n)
    has_avatar = rng.random(n) < 0.6
    av_i = rng.integers(0, max(1, len(avatar_pool)), n)
    contact = rng.random(n) < contact_fraction
    ua = rng.integers(0, len(vocab.USER_AGENTS), n)
    login = rng.random(n) < 0.5
    for i in range(n):
        created = int(pop.created[i])
        aid = account_id(i)
        data: dict = {"id": aid, "handle": handles[i], "display_name": vocab.FIRST_NAMES[first[i]],
                      "created_at": sink._iso(created), "protected": bool(pop.protected[i])}
        o = overrides.get(i)
        rp = rich.get(i) if rich else None
        if o is not None:
            bio, avatar = o["bio"], o["avatar"]
            if o.get("name"):
                data["display_name"] = o["name"]
        else:
            bio = vocab.BENIGN_BIOS[bio_i[i]]
            if rp is not None:
                data["display_name"] = rp[0]
                bio = rp[1] if rp[1] is not None else bio
            if contact[i]:  # ordinary people list contacts too: noise for the handle layer
                pf = ("snapchat", "telegram", "kik")[i % 3]
                tpl = vocab.BENIGN_CONTACT_BIOS[i % len(vocab.BENIGN_CONTACT_BIOS)]
                bio = (bio + " | " if bio else "") + tpl.format(p=pf, h=contact_handle(rng, pf, contact_taken))
            avatar = unique_avatars.get(i) or (avatar_pool[av_i[i]] if has_avatar[i] and avatar_pool else None)
        if bio:
            data["bio"] = bio
        if avatar is not None:
            data["avatar"] = avatar.media(f"av-{aid}")
        sink.emit("account", created, data)
        device = f"d{(i * 2654435761 + 12345) & 0xFFFFFFFF:08x}"
        sink.emit("session", created, {"account_id": aid, "ip": ip(rng), "event": "signup",
                                       "user_agent": vocab.USER_AGENTS[ua[i]], "device_id": device})
        if login[i] and end > created:
            t = created + int((end - created) * rng.random())
            sink.emit("session", t, {"account_id": aid, "ip": ip(rng), "event": "login",
                                     "user_agent": vocab.USER_AGENTS[ua[i]], "device_id": device})
        if i % 20_000 == 0:
            tick(min(20_000, n - i))


def emit_background_suspensions(
    sink: EventSink, rng: np.random.Generator, pop: Population, fraction: float, start: int, end: int
) -> list[dict]:
    bg = np.flatnonzero(~pop.planted)
    bg = np.setdiff1d(bg, pop.hubs)
    k = min(len(bg), int(round(len(bg) * fraction)))
    out = []
    for i in np.sort(rng.choice(bg, k, replace=False)).tolist():
        t = max(int(pop.created[i]) + DAY, start) + int(rng.integers(0, max(1, (end - start) // 2)))
        reason = vocab.SUSPENSION_REASONS_BENIGN[rng.integers(len(vocab.SUSPENSION_REASONS_BENIGN))]
        sink.emit("account_state", min(t, end), {"account_id": account_id(i), "state": "suspended", "reason": reason})
        out.append({"account": account_id(i), "reason": reason})
    return out
