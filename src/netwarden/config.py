"""Settings: every one declared once here, loaded once by each face and passed down.

A setting is a field of `Settings`: its name is the config file key, `NETWARDEN_` + the name in
upper case is its environment variable, its annotation the type, and its metadata the doc line
(docs/configuration.md's table is generated from these fields by `settings_table`, and a test fails
when the file is stale). Precedence, highest first: command-line option, environment variable,
config file, default.

The faces load the settings once and hand them on: the CLI's callback (`cli/__init__.py`, read by
`cli.common.settings()`), the review app (`create_app(settings=...)`, `app.state.settings`), the
stream worker and the Spark jobs. Library code takes the values it needs as parameters; nothing
reads the environment at import time, and the config file is read, never written into os.environ.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import UserError

DEFAULT_DB = "sqlite:///netwarden.db"
PREFIX = "NETWARDEN_"
CONFIG_ENV = "NETWARDEN_CONFIG"
CONFIG_NAME = "netwarden.toml"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _s(default: Any, doc: str, *, option: str = "", shown: str | None = None, secret: bool = False,
       sep: str = ",", group: str = "core") -> Any:
    """One setting's declaration (a dataclass field with its documentation)."""
    return field(default=default, repr=not secret,
                 metadata={"doc": doc, "option": option, "shown": shown, "secret": secret, "sep": sep, "group": group})


@dataclass(frozen=True)
class Settings:
    """All of Netwarden's settings, typed; `Settings()` is the built-in defaults."""

    # the store and ingestion
    db: str = _s(DEFAULT_DB, "the store: `sqlite:///PATH` (or a bare path) or `postgresql://USER:PASS@HOST:PORT/DB`",
                 option="--db")
    dead_letter: str = _s("netwarden-deadletter.jsonl", "where bad input records go, with their line and reason",
                          option="ingest --dead-letter")
    terms: str | None = _s(None, "the operator's term list (docs/text.md)", option="ingest --terms, scan --terms",
                           shown="none (contacts and links only)")
    graph_dir: str | None = _s(None, "where the graph snapshot lives (docs/graph.md); `off` builds the graph in each "
                               "process instead", shown="`<db file>.graph` beside a SQLite store; none for PostgreSQL")
    kernel_dir: str | None = _s(None, "where `graph build` puts the push kernel compiled ahead of time (docs/graph.md); "
                                "`off` uses numba's JIT in each process", shown="`~/.cache/netwarden/kernels`")
    coop_user_types: tuple[str, ...] = _s((), "comma-separated Coop item types that are user accounts (docs/formats.md)",
                                          shown="none")
    mastodon_child_safety_rules: tuple[str, ...] = _s(
        (), "comma-separated Mastodon rule ids whose reports are child-safety reports (docs/formats.md)", shown="none")
    # media
    media_threads: int = _s(2, "threads hashing media during ingestion", group="media")
    media_cache: int = _s(200000, "how many distinct files' hashes ingestion keeps in memory, so identical bytes "
                          "are decoded once", group="media")
    media_max_bytes: int = _s(100 * 1024 * 1024, "largest media file decoded, in bytes (larger ones are refused)",
                              shown="104857600 (100 MiB)", group="media")
    media_max_pixels: int = _s(64_000_000, "largest image decoded, in pixels", group="media")
    media_time_limit: float = _s(10.0, "seconds allowed to decode and hash one image", group="media")
    classifier: str = _s("", "an image classifier as `package.module:factory` (docs/media.md)", shown="none",
                         group="media")
    classifier_threshold: float = _s(0.8, "classifier score at or above which a `media_classifier` signal is "
                                     "written", group="media")
    # the review app and the HMA-compatible API
    media_roots: tuple[str, ...] = _s((), "folders the review app may read media bytes from (os.pathsep-separated)",
                                      option="serve --media-root", shown="the store's media folders", sep=os.pathsep,
                                      group="web")
    secure_cookies: bool = _s(True, "session cookies carry `Secure` (turn off only for plain-HTTP loopback demos)",
                              option="serve --insecure-cookies", group="web")
    base_url: str | None = _s(None, "the review app's public URL; redirects use it and other Host headers are "
                              "refused", option="serve --base-url", shown="none", group="web")
    secret: str | None = _s(None, "signs reveal grants; the same in every worker of one app", shown="random per "
                            "`serve`", secret=True, group="web")
    four_eyes: bool = _s(True, "enforcement needs a second reviewer's approval (docs/review.md)", group="web")
    labels: tuple[str, ...] = _s((), "comma-separated account labels reviewers may set (docs/review.md); others are "
                                 "refused", shown="any label", group="web")
    password: str | None = _s(None, "the new reviewer's password", option="user add --password",
                              shown="a prompt, else generated", secret=True, group="web")
    api_keys: str = _s("", "API keys of the HMA-compatible API as `name=key,...` (docs/media.md)", shown="none",
                       secret=True, group="web")
    hma_trust_networks: str = _s("", "CIDRs (or `loopback`) let into the HMA API without a key", shown="none",
                                 group="web")
    hma_proxy_header: str = _s("", "a trusted proxy's identity header for the HMA API", shown="none", group="web")
    hma_trusted_proxies: str = _s("", "CIDRs of the proxies whose identity header is believed", shown="none",
                                  group="web")
    fetch_allow_hosts: str = _s("", "comma-separated hosts the HMA API may fetch media URLs from", shown="none",
                                group="web")
    fetch_allow_private: str = _s("", "comma-separated private CIDRs those fetches may reach", shown="none",
                                  group="web")
    fetch_deadline: float = _s(15.0, "seconds one media fetch may take", group="web")
    # enforcement
    enforce_adapter: str = _s("dryrun", "the enforcement adapter (docs/enforcement.md)", option="enforce run --adapter",
                              group="enforce")
    dryrun_log: str = _s("", "the dryrun adapter's log file", shown="none (stdout)", group="enforce")
    mastodon_url: str = _s("", "the Mastodon adapter's server", shown="none", group="enforce")
    mastodon_token: str = _s("", "the Mastodon adapter's admin token", shown="none", secret=True, group="enforce")
    webhook_url: str = _s("", "the webhook adapter's URL", shown="none", group="enforce")
    webhook_secret: str = _s("", "the webhook adapter's signing secret", shown="none", secret=True, group="enforce")
    # evidence and NCMEC
    vault_dir: str = _s("netwarden-vault", "the evidence vault (docs/evidence.md)", group="report")
    vault_key_file: str | None = _s(None, "the vault's keys, one base64 key per line, the last current",
                                    shown="none", group="report")
    vault_key: str | None = _s(None, "the vault's key(s) inline, current first", shown="none", secret=True,
                               group="report")
    signing_key_file: str | None = _s(None, "Ed25519 PEM key that signs evidence packages", shown="none",
                                      group="report")
    ncmec_reporter_first_name: str = _s("Trust", "the reporting person named in CyberTipline reports "
                                        "([ncmec.md](ncmec.md))", group="report")
    ncmec_reporter_last_name: str = _s("Safety", "their last name", group="report")
    ncmec_reporter_email: str = _s("", "their email (needed to file)", shown="none", group="report")
    ncmec_env: str = _s("test", "`test` or `production` (docs/ncmec.md)", group="report")
    ncmec_url: str | None = _s(None, "a test server standing in for NCMEC's (refused in production)",
                               shown="NCMEC's test server", group="report")
    ncmec_user: str | None = _s(None, "NCMEC API user", shown="none", group="report")
    ncmec_password: str | None = _s(None, "NCMEC API password", shown="none", secret=True, group="report")
    ncmec_xsd: str | None = _s(None, "NCMEC's schema; reports are validated against it", shown="the bundled subset",
                               group="report")
    # Spark
    spark_driver_memory: str = _s("2g", "driver memory for `netwarden spark ...` jobs", group="spark")
    spark_jdbc_jar: str = _s("/usr/share/java/postgresql.jar", "PostgreSQL JDBC driver; with it a PostgreSQL store "
                             "is read by Spark's executors ([scaling.md](scaling.md))", group="spark")
    spark_jdbc_partitions: int = _s(8, "parallel JDBC reads per table", group="spark")

    def env_value(self, var: str) -> Any:
        """The value of the setting whose environment variable is `var` (NETWARDEN_MASTODON_URL)."""
        return getattr(self, var.removeprefix(PREFIX).lower())


def env_name(name: str) -> str:
    return PREFIX + name.upper()


def _types() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def config_path(env: Mapping[str, str], cwd: Path | None = None) -> Path | None:
    """The config file: the one $NETWARDEN_CONFIG names, else ./netwarden.toml if present."""
    p = env.get(CONFIG_ENV)
    if p:
        path = Path(p)
        if not path.is_file():
            raise UserError(f"NETWARDEN_CONFIG names {p}, which is not a file; point it at a TOML file or unset it.")
        return path
    path = (cwd or Path.cwd()) / CONFIG_NAME
    return path if path.is_file() else None


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"Config file {path} is not valid TOML ({e}); fix it or unset NETWARDEN_CONFIG.") from None


def _file_values(path: Path) -> dict[str, Any]:
    """The file's keys, flattened: tables only group keys (`[review] four_eyes = false` is four_eyes)."""
    known = {f.name for f in fields(Settings)}
    out: dict[str, Any] = {}
    items = list(_read(path).items())
    while items:
        key, value = items.pop(0)
        if isinstance(value, dict):
            items.extend(value.items())
            continue
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise UserError(f"Config file {path}: {key!r} is not a setting; {hint}see docs/configuration.md.")
        out[key] = value
    return out


def _parse(name: str, kind: Any, raw: Any, source: str) -> Any:
    """`raw` (a string from the environment or a TOML value) as the setting's type, or one sentence."""
    meta = Settings.__dataclass_fields__[name].metadata
    base = next((a for a in typing.get_args(kind) if a is not type(None)), kind) if typing.get_args(kind) else kind
    origin = typing.get_origin(kind)
    if origin is tuple:
        items = raw if isinstance(raw, list) else str(raw).split(meta["sep"])
        return tuple(s for s in (str(i).strip() for i in items) if s)
    if isinstance(raw, list | dict):
        raise UserError(f"{source} must be a plain value; see docs/configuration.md.")
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE or word in FALSE:
            return word in TRUE
        raise UserError(f"{source} is {raw!r}; {env_name(name)} takes true or false (1/0, yes/no, on/off).")
    if kind in (int, float):
        try:
            if isinstance(raw, bool) or (kind is int and isinstance(raw, float)):
                raise ValueError
            return kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise UserError(f"{source} is {raw!r}; {env_name(name)} must be {what} (docs/configuration.md).") from None
    assert base is str, f"setting {name}: unsupported type {kind}"
    return str(raw).lower() if isinstance(raw, bool) else str(raw)


def load(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """The settings from the environment (default os.environ) over the config file over the defaults,
    validated: a bad value is one UserError naming the variable or key and the fix.

    An empty environment variable counts as unset."""
    env = os.environ if env is None else env
    path = config_path(env, cwd)
    from_file = _file_values(path) if path else {}
    values: dict[str, Any] = {}
    for name, kind in _types().items():
        raw = env.get(env_name(name))
        if raw is not None and raw.strip():
            values[name] = _parse(name, kind, raw, f"${env_name(name)}")
        elif name in from_file:
            values[name] = _parse(name, kind, from_file[name], f"{name!r} in {path}")
    return Settings(**values)


def resolve_db(option: str | None, settings: Settings | None = None) -> str:
    """The database URL: the --db option, else the settings' db (NETWARDEN_DB, the config file, ./netwarden.db)."""
    url = option or (settings if settings is not None else load()).db
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{url}"
    return url


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(f: Any) -> str:
    if f.metadata["shown"] is not None:
        return f.metadata["shown"]
    value = f.default
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`" if isinstance(value, str) else str(value)


GROUPS = {"core": "The store and ingestion", "media": "Media", "web": "The review app and the HMA-compatible API",
          "enforce": "Enforcement", "report": "Evidence and NCMEC", "spark": "Spark"}


def settings_table() -> str:
    """docs/configuration.md's settings tables, generated from the declarations above."""
    out = []
    for group, title in GROUPS.items():
        out += ["", f"### {title}", "", "| variable | config key | option | default | meaning |", "|---|---|---|---|---|"]
        for f in fields(Settings):
            if f.metadata["group"] != group:
                continue
            option = ", ".join(f"`{o.strip()}`" for o in f.metadata["option"].split(",") if o.strip())
            secret = " (a secret: never shown)" if f.metadata["secret"] else ""
            out.append(f"| `{env_name(f.name)}` | `{f.name}` | {option} | {_cell(_default(f))} | "
                       f"{_cell(f.metadata['doc'])}{secret} |")
    return "\n".join(out[1:]) + "\n"


def render_doc(text: str) -> str:
    """docs/configuration.md with its generated settings tables replaced by the current ones."""
    from .docgen import render

    return render(text, {"settings": settings_table})


if __name__ == "__main__":  # python -m netwarden.config rewrites docs/configuration.md's tables
    from .docgen import rewrite

    rewrite(Path(__file__).resolve().parents[2] / "docs" / "configuration.md", {"settings": settings_table})
