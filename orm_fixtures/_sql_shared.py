"""What every ORM's SQL fixture agrees on, importing no ORM: where a dataset lives, what a
complete one holds, how PostgreSQL is named and how its errors read.

SQLAlchemy builds the tables (``_sql_dataset``); Django reads the same ones. A Django
measurement must not import SQLAlchemy: its modules would join the heap that ``gc.freeze()``
and the full collections' thresholds see, and change Django's counts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Optional

from . import dataset
from ._cache import cache_dir
from .urls import mask_password

# --db postgresql: $ORMGC_POSTGRES_URL, else DEFAULT_URL (the local server, trust auth).
SHORTCUT = "postgresql"
URL_ENV = "ORMGC_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5  # an unreachable server is reported within seconds, not TCP's minutes
URL_FORM = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
SUPPORTED_DBS = "'sqlite', 'sqlite:///PATH', 'postgresql' or 'postgresql://USER@HOST:PORT/DBNAME'"


def expected_meta(rows: int, seed: int) -> Dict[str, str]:
    """The meta table of a complete dataset for (rows, seed)."""
    return {"schema_version": str(dataset.SCHEMA_VERSION), "rows": str(rows), "seed": str(seed)}


def expected_counts(rows: int) -> Dict[str, int]:
    """Rows per table of a complete dataset."""
    return {"entry": rows, "child": rows, "parent": dataset.parent_count(rows)}


def verify_tables(cursor: Any, rows: int, seed: int) -> Optional[str]:
    """None if the tables a DB-API ``cursor`` sees hold the dataset for (rows, seed)."""
    cursor.execute("SELECT key, value FROM ormgc_meta")
    meta = dict(cursor.fetchall())
    if meta != expected_meta(rows, seed):
        return f"holds another dataset ({meta})"
    for table, expected in expected_counts(rows).items():
        cursor.execute(f"SELECT count(*) FROM {table}")
        (count,) = cursor.fetchone()
        if count != expected:
            return f"{table} has {count} rows, expected {expected}"
    return None


def sqlite_cache_path(rows: int, seed: int) -> Path:
    """The cached SQLite file of (rows, seed) at the current SCHEMA_VERSION."""
    name = f"sqlalchemy-v{dataset.SCHEMA_VERSION}-r{rows}-s{seed}.sqlite3"
    return cache_dir() / "datasets" / name


def is_postgres(db: str) -> bool:
    """Whether ``db`` asks for PostgreSQL, perhaps through a driver we do not support."""
    return db == SHORTCUT or db.partition("://")[0].lower().startswith("postgres")


def schema_name(rows: int, seed: int) -> str:
    """The schema holding the dataset of (rows, seed) at the current SCHEMA_VERSION."""
    return f"ormgc_v{dataset.SCHEMA_VERSION}_r{rows}_s{seed}".replace("-", "m")


def pg_reason(error: Exception, timeout: Any = CONNECT_TIMEOUT_S) -> str:
    """psycopg's message, first line only, without the parts the URL already says."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = lines[0] if lines else type(error).__name__
    reason = re.sub(r"^connection failed: ", "", reason)
    reason = re.sub(r"^connection to server at .*? failed: ", "", reason)
    reason = re.sub(r"^(FATAL|ERROR): +", "", reason)
    if "timeout expired" in reason:
        reason = f"no answer within {timeout} s (connect_timeout)"
    return mask_password(reason)
