"""Put a world together: population, planted networks, media, events, truth and bank."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from . import accounts, background, networks, reports, vocab
from .ids import account_id
from .images import MediaWriter, avatar_image, benign_image
from .params import WorldParams
from .population import DAY, Population, handle_variant, make_handle, make_handles
from .truth import TRUTH_FORMAT, network_truth, write_bank, write_terms, write_truth
from .writer import EventSink

Progress = Callable[[str, int, int], None]  # (phase, advance, total)


def _rng(seed: int, part: int) -> np.random.Generator:
    """An independent, stable random stream per part, so changing one part leaves the others alone."""
    return np.random.default_rng([seed, part])


def _parse_time(s: str) -> int:
    try:
        return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError as e:
        raise UserError(f"start {s!r} is not a time like 2025-09-01T00:00:00Z; fix the start option.") from e


def generate_world(out_dir: str | Path, params: WorldParams, progress: Progress | None = None) -> dict[str, Any]:
    params.check()
    t0 = time.perf_counter()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"Cannot create output directory {out}: {e.strerror}; choose a writable --out.") from e
    if (out / "events.jsonl").exists() and not (out / "truth.json").exists():
        raise UserError(f"{out} holds an events.jsonl that is not a generated world; choose an empty --out.")
    tick = progress or (lambda phase, adv, total: None)
    seed, p = params.seed, params
    start = _parse_time(p.start)
    end = start + p.days * DAY

    # media pools (a fixed cost, independent of the number of accounts)
    mw = MediaWriter(out, write=p.media)
    r = _rng(seed, 1)
    benign_pool = [mw.save(benign_image(r), f"media/benign/b{i:04d}.{'jpg' if i % 3 else 'png'}", "JPEG" if i % 3 else "PNG",
                           int(r.integers(60, 92))) for i in range(p.benign_pool)] if p.media else []
    avatar_pool = [mw.save(avatar_image(r), f"media/avatars/p{i:04d}.png", "PNG") for i in range(p.avatar_pool)] if p.media else []
    tick("media", 1, 1)

    pop = Population.build(_rng(seed, 2), p.accounts, start, p.background_protected)
    if p.signup_fraction > 0:  # ordinary people keep signing up while the networks are active
        rs = _rng(seed, 11)
        nonhub = np.setdiff1d(np.arange(p.accounts), pop.hubs)
        new = rs.choice(nonhub, int(round(len(nonhub) * p.signup_fraction)), replace=False)
        pop.created[new] = start + rs.integers(0, max(1, (p.days - 1) * DAY), len(new))
    contact_taken: set[str] = set()
    rx = _rng(seed, 12)
    nets = networks.plan(_rng(seed, 3), pop, p, start, end, mw, avatar_pool, contact_taken, rx)
    handles = make_handles(_rng(seed, 4), p.accounts)
    taken = set(handles)
    r = _rng(seed, 5)
    overrides: dict[int, dict] = {}
    for net in nets:
        olds = {rr["new"]: rr for rr in net.reregistrations}
        for m in net.members:
            if m.replaces is not None:
                if "handle_family" in olds[m.idx]["carried"]:  # the old handle, a digit added or changed
                    handles[m.idx] = handle_variant(rx, handles[m.replaces], taken)
                else:  # a fresh handle, unlike any the old account had
                    handles[m.idx] = make_handle(r, taken)
            overrides[m.idx] = {"bio": m.bio, "avatar": m.avatar if p.media else None, "name": m.name}
        if p.unwitting_followers:
            pool = np.flatnonzero(~pop.planted & (pop.community == net.community)) if net.community is not None else None
            if pool is None or len(pool) < p.unwitting_followers:
                pool = np.setdiff1d(np.flatnonzero(~pop.planted), pop.hubs)
            net.unwitting = sorted(int(x) for x in rx.choice(pool, min(len(pool), p.unwitting_followers), replace=False))
    rich: dict[int, tuple[str, str | None]] = {}
    if p.rich_profiles:  # ordinary accounts get names and bios from the same large space
        rr_ = _rng(seed, 13)
        for i in np.flatnonzero(~pop.planted).tolist():
            rich[i] = (networks.rich_name(rr_), networks.bio_line(rr_) if rr_.random() < 0.5 else None)
    # some ordinary accounts have one-off avatars too, so a unique avatar is not itself a tell
    n_unique = max(20, 3 * sum(len(n.reregistrations) for n in nets)) if p.media else 0
    bg = np.flatnonzero(~pop.planted)
    unique_avatars = {int(i): mw.save(avatar_image(r), f"media/avatars/u{int(i)}.png", "PNG")
                      for i in np.sort(r.choice(bg, min(n_unique, len(bg)), replace=False))}
    # decoys: ordinary accounts that use a planted hashtag once, innocently
    planted_tags = sorted({t for n in nets for t in n.hashtags})
    n_decoys = max(5, round(p.accounts * p.decoy_fraction)) if planted_tags else 0
    decoys = {int(i): planted_tags[j % len(planted_tags)]
              for j, i in enumerate(np.sort(r.choice(bg, min(n_decoys, len(bg)), replace=False)))}

    sink = EventSink(out, int(pop.created.min()), end)
    try:
        accounts.emit_accounts(sink, _rng(seed, 6), pop, handles, overrides, avatar_pool, unique_avatars, contact_taken,
                               end, lambda a: tick("accounts", a, p.accounts), p.background_contact_fraction, rich)
        bg_suspended = accounts.emit_background_suspensions(sink, _rng(seed, 7), pop, p.background_suspended, start, end)
        n_bg = int((~pop.planted).sum())
        n_follows = background.follows(sink, _rng(seed, 8), pop, end, p.mean_follows, lambda a: tick("follows", a, n_bg))
        bp, n_posts = background.posts(sink, _rng(seed, 9), pop, start, end, p.mean_posts, benign_pool, decoys,
                                       lambda a: tick("posts", a, 0))
        n_likes = background.likes(sink, _rng(seed, 10), pop, bp, end, p.mean_likes, lambda a: tick("likes", a, 0))
        counter = networks.PostCounter(n_posts)
        for k, net in enumerate(nets):
            networks.activity(sink, _rng(seed, 100 + k), pop, net, bp, start, end, counter, benign_pool)
            tick("networks", 1, len(nets))
        report_truth = (reports.emit_reports(sink, _rng(seed, 11), pop, nets, p.accounts, start, end)
                        if p.user_reports else [])
        n_events = sink.count
        by_kind = dict(sorted(sink.by_kind.items()))
        sink.close(lambda i, total: tick("sorting", 1, total))
    except BaseException:
        import shutil

        shutil.rmtree(out / ".buckets", ignore_errors=True)
        raise

    bank_rows = write_bank(out / "bank.csv", nets)
    term_rows = write_terms(out / "terms.yaml", planted_tags)
    truth = {
        "format": TRUTH_FORMAT,
        "seed": seed,
        "params": p.to_dict(),
        "time_range": {"start": p.start, "end": sink._iso(end)},
        "accounts": p.accounts,
        "events": n_events,
        "events_by_kind": by_kind,
        "networks": [network_truth(n) for n in nets],
        "reregistrations": [
            {"network": n.id, "old": account_id(rr["old"]), "new": account_id(rr["new"]), "carried": rr["carried"],
             "suspended_at": sink._iso(rr["suspended_at"]), "created_at": sink._iso(rr["created_at"])}
            for n in nets for rr in n.reregistrations
        ],
        "reports": report_truth,
        "decoys": [{"account": account_id(a), "reason": "signal_hashtag", "hashtag": t} for a, t in sorted(decoys.items())],
        "background_suspended": bg_suspended,
        "hubs": [account_id(int(h)) for h in pop.hubs],
        "signal_hashtags": planted_tags,
        "benign_hashtags": list(vocab.BENIGN_HASHTAGS),
        "bank": {"file": "bank.csv", "rows": bank_rows},
        "terms": {"file": "terms.yaml", "rows": term_rows},
        "media": {"written": p.media, "benign_pool": len(benign_pool), "avatar_pool": len(avatar_pool)},
    }
    write_truth(out / "truth.json", truth)
    return {
        "out": str(out),
        "seed": seed,
        "accounts": p.accounts,
        "events": n_events,
        "events_by_kind": by_kind,
        "background": {"follows": n_follows, "posts": n_posts, "likes": n_likes},
        "networks": [{"id": n.id, "members": len(n.members), "camouflage": n.camouflage, "style": n.style} for n in nets],
        "reregistrations": len(truth["reregistrations"]),
        "decoys": len(truth["decoys"]),
        "reports": len(report_truth),
        "bank_rows": bank_rows,
        "seconds": round(time.perf_counter() - t0, 2),
    }
