"""Issue 14 item 2: originals are served only as what they decode to, and only platform media files.

As found: a media `{"uri":"media/page.html","mime":"text/html"}` revealed and opened rendered HTML
on the app's origin; image/svg+xml was served; a media uri of events.jsonl or truth.json was
served whole.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hostile_world import MEDIA, PNG_ID
from itsdangerous import URLSafeTimedSerializer
from PIL import Image
from web_helpers import login

from netwarden import audit
from netwarden.media.decode import MediaError
from netwarden.store import schema as t
from netwarden.web import media as m
from netwarden.web.deps import urlpart

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
SERVED_IMAGES = {PNG_ID: "image/png", 'x,body,[data-x="/../../cases/1/refresh?"]': "image/png",
                 "/../../logout?": "image/png", "png-with-html-tail": "image/png"}
NOT_SHOWN = {"html-page": 415, "svg-image": 415, "gif-html-polyglot": 415, "fake-video": 415, "truth-file": 415,
             "events-file": 404, "outside-root": 404, "etc-passwd": 404, "file-url": 404, "remote-url": 404}


@pytest.fixture(scope="module")
def app(hostile_store):
    from netwarden.web.app import create_app

    return create_app(store=hostile_store["store"], media_roots=[str(hostile_store["world"])], secure_cookies=False)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        c.csrf = login(c, "moderator")
        yield c


def _grant(app, client, mid: str) -> str:
    """A grant as the app signs one, for a media item the reveal itself would refuse."""
    from netwarden.web.auth import token_hash

    return URLSafeTimedSerializer(app.state.secret, salt="netwarden-reveal").dumps(
        {"u": "moderator", "s": token_hash(client.cookies.get("nw_session")), "m": mid, "a": 0})


def test_every_hostile_media_item_is_covered():
    assert set(SERVED_IMAGES) | set(NOT_SHOWN) == set(MEDIA)


@pytest.mark.parametrize("mid", sorted(SERVED_IMAGES))
def test_an_image_is_served_typed_by_its_decoded_format_with_sandbox_headers(client, mid):
    r = client.post(f"/media/{urlpart(mid)}/reveal", headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 200, r.text[:200]
    grant = r.text.split("original?grant=")[1].split('"')[0]
    o = client.get(f"/media/{urlpart(mid)}/original?grant={grant}")
    assert o.status_code == 200
    assert o.headers["content-type"] == SERVED_IMAGES[mid]  # PNG_ID declares text/html
    assert o.headers["x-content-type-options"] == "nosniff"
    csp = o.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "default-src 'none'" in csp and "script-src" not in csp
    assert o.headers["content-disposition"] == 'inline; filename="original.png"'
    assert Image.open(io.BytesIO(o.content)).format == "PNG"


@pytest.mark.parametrize("mid", sorted(NOT_SHOWN))
def test_what_is_not_an_image_or_video_or_not_platform_media_is_never_served(app, client, hostile_store, mid):
    store = hostile_store["store"]
    with store.engine.connect() as conn:
        before = len(audit.entries(conn, action="reveal", subject_id=mid))
    r = client.post(f"/media/{urlpart(mid)}/reveal", headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == NOT_SHOWN[mid]
    assert "grant=" not in r.text
    with store.engine.connect() as conn:
        assert len(audit.entries(conn, action="reveal", subject_id=mid)) == before  # nothing was revealed
    # even with a grant signed by the app, the original answers with no bytes of the file
    o = client.get(f"/media/{urlpart(mid)}/original?grant={_grant(app, client, mid)}")
    assert o.status_code == NOT_SHOWN[mid]
    assert o.headers["content-type"].startswith("application/json")
    for needle in (b"<form", b"<svg", b"truth", b'"kind"', b"root:"):
        assert needle not in o.content


def test_the_store_database_is_never_served_even_under_a_media_root(hostile_store, tmp_path):
    from netwarden.web.app import create_app

    store = hostile_store["store"]
    db = Path(store.engine.url.database).resolve()
    with store.engine.begin() as conn:
        conn.execute(t.media.insert().values(id="store-db", kind="photo", uri=db.name, mime="image/png"))
    app = create_app(store=store, media_roots=[str(db.parent)], secure_cookies=False)
    with TestClient(app) as c:
        csrf = login(c, "admin")
        assert c.post("/media/store-db/reveal", headers={"X-CSRF-Token": csrf}).status_code == 404
        assert c.get("/media/store-db/blurred").content == m.placeholder()


def test_servable_types_by_decoded_format_and_reencodes_other_images(tmp_path):
    p = tmp_path / "a.png"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(p, "JPEG")  # a JPEG named .png
    out = m.servable(p, "photo")
    assert (out.content_type, out.ext, out.reencoded) == ("image/jpeg", "jpg", False)
    b = tmp_path / "b.bmp"
    Image.new("RGB", (8, 8)).save(b, "BMP")
    out = m.servable(b, "photo")
    assert (out.content_type, out.reencoded) == ("image/png", True)
    assert Image.open(io.BytesIO(out.data)).format == "PNG"
    with pytest.raises(MediaError):
        m.servable(p, "audio")
    with pytest.raises(MediaError):
        m.servable(p, "video")  # a still is not a video


def test_a_real_video_is_served_as_video_and_an_image_as_video_is_not():
    out = m.servable(TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4", "video")
    assert (out.content_type, out.ext) == ("video/mp4", "mp4")


def test_a_symlink_or_folder_under_a_media_root_serves_nothing_outside_it(hostile_store, tmp_path):
    """Probes beyond the issue's list: a link inside the root to a file outside, and a folder."""
    from netwarden.web.app import create_app

    store, world = hostile_store["store"], Path(hostile_store["world"])
    outside = tmp_path / "secret.png"
    Image.new("RGB", (8, 8)).save(outside, "PNG")
    (world / "media" / "link.png").symlink_to(outside)
    with store.engine.begin() as conn:
        conn.execute(t.media.insert().values(id="symlink-out", kind="photo", uri="media/link.png"))
        conn.execute(t.media.insert().values(id="a-folder", kind="photo", uri="media"))
    app = create_app(store=store, media_roots=[str(world)], secure_cookies=False)
    with TestClient(app) as c:
        csrf = login(c, "admin")
        for mid in ("symlink-out", "a-folder"):
            assert c.post(f"/media/{mid}/reveal", headers={"X-CSRF-Token": csrf}).status_code == 404
            assert c.get(f"/media/{mid}/blurred").content == m.placeholder()
