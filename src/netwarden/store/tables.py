"""Imports every table module so that `metadata` is complete (migrations, create_all)."""

from . import (
    schema,  # noqa: F401
    tables_audit,  # noqa: F401
    tables_cases,  # noqa: F401
    tables_enforce,  # noqa: F401
    tables_hma,  # noqa: F401
    tables_media,  # noqa: F401
    tables_reports,  # noqa: F401
    tables_scale,  # noqa: F401
    tables_sweep,  # noqa: F401
)
from .meta import metadata

__all__ = ["metadata"]
