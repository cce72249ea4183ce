"""Configuration: environment variables and one optional TOML config file.

Precedence, highest first: command-line option, environment variable, config file, default.
See docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

DEFAULT_DB = "sqlite:///netwarden.db"


@dataclass
class Settings:
    db: str = DEFAULT_DB
    dead_letter: str = "netwarden-deadletter.jsonl"


def _config_file() -> Path | None:
    p = os.environ.get("NETWARDEN_CONFIG")
    if p:
        path = Path(p)
        if not path.is_file():
            raise UserError(f"NETWARDEN_CONFIG names {p}, which is not a file; point it at a TOML file or unset it.")
        return path
    path = Path("netwarden.toml")
    return path if path.is_file() else None


def apply_config_file() -> None:
    """Make the config file's keys the defaults of their NETWARDEN_* environment variables.

    `terms = "x.yaml"` in the file acts as NETWARDEN_TERMS=x.yaml unless that variable is set, so
    every component reads one place. Tables only group keys: `[review] four_eyes = false` is
    NETWARDEN_FOUR_EYES. Called when the CLI starts and by load_settings.
    """
    path = _config_file()
    if path is None:
        return
    items = list(_read(path).items())
    while items:
        key, value = items.pop(0)
        if isinstance(value, dict):
            items.extend(value.items())
            continue
        if isinstance(value, list):
            raise UserError(f"Config file {path}: key {key!r} must be a plain value; see docs/configuration.md.")
        name = "NETWARDEN_" + key.upper()
        if name not in os.environ:
            os.environ[name] = str(value).lower() if isinstance(value, bool) else str(value)


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"Config file {path} is not valid TOML ({e}); fix it or unset NETWARDEN_CONFIG.") from None


def load_settings() -> Settings:
    """Settings from the environment, with the config file's keys as defaults (apply_config_file)."""
    apply_config_file()
    return Settings(db=os.environ.get("NETWARDEN_DB") or DEFAULT_DB,
                    dead_letter=os.environ.get("NETWARDEN_DEAD_LETTER") or Settings.dead_letter)


def resolve_db(option: str | None) -> str:
    """The database URL: the --db option, else NETWARDEN_DB, else the config file, else ./netwarden.db."""
    url = option or load_settings().db
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{url}"
    return url
