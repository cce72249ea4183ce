"""Findings: the `Signal` type and the registry of signal kinds (see .registry and docs/architecture.md).

The built-in kinds are registered here, once, in the order their reasons tie in and the queue
lists them; a new kind is one module beside these and one line in BUILTIN (or a `register` call).
"""

from . import evasion, media, network, reports, text
from .registry import (
    RiskInputs,
    Signal,
    SignalKind,
    describe,
    get,
    hashed_key,
    kinds,
    on_media,
    per_media_key,
    prior_factors,
    register,
    rows,
)

BUILTIN = (media.MEDIA_MATCH, media.MEDIA_CLASSIFIER, text.URL_MATCH, text.TERM_HIT, text.OFF_PLATFORM_ROUTE,
           network.CONTACT, network.PROXIMITY, reports.USER_REPORT, evasion.BAN_EVASION)
for _kind in BUILTIN:
    register(_kind)

__all__ = ["BUILTIN", "RiskInputs", "Signal", "SignalKind", "describe", "get", "hashed_key", "kinds", "on_media",
           "per_media_key", "prior_factors", "register", "rows"]
