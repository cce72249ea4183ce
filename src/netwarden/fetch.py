"""Fetching a URL the operator allowed, and nothing else (the HMA API's `?url=`; issue 14 item 8).

- The allow-list (NETWARDEN_FETCH_ALLOW_HOSTS, comma-separated) names origins: `https://host`,
  `http://host:8080`. A bare `host` means `https://host:443` only. Scheme, host and port must all
  match; user info in a URL is refused.
- The host is resolved here and *every* address it resolves to must be public: loopback,
  link-local, private, shared, multicast, reserved and unspecified addresses are refused unless a
  network in NETWARDEN_FETCH_ALLOW_PRIVATE (comma-separated CIDRs, e.g. `10.2.0.0/16`) holds them.
  The connection goes to an address that was checked (no second lookup to rebind), while TLS
  still verifies the certificate for the host name.
- Redirects (at most MAX_REDIRECTS) are followed only to allowed origins, each hop checked again.
- One total deadline per fetch (NETWARDEN_FETCH_DEADLINE seconds, default 15) bounds resolution,
  connecting, TLS and every read together: a server dripping a byte every few seconds is cut off.
- Every refusal and every failure (not allowed, resolves to a private address, refused or closed
  port, timeout, TLS error, non-200 status, bad redirect) raises `Refused` with one and the same
  message, REFUSED, so the answer does not tell an open port from a closed one. A body over the
  caller's cap raises `TooLarge`.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore

REFUSED = ("Invalid or unsafe URL provided, or it could not be fetched; only URLs whose origin is on "
           "NETWARDEN_FETCH_ALLOW_HOSTS, resolving to public addresses, are fetched")
MAX_REDIRECTS = 3
DEFAULT_DEADLINE = 15.0
_PORTS = {"http": 80, "https": 443}
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-resolve")


class Refused(Exception):
    def __init__(self, why: str = ""):
        self.why = why  # for logs and tests only; never shown to the caller
        super().__init__(REFUSED)


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int


def parse_origin(entry: str) -> Origin:
    """An allow-list entry: `scheme://host[:port]`, or a bare host meaning https on 443."""
    entry = entry.strip()
    if "://" not in entry:
        entry = "https://" + entry
    u = urlsplit(entry)
    if u.scheme not in _PORTS or not u.hostname or u.username or u.path not in ("", "/") or u.query:
        raise ValueError(f"allow-list entry {entry!r} is not scheme://host[:port]")
    return Origin(u.scheme, u.hostname.lower().rstrip("."), u.port or _PORTS[u.scheme])


def allow_list(value: str) -> set[Origin]:
    """The origins of a fetch_allow_hosts setting (comma-separated)."""
    out = set()
    for e in value.split(","):
        if e.strip():
            try:
                out.add(parse_origin(e))
            except ValueError:
                continue  # a malformed entry allows nothing
    return out


def private_networks(value: str) -> list:
    """The networks of a fetch_allow_private setting (comma-separated CIDRs)."""
    nets = []
    for e in value.split(","):
        if e.strip():
            try:
                nets.append(ipaddress.ip_network(e.strip(), strict=False))
            except ValueError:
                continue
    return nets


def url_origin(url: str) -> Origin | None:
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError:
        return None
    if u.scheme not in _PORTS or not u.hostname or u.username is not None or u.password is not None:
        return None
    return Origin(u.scheme, u.hostname.lower().rstrip("."), port or _PORTS[u.scheme])


def address_allowed(addr: str, nets: list) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip.version == n.version and ip in n for n in nets):
        return True
    return ip.is_global and not (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        rem = self.end - time.monotonic()
        if rem <= 0:
            raise Refused("deadline")
        return rem


class _Stream(httpcore.NetworkStream):
    """A network stream whose every read and write is bounded by what is left of the deadline."""

    def __init__(self, inner, deadline: _Deadline):
        self.inner, self.deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.left())

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.left())

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, self.deadline.left()), self.deadline)

    def get_extra_info(self, info: str):
        return self.inner.get_extra_info(info)


class _CheckedBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses unless every address is allowed, connects to a checked one."""

    def __init__(self, nets: list, deadline: _Deadline):
        self.nets, self.deadline = nets, deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        fut = _RESOLVER.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = fut.result(timeout=self.deadline.left())
        except FutureTimeout:
            raise Refused("resolve timeout") from None
        except OSError:
            raise Refused("resolve failed") from None
        addrs = list(dict.fromkeys(i[4][0] for i in infos))
        if not addrs or not all(address_allowed(a, self.nets) for a in addrs):
            raise Refused(f"address not allowed: {addrs}")
        last: Exception | None = None
        for a in addrs:
            try:
                inner = super().connect_tcp(a, port, self.deadline.left(), local_address, socket_options)
                return _Stream(inner, self.deadline)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
        raise Refused(f"connect failed: {last.__class__.__name__ if last else ''}")


_FAILURES = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
             httpcore.UnsupportedProtocol, OSError, ssl.SSLError, ValueError)


def fetch(url: str, max_bytes: int, *, allow: set[Origin], nets: list,
          deadline: float = DEFAULT_DEADLINE) -> tuple[bytes, str]:
    """(body, Content-Type) of an allowed URL; raises Refused (one message) or TooLarge. The caller
    passes its settings' allow-list, private networks and deadline (web/hma.py's fetch_url)."""
    dl = _Deadline(deadline)
    for _hop in range(MAX_REDIRECTS + 1):
        origin = url_origin(url)
        if origin is None or origin not in allow:
            raise Refused(f"origin not allowed: {origin}")
        try:
            with httpcore.ConnectionPool(network_backend=_CheckedBackend(nets, dl), retries=0) as pool:
                left = dl.left()
                t = {"connect": left, "read": left, "write": left, "pool": left}
                with pool.stream("GET", url, headers=[(b"Accept", b"image/*, video/*")],
                                 extensions={"timeout": t}) as r:
                    if r.status in (301, 302, 303, 307, 308):
                        loc = dict((k.lower(), v) for k, v in r.headers).get(b"location", b"").decode("latin-1")
                        if not loc:
                            raise Refused("redirect without a location")
                        url = urljoin(url, loc)
                        continue
                    if r.status != 200:
                        raise Refused(f"HTTP {r.status}")
                    data = bytearray()
                    for chunk in r.iter_stream():
                        data += chunk
                        if len(data) > max_bytes:
                            raise TooLarge()
                        dl.left()
                    ctype = dict((k.lower(), v) for k, v in r.headers).get(b"content-type", b"").decode("latin-1")
                    return bytes(data), ctype
        except (Refused, TooLarge):
            raise
        except _FAILURES as e:
            raise Refused(e.__class__.__name__) from None
    raise Refused("too many redirects")
