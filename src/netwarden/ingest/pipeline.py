"""Ingestion: files -> validated native events -> store rows and signals, with checkpoints.

Each batch of lines is one transaction holding its events, their projections, the signals found
in them, its dead letters and the file's new checkpoint. A run killed at any moment therefore
resumes exactly after the last committed batch, and the store ends as after an uninterrupted run.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from ..clock import stamp as _now
from ..config import Settings
from ..errors import UserError
from ..store import Store
from ..store import schema as t
from ..store.upsert import upsert
from . import events as native
from .apply import Rows
from .formats import FORMAT_NAMES, Format, get_format, guess_format
from .reader import BOM, Line, clean_nul, decode_record, fingerprint, read_lines

log = logging.getLogger(__name__)
DEFAULT_BATCH = 20000
SNIFF_RECORDS = 20


@dataclass
class FileSummary:
    path: str
    lines: int = 0
    events: int = 0
    dead: int = 0
    resumed_from_line: int = 0


@dataclass
class IngestSummary:
    format: str
    files: list[FileSummary] = field(default_factory=list)
    dead_letter_file: str | None = None

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def dead(self) -> int:
        return sum(f.dead for f in self.files)

    def as_dict(self) -> dict:
        return {"format": self.format, "events": self.events, "dead_letters": self.dead,
                "dead_letter_file": self.dead_letter_file, "files": [asdict(f) for f in self.files]}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector off while one batch is built and written.

    A batch allocates hundreds of thousands of short-lived dicts and lists, freed by reference
    counting when the batch ends; letting the collector chase them as they are made (and promote
    the live ones through its generations) costs about a tenth of the stream worker's CPU. The
    collector runs again, as usual, once the batch is done.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_files(paths: list[Path], fmt: Format) -> None:
    """Refuse, before anything is written, a missing file or one not in the given format."""
    for p in paths:
        if not p.exists():
            raise UserError(f"Input {p} does not exist; check the path.")
        if not p.is_file():
            raise UserError(f"Input {p} is not a file; pass JSON Lines files.")
        with p.open("rb") as f:
            head = f.read(2)
        if head in (b"\xff\xfe", b"\xfe\xff"):
            raise UserError(f"Input {p} is UTF-16 text; convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8).")
        decoded = 0
        matched = 0
        guesses: set[str] = set()
        for line in read_lines(p):
            if line.error is None:
                values = line.value if isinstance(line.value, list) and fmt.name != "native" else [line.value]
                for v in values[:SNIFF_RECORDS]:
                    decoded += 1
                    if fmt.sniff(v):
                        matched += 1
                    else:
                        g = guess_format(v)
                        if g:
                            guesses.add(g)
            if decoded >= SNIFF_RECORDS or line.number >= 10 * SNIFF_RECORDS:
                break
        if decoded and not matched:
            guesses.discard(fmt.name)
            others = [n for n in FORMAT_NAMES if n != fmt.name]
            other = f" (it looks like {', '.join(sorted(guesses))})" if guesses else ""
            hint = f"--format {sorted(guesses)[0]}" if guesses else f"another --format ({', '.join(others)})"
            raise UserError(f"Input {p} is not {fmt.name} data{other}; pass {hint}.")
        if not decoded and line_count_nonblank(p) == 0:
            raise UserError(f"Input {p} is empty (no records); nothing was ingested. Pass a JSON Lines file in the "
                            f"{fmt.name} format.")
        if not decoded:
            raise UserError(f"Input {p} holds no JSON records; pass a JSON Lines file in the {fmt.name} format.")


def line_count_nonblank(p: Path) -> int:
    with p.open("rb") as f:
        return sum(1 for raw in f if raw.strip() and raw.strip() != BOM)


def load_hooks(store: Store, terms: str | None = None, settings: Settings | None = None) -> list:
    """Signal extractors run inside each ingest transaction (media hashing, text scanning); the media
    hook is configured by `settings` (the face's; None: the defaults)."""
    hooks = []
    for module, cls, kwargs in (("media_signals", "MediaSignals", {"settings": settings}),
                                ("text_signals", "TextSignals", {"terms_path": terms})):
        mod = importlib.import_module(f"netwarden.ingest.{module}")  # no fallback: see netwarden.deps
        hooks.append(getattr(mod, cls)(store, **kwargs))
    return hooks


class Ingestor:
    def __init__(self, store: Store, fmt: str = "native", batch_size: int = DEFAULT_BATCH,
                 hooks: list | None = None, on_progress: Callable[[int], None] | None = None,
                 settings: Settings | None = None):
        try:
            self.fmt = get_format(fmt, settings)
        except KeyError:
            raise UserError(f"Unknown --format {fmt!r}; use one of {', '.join(FORMAT_NAMES)}.") from None
        self.store = store
        self.batch_size = batch_size
        self.hooks = hooks if hooks is not None else []
        self.on_progress = on_progress
        self._commits = 0
        self._bytes_before = 0
        # Crash injection for the resume tests: "before:N" / "after:N" kills this process with
        # SIGKILL inside / right after the N-th batch transaction. A test hook, not a setting: the
        # resume tests set it in the environment of the subprocess they kill, so it is read here.
        crash = os.environ.get("NETWARDEN_TEST_CRASH", "")
        self._crash = (crash.split(":")[0], int(crash.split(":")[1])) if ":" in crash else None

    def _maybe_crash(self, when: str) -> None:
        if self._crash and self._crash == (when, self._commits):
            os.kill(os.getpid(), signal.SIGKILL)

    def run(self, paths: list[Path], dead_letter: Path | None = None) -> IngestSummary:
        paths = [Path(p) for p in paths]
        check_files(paths, self.fmt)
        summary = IngestSummary(format=self.fmt.name)
        self._bytes_before = 0  # bytes of the files already done, for progress across files
        for p in paths:
            summary.files.append(self._ingest_file(p))
            self._bytes_before += p.stat().st_size
        if self.store.dialect == "sqlite":  # fold the write-ahead log into the database file now
            with self.store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        if dead_letter is not None and summary.dead:
            summary.dead_letter_file = str(write_dead_letters(self.store, [f.path for f in summary.files], dead_letter))
        return summary

    def _ingest_file(self, path: Path) -> FileSummary:
        source = str(path.resolve())
        fp = fingerprint(path)
        size = path.stat().st_size
        start, start_line = 0, 0
        with self.store.engine.connect() as conn:
            cp = conn.execute(select(t.ingest_checkpoints).where(t.ingest_checkpoints.c.source == source)).first()
        if cp is not None and cp.fingerprint == fp and cp.byte_offset <= size and cp.format == self.fmt.name:
            start, start_line = cp.byte_offset, cp.line
        fs = FileSummary(path=source, resumed_from_line=start_line)
        base_dir = str(path.resolve().parent)
        last: Line | None = None
        lines = read_lines(path, start, start_line)
        while True:
            with paused_gc():
                rows, batch = Rows(), []
                for line in lines:
                    self._add(rows, line, source)
                    line.value = None  # the batch keeps the raw line only (decoded again if it must split)
                    batch.append(line)
                    last = line
                    if len(batch) >= self.batch_size:
                        break
                else:  # the file is done: the last (maybe empty) batch marks the checkpoint done
                    end = last or Line(start_line, start, b"")
                    self._commit_or_split(rows, batch, source, fp, Line(end.number, size if last else start, b""),
                                          base_dir, fs, done=True)
                    return fs
                self._commit_or_split(rows, batch, source, fp, last, base_dir, fs)

    def _commit_or_split(self, rows: Rows, batch: list[Line], source: str, fp: str, last: Line, base_dir: str,
                         fs: FileSummary, done: bool = False) -> None:
        """Commit a batch; when the store refuses a value in it, find the line by halving the batch and
        dead-letter that line with the store's reason, so a rerun never fails on the same batch again."""
        try:
            self._commit(rows, source, fp, last, base_dir, fs, done)
            return
        except DBAPIError as e:
            if not batch or not refused_value(e):
                raise
            reason = store_reason(e)
        if len(batch) == 1:
            log.warning("%s line %d: %s", source, batch[0].number, reason)
            rows = Rows()
            rows.dead.append(_dead(source, batch[0], reason))
            self._commit(rows, source, fp, last, base_dir, fs, done)
            return
        mid = len(batch) // 2
        for part, end, part_done in ((batch[:mid], batch[mid - 1], False), (batch[mid:], last, done)):
            part_rows = Rows()
            for line in part:
                if line.error is None:
                    line.value, line.error, _ = decode_record(line.raw, None)
                self._add(part_rows, line, source)
                line.value = None
            self._commit_or_split(part_rows, part, source, fp, end, base_dir, fs, part_done)

    def _add(self, rows: Rows, line: Line, source: str) -> None:
        if line.error is not None:
            rows.dead.append(_dead(source, line, line.error))
            return
        if self.fmt.to_events is None:  # native: one record a line, stored as it came
            try:
                subject = native.validate(line.value)
            except native.BadRecord as e:
                rows.dead.append(_dead(source, line, str(e)))
                return
            rows.add(line.value, line.raw, subject, self.fmt.name)  # as it came (NULs replaced: decode_record)
            return
        values = line.value if isinstance(line.value, list) else [line.value]
        try:  # a foreign record may map to several events: all of them, or a dead letter
            evs = [e for v in values for e in self.fmt.to_events(v)]
            checked = [(e, native.validate(e)) for e in evs]
        except native.BadRecord as e:
            rows.dead.append(_dead(source, line, str(e)))
            return
        for e, subject in checked:
            rows.add(e, None, subject, self.fmt.name)

    def add_line(self, rows: Rows, line: Line, source: str) -> None:
        """Decode one input line's record(s) into `rows`, or a dead letter (used by the stream worker)."""
        self._add(rows, line, source)

    def apply(self, conn, rows: Rows, base_dir: str | None) -> None:
        """Write a batch's rows and run the signal hooks inside the caller's transaction."""
        rows.write(conn)
        if self.hooks:
            batch = rows.batch(base_dir)
            if batch:
                for hook in self.hooks:
                    hook.on_batch(conn, batch)

    def _commit(self, rows: Rows, source: str, fp: str, last: Line, base_dir: str, fs: FileSummary,
                done: bool = False) -> None:
        self._commits += 1
        with self.store.engine.begin() as conn:
            self.apply(conn, rows, base_dir)
            upsert(conn, t.ingest_checkpoints, [{
                "source": source, "format": self.fmt.name, "byte_offset": last.end, "line": last.number,
                "fingerprint": fp, "done": done, "updated_at": _now(),
            }], ["source"], ("format", "byte_offset", "line", "fingerprint", "done", "updated_at"))
            self._maybe_crash("before")
        self._maybe_crash("after")
        fs.lines = last.number
        fs.events += len(rows.events)
        fs.dead += len(rows.dead)
        if self.on_progress:
            self.on_progress(self._bytes_before + last.end)


def refused_value(e: DBAPIError) -> bool:
    """True when the database refused a value (bad data, a constraint, a size limit), not for a lost
    connection or a server that is down: only the former is the record's fault."""
    if e.connection_invalidated:
        return False
    if isinstance(e, DataError | IntegrityError):
        return True
    state = getattr(e.orig, "sqlstate", None) or ""
    return state[:2] in ("22", "23", "54")  # data exception, integrity, program limit (index row size)


def store_reason(e: DBAPIError) -> str:
    first = (str(e.orig).strip().splitlines() or [type(e.orig).__name__])[0]
    return f"the store refused this record: {first[:300]}"


def _dead(source: str, line: Line, reason: str) -> dict:
    record = line.raw[:10_000].decode("utf-8", errors="replace")  # raw NUL bytes (bad JSON) too:
    return {"source": source, "line": line.number, "reason": clean_nul(reason), "record": clean_nul(record)}


def write_dead_letters(store: Store, sources: list[str], out: Path) -> Path:
    """Write every dead letter of these sources to `out` (JSON Lines), replacing the file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with store.engine.connect() as conn, tmp.open("wb") as f:
        q = (select(t.dead_letters).where(t.dead_letters.c.source.in_(sources))
             .order_by(t.dead_letters.c.source, t.dead_letters.c.line))
        for r in conn.execute(q):
            f.write(orjson.dumps({"source": r.source, "line": r.line, "reason": r.reason, "record": r.record}) + b"\n")
    tmp.replace(out)
    return out


def ingest_files(store: Store, paths: list, fmt: str = "native", dead_letter: Path | None = None,
                 batch_size: int = DEFAULT_BATCH, signals: bool = True, terms: str | None = None,
                 on_progress: Callable[[int], None] | None = None, settings: Settings | None = None) -> IngestSummary:
    """Ingest `paths`; `settings` are the face's (None: the defaults), read by the formats and hooks."""
    hooks = load_hooks(store, terms, settings) if signals else []
    return Ingestor(store, fmt, batch_size, hooks, on_progress, settings).run([Path(p) for p in paths], dead_letter)
