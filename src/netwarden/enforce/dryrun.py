"""The dry-run adapter: logs what it would do and changes nothing on the platform."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


class DryRunAdapter:
    name = "dryrun"

    def __init__(self, log_file: str | Path | None = None):
        self.log_file = Path(log_file) if log_file else None

    def deliver(self, action: dict) -> dict:
        line = {"key": action["key"], "action": action["action"], "account": action["account_id"],
                "payload": action["payload"]}
        log.info("dry run: %s", line)
        if self.log_file:
            with self.log_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line, sort_keys=True) + "\n")
        return {"dry_run": True}
