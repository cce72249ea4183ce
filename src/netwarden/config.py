"""Configuration: environment variables and one optional TOML config file.

Precedence, highest first: command-line option, environment variable, config file, default.
See docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

DEFAULT_DB = "sqlite:///netwarden.db"


@dataclass
class Settings:
    db: str = DEFAULT_DB
    dead_letter: str = "netwarden-deadletter.jsonl"
    extra: dict = field(default_factory=dict)


def _config_file() -> Path | None:
    p = os.environ.get("NETWARDEN_CONFIG")
    if p:
        path = Path(p)
        if not path.is_file():
            raise UserError(f"NETWARDEN_CONFIG names {p}, which is not a file; point it at a TOML file or unset it.")
        return path
    path = Path("netwarden.toml")
    return path if path.is_file() else None


def load_settings() -> Settings:
    s = Settings()
    path = _config_file()
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"Config file {path} is not valid TOML ({e}); fix it or unset NETWARDEN_CONFIG.") from None
        for key, value in data.items():
            if hasattr(s, key) and key != "extra":
                setattr(s, key, value)
            else:
                s.extra[key] = value
    if os.environ.get("NETWARDEN_DB"):
        s.db = os.environ["NETWARDEN_DB"]
    if os.environ.get("NETWARDEN_DEAD_LETTER"):
        s.dead_letter = os.environ["NETWARDEN_DEAD_LETTER"]
    return s


def resolve_db(option: str | None) -> str:
    """The database URL: the --db option, else NETWARDEN_DB, else the config file, else ./netwarden.db."""
    url = option or load_settings().db
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{url}"
    return url
