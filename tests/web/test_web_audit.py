"""The audit page at scale: paged, filtered by actor/action/subject/time, incremental verification,
full verification on demand, and an audited export (over HTTP with FastAPI's TestClient)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from web_helpers import login, make_app

from netwarden import audit


@pytest.fixture(scope="module")
def app(web_store):
    return make_app(web_store)


def _seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'class="audit-row" data-seq="(\d+)"', html)]


def test_audit_page_pages_filters_and_verifies_incrementally(app, web_store):
    with web_store["store"].engine.begin() as conn:
        for i in range(230):
            audit.append(conn, "bulk-bot" if i % 2 else "Ana.Reviewer", "reveal", "media", f"m-{i}", {"i": i})
    client = TestClient(app)
    login(client, "admin")
    first = client.get("/audit")
    assert first.status_code == 200
    page = _seqs(first.text)
    assert len(page) == 100 and page == sorted(page, reverse=True)
    older = re.search(r'href="([^"]+)" id="audit-older"', first.text).group(1).replace("&amp;", "&")
    second = _seqs(client.get(older).text)
    assert len(second) == 100 and max(second) == min(page) - 1
    # the first load verified everything and left a checkpoint; the next load recomputes only what is new
    with web_store["store"].engine.begin() as conn:
        audit.append(conn, "bulk-bot", "reveal", "media", "m-new", {})
    again = client.get("/audit").text
    assert re.search(r"Chain verified: \d+ entries intact\s*\(\d+ new since the last verified entry", again)
    new = int(re.search(r"\((\d+) new since", again).group(1))
    assert 1 <= new <= 3  # the new entry and the logins/page loads since
    # filters: case-insensitive substrings; a time window; a bad time is a clear 400
    ana = client.get("/audit", params={"actor": "ana.rev", "subject_id": "m-1"}).text
    rows = re.findall(r'<td><bdi>([^<]*)</bdi></td><td>reveal</td><td>media <bdi>(m-1\d*)</bdi>', ana)
    assert rows and {a for a, _ in rows} == {"Ana.Reviewer"} and all(m.startswith("m-1") for _, m in rows)
    assert "0 matching entries" in client.get("/audit", params={"since": "2999-01-01"}).text
    bad = client.get("/audit", params={"until": "soon"})
    assert bad.status_code == 400 and "is not an ISO date" in bad.text


def test_full_verification_and_export_are_audited(app, web_store):
    client = TestClient(app)
    csrf = login(client, "admin")
    r = client.post("/audit/verify", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and "the whole chain recomputed just now" in r.text
    r = client.post("/audit/export", headers={"X-CSRF-Token": csrf},
                    data={"format": "csv", "actor": "bulk-bot", "action": "reveal"})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["x-content-type-options"] == "nosniff"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and {x["actor"] for x in rows} == {"bulk-bot"}
    j = client.post("/audit/export", headers={"X-CSRF-Token": csrf}, data={"format": "jsonl", "actor": "bulk-bot"})
    assert len([json.loads(line) for line in j.text.splitlines()]) >= len(rows)
    with web_store["store"].engine.connect() as conn:
        exports = audit.entries(conn, action="audit.export", actor="admin")
        assert exports[0]["detail"]["format"] == "jsonl" and exports[1]["detail"]["entries"] == len(rows)
        assert audit.entries(conn, action="audit.verify", actor="admin")[0]["detail"]["ok"] is True
        assert audit.verify(conn).ok
    # export and verify are writes: no CSRF token, no export; a non-admin may not export
    assert client.post("/audit/export", data={"format": "csv"}).status_code == 403
    other = TestClient(app)
    c2 = login(other, "moderator")
    assert other.post("/audit/export", headers={"X-CSRF-Token": c2}, data={"format": "csv"}).status_code == 403
