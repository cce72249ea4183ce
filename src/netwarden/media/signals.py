"""Bank file formats (CSV and python-threatexchange's text exports) over the signal types of
`netwarden.signal_types` (one module each: pdq, md5, sha256, vpdq, url, domain, ...).

Names used by python-threatexchange, HMA and ThreatExchange indicator types are accepted on import
(`photo_md5`/`video_md5` -> md5, `video_sha256` -> sha256, `uri`/`raw_uri` -> url, `domain_name` ->
domain; each type lists its own) and written on export with `--tx-names`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .. import signal_types


def canonical_type(name: str) -> str | None:
    t = signal_types.get(name)
    return t.name if t is not None else None


def normalize(signal_type: str, signal: str) -> tuple[str, str]:
    """Canonical (type, signal); raises ValueError with a short reason if invalid."""
    t = signal_types.get(signal_type)
    if t is None:
        raise ValueError(f"unknown signal type {signal_type!r} (use one of {', '.join(signal_types.names())})")
    return t.name, t.normalize(signal)


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
        w.writerow([signal_types.tx_name(r.signal_type) if tx_names else r.signal_type, r.signal, r.label])
        yield buf.getvalue()
