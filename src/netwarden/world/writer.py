"""Streams native events to DIR/events.jsonl in time order without holding the world in memory.

Events are appended to time buckets (temporary files under DIR/.buckets) as they are generated in
any order; `close()` sorts each bucket by (time, event id) and concatenates them. Memory is bounded
by the largest bucket, not the world.
"""

from __future__ import annotations

import shutil
import time as _time
from pathlib import Path
from typing import Any

import orjson

FLUSH_LINES = 200_000


class EventSink:
    def __init__(self, out_dir: Path, t_min: int, t_max: int, buckets: int = 256):
        self.out_dir = out_dir
        self.tmp = out_dir / ".buckets"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.t_min = t_min
        self.width = max(3600, (t_max - t_min) // buckets + 1)
        self.pending: dict[int, list[bytes]] = {}
        self.n_pending = 0
        self.count = 0
        self.by_kind: dict[str, int] = {}
        self._day_cache: dict[int, str] = {}

    def _iso(self, t: int) -> str:
        day, sec = divmod(t, 86400)
        prefix = self._day_cache.get(day)
        if prefix is None:
            prefix = self._day_cache[day] = _time.strftime("%Y-%m-%dT", _time.gmtime(day * 86400))
        h, rem = divmod(sec, 3600)
        m, s = divmod(rem, 60)
        return f"{prefix}{h:02d}:{m:02d}:{s:02d}Z"

    def emit(self, kind: str, t: int, data: dict[str, Any]) -> None:
        t = int(t)
        self.count += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        rec = {"v": 1, "id": f"e{self.count:010d}", "kind": kind, "time": self._iso(t), "data": data}
        line = b"%011d\t" % t + orjson.dumps(rec)
        b = max(0, (t - self.t_min) // self.width)
        lst = self.pending.get(b)
        if lst is None:
            lst = self.pending[b] = []
        lst.append(line)
        self.n_pending += 1
        if self.n_pending >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        for b, lines in self.pending.items():
            with open(self.tmp / f"{b:08d}", "ab") as f:
                f.write(b"\n".join(lines) + b"\n")
        self.pending.clear()
        self.n_pending = 0

    def close(self, progress_cb=None) -> Path:
        self.flush()
        out = self.out_dir / "events.jsonl"
        files = sorted(self.tmp.iterdir())
        with open(out, "wb") as f:
            for i, p in enumerate(files):
                lines = p.read_bytes().split(b"\n")
                lines.pop()  # the empty piece after the last newline
                lines.sort()  # by the time prefix, then by the line: time, then event id
                f.write(b"\n".join(line[12:] for line in lines) + b"\n")
                if progress_cb:
                    progress_cb(i + 1, len(files))
        shutil.rmtree(self.tmp)
        return out
