"""Who may call the HMA-compatible API, and under which name its changes are audited.

Three ways in, checked in this order (docs/media.md, "Authentication"):

1. **An API key** in `X-API-Key` or `Authorization: Bearer KEY`, from NETWARDEN_API_KEYS: a
   comma-separated list of `name=key` pairs (a bare `key` is named `key-<first 8 hex of its
   SHA-256>`). The actor in the audit log is `api:<name>`.
2. **A trusted proxy's identity header** (opt-in): NETWARDEN_HMA_PROXY_HEADER names the header
   (for example `X-Forwarded-User`) and NETWARDEN_HMA_TRUSTED_PROXIES the proxy addresses (CIDRs).
   Only a request whose TCP peer is one of those proxies may use the header; the actor is
   `proxy:<value>`. The header from any other peer is ignored.
3. **A trusted network** (opt-in, for callers such as ROOST's Coop whose HMA client sends no
   credentials): NETWARDEN_HMA_TRUST_NETWORKS is a comma-separated list of CIDRs, or `loopback`
   (127.0.0.0/8, ::1) or `private` (loopback plus 10/8, 172.16/12, 192.168/16, fc00::/7). A request
   whose TCP peer is inside is let in as `network:<address>`. Forwarded-for headers are never read.

With nothing configured every request is refused (401). `/status` and `/status/live` are open.
Each opt-in mode logs a warning at startup (`warnings()`; `netwarden serve` prints them).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass, field

from fastapi import Request

from ..config import Settings, load

log = logging.getLogger("netwarden.hma")

_NAMED = {
    "loopback": ["127.0.0.0/8", "::1/128"],
    "private": ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
}


class AuthError(Exception):
    """401 with one sentence (the HMA error body)."""


@dataclass
class AuthConfig:
    keys: dict[str, str] = field(default_factory=dict)  # key -> name
    trust_networks: list = field(default_factory=list)
    proxy_header: str = ""
    trusted_proxies: list = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        """From the app's settings: api_keys, hma_trust_networks, hma_proxy_header, hma_trusted_proxies."""
        return cls(keys=parse_keys(settings.api_keys),
                   trust_networks=parse_networks(settings.hma_trust_networks, "NETWARDEN_HMA_TRUST_NETWORKS"),
                   proxy_header=settings.hma_proxy_header.strip(),
                   trusted_proxies=parse_networks(settings.hma_trusted_proxies, "NETWARDEN_HMA_TRUSTED_PROXIES"))

    def warnings(self) -> list[str]:
        out = []
        if self.trust_networks:
            out.append("HMA API: callers from " + ", ".join(str(n) for n in self.trust_networks)
                       + " are let in without an API key (NETWARDEN_HMA_TRUST_NETWORKS); anyone who can"
                       " reach the port from there can change banks.")
        if self.proxy_header:
            if not self.trusted_proxies:
                out.append(f"HMA API: NETWARDEN_HMA_PROXY_HEADER={self.proxy_header} is set but "
                           "NETWARDEN_HMA_TRUSTED_PROXIES is empty, so the header is ignored.")
            else:
                out.append(f"HMA API: the {self.proxy_header} header is trusted as the caller's identity from "
                           + ", ".join(str(n) for n in self.trusted_proxies)
                           + "; make sure that proxy strips it from its clients' requests.")
        return out

    def caller(self, request: Request) -> str:
        """The actor name for this request, or AuthError."""
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if given:
            for key, name in self.keys.items():
                if hmac.compare_digest(given.encode(), key.encode()):
                    return f"api:{name}"
            raise AuthError("The API key is not valid.")
        peer = _peer(request)
        if self.proxy_header and self.trusted_proxies and peer is not None and _inside(peer, self.trusted_proxies):
            who = (request.headers.get(self.proxy_header) or "").strip()
            if who:
                return f"proxy:{who[:100]}"
        if self.trust_networks and peer is not None and _inside(peer, self.trust_networks):
            return f"network:{peer}"
        raise AuthError("A valid API key is required (X-API-Key or Authorization: Bearer).")


def parse_keys(text: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, key = item.partition("=")
        if not sep:
            key, name = item, "key-" + hashlib.sha256(item.encode()).hexdigest()[:8]
        if key.strip():
            keys[key.strip()] = name.strip() or "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]
    return keys


def parse_networks(text: str, var: str) -> list:
    from ..errors import UserError

    nets = []
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            continue
        for cidr in _NAMED.get(item, [item]):
            try:
                nets.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                raise UserError(f"{var}: {item!r} is not a network; use CIDRs such as 10.0.0.0/8, "
                                "or 'loopback' or 'private'.") from None
    return nets


def _peer(request: Request):
    host = request.client.host if request.client else None
    try:
        return ipaddress.ip_address(host) if host else None
    except ValueError:
        return None  # e.g. the test client's "testclient"


def _inside(addr, nets) -> bool:
    if getattr(addr, "ipv4_mapped", None):
        addr = addr.ipv4_mapped
    return any(addr.version == n.version and addr in n for n in nets)


def config(request: Request) -> AuthConfig:
    state = request.app.state
    cfg = getattr(state, "hma_auth", None)
    legacy = getattr(state, "api_keys", None)  # a plain key list set on the app (tests, embedders)
    if legacy is not None and (cfg is None or cfg.keys != _named(legacy)):
        cfg = state.hma_auth = AuthConfig(keys=_named(legacy))
    if cfg is None:
        settings = getattr(state, "settings", None)
        cfg = state.hma_auth = AuthConfig.from_settings(settings if settings is not None else load())
    return cfg


def _named(keys) -> dict[str, str]:
    return dict(keys) if isinstance(keys, dict) else {k: f"key{i + 1}" for i, k in enumerate(keys)}


def caller(request: Request) -> str:
    """FastAPI dependency: the audited actor name of an allowed caller (AuthError otherwise)."""
    actor = config(request).caller(request)
    request.state.hma_actor = actor
    return actor
