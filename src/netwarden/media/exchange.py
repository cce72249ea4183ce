"""Fetching bank contents from hash-sharing exchanges through python-threatexchange.

Every exchange python-threatexchange implements is usable by name: `ncmec` (NCMEC hash sharing),
`stop_ncii` (StopNCII), `fb_threatexchange` (Meta ThreatExchange), `file` (a local signal file,
one `signal_type signal` a line) and `sample` (threatexchange's built-in benign examples).
Credentials are read the way python-threatexchange reads them (its CredentialHelper: environment
variable or credentials file); Netwarden never stores them. Collaboration settings (for example
NCMEC's `environment`, ThreatExchange's `privacy_group`) are passed as key=value options.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..errors import UserError
from .signals import canonical_type, normalize


def _apis() -> dict:
    from threatexchange.exchanges.impl.fb_threatexchange_api import FBThreatExchangeSignalExchangeAPI
    from threatexchange.exchanges.impl.file_api import LocalFileSignalExchangeAPI
    from threatexchange.exchanges.impl.ncmec_api import NCMECSignalExchangeAPI
    from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
    from threatexchange.exchanges.impl.stop_ncii_api import StopNCIISignalExchangeAPI

    return {"ncmec": NCMECSignalExchangeAPI, "stop_ncii": StopNCIISignalExchangeAPI,
            "fb_threatexchange": FBThreatExchangeSignalExchangeAPI, "file": LocalFileSignalExchangeAPI,
            "sample": StaticSampleSignalExchangeAPI}


def signal_types() -> list:
    """The threatexchange SignalTypes Netwarden banks: each registered type's `tx()` (netwarden.signal_types)."""
    from .. import signal_types as registry

    return registry.tx_types()


def exchanges() -> list[str]:
    return sorted(_apis())


def fetch(exchange: str, bank: str, options: dict[str, str] | None = None) -> Iterator[tuple[str, str, str]]:
    """Yield (signal_type, signal, label) for every live signal the exchange has for this collaboration."""
    apis = _apis()
    if exchange not in apis:
        raise UserError(f"Unknown exchange {exchange!r}; use one of {', '.join(sorted(apis))}.")
    api_cls = apis[exchange]
    cfg_cls = api_cls.get_config_cls()
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    opts = dict(options or {})
    unknown = set(opts) - fields
    if unknown:
        raise UserError(f"Exchange {exchange} has no setting {sorted(unknown)[0]!r}; its settings are "
                        f"{', '.join(sorted(fields - {'name', 'api', 'enabled'}))}.")
    try:
        collab = cfg_cls(name=bank, api=api_cls.get_name(), enabled=True, **opts)
    except TypeError as e:
        raise UserError(f"Exchange {exchange} needs more settings ({e}); pass them as --set key=value.") from None
    try:
        api = api_cls.for_collab(collab)
        types = signal_types()
        merged: dict = {}
        for delta in api.fetch_iter(types, None):
            api_cls.naive_fetch_merge(merged, delta.updates)
        by_type = api_cls.naive_convert_to_signal_type(types, collab, merged)
    except UserError:
        raise
    except Exception as e:  # credentials missing, network, API errors: one sentence
        raise UserError(f"Fetching from exchange {exchange} failed ({e.__class__.__name__}: {e}); "
                        "check its credentials and settings.") from None
    for st_cls, sigs in by_type.items():
        st = canonical_type(st_cls.get_name())
        if st is None:
            continue
        for sig, meta in sigs.items():
            try:
                _, value = normalize(st, sig)
            except ValueError:
                continue  # not a signal Netwarden can match (e.g. an ftp:// link); skipped
            label = ""
            try:
                ops = meta.get_as_opinions()
                tags = sorted({t for o in ops for t in getattr(o, "tags", ())})
                label = ",".join(tags)[:200]
            except Exception:
                pass
            yield st, value, label
