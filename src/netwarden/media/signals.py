"""Signal types and bank file formats, with python-threatexchange / HMA names.

Netwarden stores four media signal types: `pdq`, `md5`, `sha256` (of the bytes, photo or video)
and `vpdq`; and two link types: `url` (python-threatexchange's `URLSignal`, name "url") and
`domain` (a host and all its subdomains). Names used by python-threatexchange, HMA and
ThreatExchange indicator types are accepted on import and mapped here (`photo_md5`/`video_md5` ->
md5, `video_sha256` -> sha256, `uri`/`raw_uri` -> url, `domain_name` -> domain). PDQ strings are
validated with threatexchange's own `PdqSignal`; links are stored in the form they are matched in
(netwarden.text.urls: https, punycode host without `www.`, tracking parameters dropped).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MEDIA_TYPES = ("pdq", "md5", "sha256", "vpdq")
LINK_TYPES = ("url", "domain")  # matched on links in text during ingestion, not on media
SIGNAL_TYPES = MEDIA_TYPES + LINK_TYPES
PDQ_THRESHOLD = 31  # a bank's default PDQ match threshold (bits of Hamming distance)
VPDQ_MATCH_PERCENT = 80.0  # share of the query's usable frames that must match a bank video

ALIASES = {
    "pdq": "pdq",
    "photo_pdq": "pdq",
    "md5": "md5",
    "photo_md5": "md5",
    "video_md5": "md5",
    "sha256": "sha256",
    "photo_sha256": "sha256",
    "video_sha256": "sha256",
    "vpdq": "vpdq",
    "video_vpdq": "vpdq",
    "url": "url",
    "uri": "url",
    "raw_uri": "url",
    "domain": "domain",
    "domain_name": "domain",
}

# Our name -> the python-threatexchange SignalType name used on export for HMA / threatexchange.
# (threatexchange has no domain signal type: `domain` stays as it is.)
TX_NAMES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256", "vpdq": "vpdq", "url": "url"}

_HEX = {"pdq": 64, "md5": 32, "sha256": 64}
_HEX_RE = re.compile(r"^[0-9a-f]+$")


def canonical_type(name: str) -> str | None:
    return ALIASES.get((name or "").strip().lower())


def normalize(signal_type: str, signal: str) -> tuple[str, str]:
    """Canonical (type, signal); raises ValueError with a short reason if invalid."""
    st = canonical_type(signal_type)
    if st is None:
        raise ValueError(f"unknown signal type {signal_type!r} (use one of {', '.join(SIGNAL_TYPES)})")
    if st in LINK_TYPES:
        from ..text.urls import bank_domain, bank_url

        return st, (bank_url(signal) if st == "url" else bank_domain(signal))
    s = (signal or "").strip().lower()
    if st == "vpdq":
        if not s:
            raise ValueError("empty vpdq signal")
        return st, s
    if len(s) != _HEX[st] or not _HEX_RE.match(s):
        raise ValueError(f"a {st} signal is {_HEX[st]} hex digits, got {signal!r}")
    if st == "pdq":
        from threatexchange.signal_type.pdq.signal import PdqSignal

        try:
            s = PdqSignal.validate_signal_str(s).lower()
        except Exception as e:
            raise ValueError(f"not a valid PDQ hash: {e}") from None
    return st, s


@dataclass
class Row:
    signal_type: str
    signal: str
    label: str = ""


def read_csv(text: str, source: str = "<csv>") -> tuple[list[Row], list[str]]:
    """Parse a bank CSV: `signal_type,signal,label` (header optional; a world's bank.csv is this).

    Also accepts python-threatexchange's simple text exports: one `signal_type signal` or
    `signal_type,signal` per line. Returns (rows, problems); each problem names its line.
    """
    rows: list[Row] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text))
    for n, rec in enumerate(reader, start=1):
        if not rec or not "".join(rec).strip() or rec[0].lstrip().startswith("#"):
            continue
        if len(rec) == 1 and " " in rec[0].strip():
            rec = rec[0].split()
        if n == 1 and rec[0].strip().lower() in ("signal_type", "type") and len(rec) >= 2:
            continue
        if len(rec) < 2:
            problems.append(f"{source} line {n}: expected signal_type,signal[,label]")
            continue
        try:
            st, s = normalize(rec[0], rec[1])
        except ValueError as e:
            problems.append(f"{source} line {n}: {e}")
            continue
        rows.append(Row(st, s, rec[2].strip() if len(rec) > 2 else ""))
    return rows, problems


def write_csv(rows: Iterable[Row], tx_names: bool = False) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["signal_type", "signal", "label"])
    yield buf.getvalue()
    for r in rows:
        buf.seek(0)
        buf.truncate()
        w.writerow([TX_NAMES.get(r.signal_type, r.signal_type) if tx_names else r.signal_type, r.signal, r.label])
        yield buf.getvalue()
