"""Issue 14 item 8: the HMA API's URL fetch is allowed by scheme, host and port, checks the resolved
addresses, re-checks redirects, has one total deadline and one error for every refusal.

As found: other ports on an allowed host were fetched (the app fetched itself), the error told open
ports from closed ones, plain http was accepted, the resolved address was not checked, and a server
sending one byte every 3 s held a request for 45 s (the timeout was per read, not per fetch).
"""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from netwarden import fetch
from netwarden.fetch import REFUSED, Origin, Refused

LOOPBACK = fetch.private_networks("127.0.0.0/8")


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/img":
            body = b"\x89PNG fake image bytes"
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/to/"):].replace("__", "://", 1))
            self.end_headers()
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):  # 30 s in all, one byte at a time
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.3)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def srv():
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{s.server_address[1]}"
    s.shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, allow, nets=LOOPBACK, deadline=5.0):
    return fetch.fetch(url, 1 << 20, allow=fetch.allow_list(allow), nets=nets, deadline=deadline)


def test_an_allowed_origin_is_fetched(srv):
    assert _get(srv + "/img", srv) == (b"\x89PNG fake image bytes", "image/png")


def test_the_allow_list_names_scheme_host_and_port(srv):
    host_only = "127.0.0.1"  # a bare host means https on 443: not this http port
    for allow in (host_only, srv.replace("http://", "https://"), srv.rsplit(":", 1)[0] + f":{_closed_port()}"):
        with pytest.raises(Refused):
            _get(srv + "/img", allow)
    assert fetch.parse_origin("files.example") == Origin("https", "files.example", 443)
    assert fetch.parse_origin("http://files.example:8080") == Origin("http", "files.example", 8080)
    with pytest.raises(Refused):
        _get(srv.replace("http://", "http://user:pw@") + "/img", srv)


def test_loopback_and_private_addresses_are_refused_unless_allowed(srv):
    with pytest.raises(Refused) as e:
        _get(srv + "/img", srv, nets=[])  # listed, but the address is loopback
    assert "address not allowed" in e.value.why
    port = srv.rsplit(":", 1)[1]
    with pytest.raises(Refused):  # a name that resolves to loopback is checked by its address
        _get(f"http://localhost:{port}/img", f"http://localhost:{port}", nets=[])
    for addr, ok in (("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("169.254.169.254", False),
                     ("100.64.0.1", False), ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False),
                     ("0.0.0.0", False), ("224.0.0.1", False), ("8.8.8.8", True), ("2001:4860:4860::8888", True)):
        assert fetch.address_allowed(addr, []) is ok, addr
    assert fetch.address_allowed("10.1.2.3", fetch.private_networks("10.0.0.0/8"))


def test_every_refusal_is_the_same_error(srv):
    closed = f"http://127.0.0.1:{_closed_port()}"
    cases = [(closed + "/img", closed),  # a closed port
             (srv + "/missing", srv),  # an open port answering 404
             ("http://203.0.113.9/img", srv),  # not on the list
             ("ftp://127.0.0.1/x", srv), ("not a url", srv)]
    messages = set()
    for url, allow in cases:
        with pytest.raises(Refused) as e:
            _get(url, allow)
        messages.add(str(e.value))
    assert messages == {REFUSED}


def test_redirects_are_followed_only_within_the_list(srv):
    inside = srv + "/to/" + srv.replace("://", "__") + "/img"
    assert _get(inside, srv)[0].startswith(b"\x89PNG")
    other = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(Refused) as e:
        _get(srv + "/to/" + other.replace("://", "__") + "/img", srv)
    assert "origin not allowed" in e.value.why


def test_one_deadline_bounds_the_whole_fetch(srv):
    with pytest.raises(Refused) as e:  # every read is quick; the whole body would take 30 s
        _get(srv + "/drip", srv, deadline=1.0)
    assert e.value.why in ("deadline", "ReadTimeout")
