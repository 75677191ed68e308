"""PostgreSQL through psycopg 3: URLs, one-line connection errors, datasets in their own schema.

Each (SCHEMA_VERSION, rows, seed) lives in its own schema of the database the URL names
(``ormgc_v1_r100000_s20220107``). The models carry no schema: one ``schema_translate_map``
points every statement at it. A dataset is built in one transaction, into a scratch schema
renamed at the end, under an advisory lock: other processes see the complete dataset or none
(a crash rolls the whole build back), and a second builder waits instead of building it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from typing import Any, Dict, Iterator, Optional

import sqlalchemy
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from ._cache import notify
from ._sql_dataset import populate
from ._sql_shared import (  # noqa: F401  (is_postgres, schema_name: part of this module's API)
    CONNECT_TIMEOUT_S,
    DEFAULT_URL,
    SHORTCUT,
    URL_ENV,
    URL_FORM,
    expected_counts,
    expected_meta,
    is_postgres,
    schema_name,
)
from ._sql_shared import pg_reason as _reason
from .errors import FixtureError
from .urls import mask_password

DRIVER_SCHEME = "postgresql+psycopg"
_TABLES = ("entry", "parent", "child", "ormgc_meta")


def resolve_url(db: str) -> Any:
    """The psycopg 3 URL that ``db`` names: a URL, or the shortcut."""
    origin = "--db"
    if db == SHORTCUT:
        db = os.environ.get(URL_ENV) or DEFAULT_URL
        origin = f"${URL_ENV}" if os.environ.get(URL_ENV) else "the default URL"
    scheme, separator, rest = db.partition("://")
    if not separator or scheme.lower() not in ("postgresql", DRIVER_SCHEME):
        hint = " (SQLAlchemy calls it postgresql://)" if scheme.lower() == "postgres" else ""
        raise FixtureError(
            f"unsupported PostgreSQL URL {mask_password(db)!r} in {origin}{hint}: "
            f"use {URL_FORM} (the driver is psycopg 3)"
        )
    try:
        url = make_url(f"{DRIVER_SCHEME}://{rest}")
    except (sa_exc.ArgumentError, ValueError, TypeError):
        raise FixtureError(f"cannot read PostgreSQL URL in {origin}: use {URL_FORM}") from None
    if "@" in (url.host or ""):  # the URL shows nothing: part of a password would leak
        raise FixtureError(
            f"PostgreSQL URL in {origin} has an '@' in its user name or password: write it as %40"
        )
    if "password" in url.query:
        raise FixtureError(
            f"PostgreSQL URL in {origin}: give the password as USER:PASSWORD@ or in $PGPASSWORD, "
            "not as ?password="
        )
    if not url.database:
        raise FixtureError(f"PostgreSQL URL in {origin} names no database: use {URL_FORM}")
    return url


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(f"orm-gc-bench {schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def verify(conn: Any, schema: str, rows: int, seed: int) -> Optional[str]:
    """None if ``schema`` holds the complete dataset for (rows, seed), else what is wrong."""
    query = text("SELECT tablename FROM pg_tables WHERE schemaname = :schema")
    found = set(conn.execute(query, {"schema": schema}).scalars())
    if not found:
        return "missing"
    absent = [table for table in _TABLES if table not in found]
    if absent:
        return f"tables missing: {', '.join(absent)}"
    meta = dict(conn.execute(text(f'SELECT key, value FROM "{schema}".ormgc_meta')).all())
    if meta != expected_meta(rows, seed):
        return f"holds another dataset ({meta})"
    for table, expected in expected_counts(rows).items():
        count = conn.execute(text(f'SELECT count(*) FROM "{schema}".{table}')).scalar_one()
        if count != expected:
            return f"{table} has {count} rows, expected {expected}"
    return None


class PostgresBackend:
    """A dataset in its own schema of a PostgreSQL database, through psycopg 3."""

    def __init__(self, db: str, rows: int, seed: int) -> None:
        self.url = resolve_url(db)
        self.rows, self.seed = rows, seed
        self.schema = schema_name(rows, seed)
        self.shown = self.url.render_as_string(hide_password=True)
        self.server_version: Optional[str] = None

    def _engine(self) -> Any:
        if int(sqlalchemy.__version__.split(".")[0]) < 2:
            raise FixtureError(
                f"PostgreSQL is measured through psycopg 3, which SQLAlchemy supports from 2.0; "
                f"this environment has SQLAlchemy {sqlalchemy.__version__}: use --profile current"
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise FixtureError(
                "psycopg 3 is not installed in the measured environment "
                "(it is pinned in ormgc/profiles/current.txt)"
            ) from None
        options = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "orm-gc-bench"}
        for given in set(options) & set(self.url.query):
            del options[given]  # the URL's own settings win
        return create_engine(self.url, connect_args=options)

    @contextlib.contextmanager
    def _connected(self, engine: Any) -> Iterator[Any]:
        """A connection; any database error becomes one line naming the (masked) URL."""
        try:
            conn = engine.connect()
        except sa_exc.DBAPIError as exc:
            timeout = self.url.query.get("connect_timeout", CONNECT_TIMEOUT_S)
            raise FixtureError(
                f"cannot connect to PostgreSQL at {self.shown}: {_reason(exc, timeout)}"
            ) from None
        try:
            with conn:
                if self.server_version is None:
                    version = conn.execute(text("SHOW server_version")).scalar_one()
                    self.server_version = str(version)
                    conn.rollback()
                yield conn
        except sa_exc.DBAPIError as exc:
            raise FixtureError(f"PostgreSQL at {self.shown}: {_reason(exc)}") from None

    def ensure(self) -> None:
        """Build the dataset unless its schema already verifies."""
        engine = self._engine()
        try:
            with self._connected(engine) as conn:
                if verify(conn, self.schema, self.rows, self.seed) is not None:
                    conn.rollback()
                    self._build(conn)
        finally:
            engine.dispose()

    def _build(self, conn: Any) -> None:
        label = f"PostgreSQL dataset of {self.rows} rows"
        where = f"schema {self.schema} of {self.shown}"
        scratch = f"{self.schema}_building"
        with conn.begin():  # everything below commits together or not at all
            key = {"key": _lock_key(self.schema)}
            if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar():
                notify(f"waiting for another process building {label} in {where}")
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
            problem = verify(conn, self.schema, self.rows, self.seed)
            if problem is None:  # another builder finished while we waited
                return
            if problem != "missing":
                notify(f"{label} in {where} failed verification ({problem}); rebuilding")
            notify(f"building {label} (once; kept in {where})")
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{scratch}"'))
            into_scratch = conn.execution_options(schema_translate_map={None: scratch})
            populate(into_scratch, self.rows, self.seed)
            problem = verify(conn, scratch, self.rows, self.seed)
            if problem is not None:
                raise FixtureError(f"freshly built {label} failed verification: {problem}")
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            conn.execute(text(f'ALTER SCHEMA "{scratch}" RENAME TO "{self.schema}"'))

    def open(self) -> Any:
        """An engine whose statements use the dataset's schema, once the dataset verifies."""
        engine = self._engine()
        try:
            with self._connected(engine) as conn:
                problem = verify(conn, self.schema, self.rows, self.seed)
        except BaseException:
            engine.dispose()
            raise
        if problem is not None:
            engine.dispose()
            raise FixtureError(
                f"dataset in schema {self.schema} of {self.shown} is missing or incomplete "
                f"({problem}); build it first ('ormgc run' prepares it)"
            )
        return engine.execution_options(schema_translate_map={None: self.schema})

    def describe(self) -> Dict[str, Any]:
        import psycopg

        return {
            "driver": "psycopg",
            "driver_version": psycopg.__version__,
            "driver_impl": psycopg.pq.__impl__,  # binary, c or python: it allocates differently
            "backend": self.shown,
            "db_schema": self.schema,
            "server": "postgresql",
            "server_version": self.server_version,
        }
