"""A hostile world: native events written by the people under investigation, who know a tool reads them.

Every id, handle, name, bio, text, hashtag, alt text, URL and media file here is a payload: path
walks, selector and attribute breakouts, script and template injection, the app's own cache
placeholder, bidi overrides, case-folding length changes, layout bombs, and media that are HTML,
SVG, the store's own files or files outside the media roots. `write_hostile_world(dir)` writes the
events, the media files and a bank that matches one of the images, and returns what the tests need.
All words here are invented placeholders (the demo term list's own); nothing is real abuse signalling.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from netwarden import limits
from netwarden.world.images import pdq_hex

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
CSRF_SLOT = "__netwarden_csrf__"
LONG_HANDLE = "h" * limits.HANDLE  # the longest handle ingestion accepts
LONG_BIO = "x" * 20000  # one unbroken word
SCRIPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

# Account ids: each one would, unencoded, turn a link or a request into something else.
SEED = "../admin/users"
ACCOUNTS = {
    SEED: {"handle": CSRF_SLOT, "display_name": f"{RLO}evil{RLO} name", "bio": "kik: zz_hostile " + SCRIPT},
    'x,body,[data-x="/../../cases/1/refresh?"]': {"handle": LONG_HANDLE, "display_name": "selector",
                                                  "bio": LONG_BIO},
    "..": {"handle": "dotdot", "display_name": "{{ 7*7 }} ${7*7} #{7*7}", "bio": "İİİİİİ kik: zz_fold_target vantro"},
    ".": {"handle": "dot", "display_name": "dot", "bio": "ǅİﬃ ẞ kik: zz_second gorvex"},
    "a/b?c#d": {"handle": "<b>bold</b>", "display_name": "\"'><svg onload=alert(1)>", "bio": "%2e%2e%2f%00"},
    "%2F..%2Fqueue": {"handle": "javascript:alert(1)", "display_name": "pct", "bio": "\u200f\u202b nested \u2066 iso"},
    "~": {"handle": "tilde", "display_name": "tilde", "bio": "wa.me/15555550123"},
    "/../../logout?": {"handle": "logout", "display_name": "\u0000null\u0001ctl", "bio": "a\r\nSet-Cookie: x=1"},
    "../api/cases/1?": {"handle": "export", "display_name": "😀" * 300, "bio": "telegram: @zz_hostile_tg"},
    "ok-account": {"handle": "plain", "display_name": "Plain", "bio": "nothing to see"},
}

# Media: ids that are paths or selectors, files that are not what they claim, files that are not media.
PNG_ID = "../api/cases/1?"  # the avatar of one account: must never become an export request
MEDIA = {
    PNG_ID: {"kind": "photo", "uri": "media/known.png", "mime": "text/html"},  # a real PNG, lying about its type
    'x,body,[data-x="/../../cases/1/refresh?"]': {"kind": "photo", "uri": "media/known.png", "mime": "image/png"},
    "/../../logout?": {"kind": "photo", "uri": "media/plain.png", "mime": "image/png"},
    "html-page": {"kind": "photo", "uri": "media/page.html", "mime": "text/html"},
    "svg-image": {"kind": "photo", "uri": "media/logo.svg", "mime": "image/svg+xml"},
    "png-with-html-tail": {"kind": "photo", "uri": "media/tail.png", "mime": "image/png"},
    "gif-html-polyglot": {"kind": "photo", "uri": "media/poly.gif", "mime": "image/gif"},
    "events-file": {"kind": "photo", "uri": "events.jsonl", "mime": "image/png"},
    "truth-file": {"kind": "photo", "uri": "truth.json", "mime": "image/png"},
    "outside-root": {"kind": "photo", "uri": "../outside.png", "mime": "image/png"},
    "etc-passwd": {"kind": "photo", "uri": "/etc/passwd", "mime": "image/png"},
    "file-url": {"kind": "photo", "uri": "file:///etc/passwd", "mime": "image/png"},
    "remote-url": {"kind": "photo", "uri": "http://127.0.0.1:9/x.png", "mime": "image/png"},
    "fake-video": {"kind": "video", "uri": "media/page.html", "mime": "video/mp4"},
}
HTML_PAGE = ('<!doctype html><form action="/login" method="post"><input name="username"><input name="password">'
             '</form><meta http-equiv="refresh" content="0;url=http://198.51.100.1/">' + SCRIPT)
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="window.__pwned=3">'
       '<script>window.__pwned=4</script><rect width="10" height="10"/></svg>')


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:96, 0:96]
    arr = np.stack([(xx * 2 + seed * 40) % 256, (yy * 3) % 256, ((xx + yy) * rng.integers(1, 4)) % 256], -1)
    img = Image.fromarray(arr.astype(np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def write_hostile_world(root: Path) -> dict:
    root = Path(root)
    (root / "media").mkdir(parents=True, exist_ok=True)
    known = _png(1)
    (root / "media" / "known.png").write_bytes(known)
    (root / "media" / "plain.png").write_bytes(_png(2))
    (root / "media" / "tail.png").write_bytes(_png(3) + HTML_PAGE.encode())
    (root / "media" / "page.html").write_text(HTML_PAGE, encoding="utf-8")
    (root / "media" / "logo.svg").write_text(SVG, encoding="utf-8")
    (root / "media" / "poly.gif").write_bytes(b"GIF89a" + HTML_PAGE.encode())
    (root / "truth.json").write_text(json.dumps({"secret": "the world's truth file"}), encoding="utf-8")
    (root.parent / "outside.png").write_bytes(_png(4))
    pdq, _q = pdq_hex(Image.open(io.BytesIO(known)))

    events: list[dict] = []

    def add(kind: str, data: dict) -> None:
        n = len(events) + 1
        events.append({"v": 1, "id": f"hostile-{n:04d}\"'<>", "kind": kind,
                       "time": f"2026-02-01T00:{n // 60:02d}:{n % 60:02d}Z", "data": data})

    ids = list(ACCOUNTS)
    for aid, a in ACCOUNTS.items():
        d = {"id": aid, **a, "url": "javascript:alert(document.domain)", "created_at": "2025-12-01T00:00:00Z"}
        if aid == "../api/cases/1?":
            d["avatar"] = {"id": PNG_ID, **MEDIA[PNG_ID]}
        add("account", d)
    mids = list(MEDIA)
    for i, aid in enumerate(ids):
        media = [{"id": mid, **MEDIA[mid], "alt_text": f"alt {SCRIPT} {RLO}gnp.exe"}
                 for mid in mids[i::len(ids)]]
        add("post", {"id": f"post/{i}/../..", "author_id": aid,
                     "text": f"#quixfen vantro {SCRIPT} {CSRF_SLOT} {RLO}txet desrever {LONG_BIO[:3000]} İstanbul gorvex",
                     "hashtags": ["quixfen", "<script>", RLO + "tag", "a" * limits.TAG],
                     "urls": ["javascript:alert(1)", "http://127.0.0.1:9/x", "https://t.me/zz_hostile"],
                     "media": media, "lang": "en"})
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            add("follow", {"src": a, "dst": b})
            add("follow", {"src": b, "dst": a})
    events_path = root / "events.jsonl"
    with open(events_path, "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    return {"events": events_path, "root": root, "seed": SEED, "pdq": pdq, "accounts": ids, "media": mids}
