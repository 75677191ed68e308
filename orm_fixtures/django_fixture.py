"""Django on the SQL dataset: the tables SQLAlchemy built and cached, read through Django's ORM.

``ensure()`` builds (or verifies) the dataset through the SQLAlchemy fixture, in the process
that prepares it; measuring processes import only Django. Each fixture adds its own database
alias to standalone Django's settings: SQLite opens the cached file read-only, PostgreSQL
reaches the dataset's schema through ``search_path``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import quote

import django
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DjangoDatabaseError

from . import dataset
from ._sql_shared import (
    CONNECT_TIMEOUT_S,
    DEFAULT_URL,
    SHORTCUT,
    SUPPORTED_DBS,
    URL_ENV,
    URL_FORM,
    is_postgres,
    pg_reason,
    schema_name,
    sqlite_cache_path,
    verify_tables,
)
from .django_models import Entry
from .errors import FixtureError
from .urls import mask_password

__all__ = ["DjangoFixture", "register_database"]

_SCHEMES = ("postgresql", "postgresql+psycopg")


def register_database(settings: Dict[str, Any]) -> str:
    """Add ``settings`` as a Django database (once) and return its alias."""
    key = repr(sorted(settings.items())).encode()
    alias = f"ormgc-{hashlib.sha256(key).hexdigest()[:12]}"
    if alias not in connections.settings:
        # connections.settings is settings.DATABASES with Django's defaults filled in: the one
        # way to add a database to a configured process (several datasets, as the tests use).
        filled = connections.configure_settings({DEFAULT_DB_ALIAS: dict(settings)})
        connections.settings[alias] = filled[DEFAULT_DB_ALIAS]
    return alias


def _sqlite(path: Path) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Settings and description of the SQLite file at ``path``, opened read-only."""
    settings = {"ENGINE": "django.db.backends.sqlite3", "NAME": f"file:{quote(str(path))}?mode=ro"}
    description = {
        "driver": "sqlite3",
        "driver_version": sqlite3.sqlite_version,
        "backend": f"sqlite:///{path}",
        "server": "sqlite (in-process)",
        "server_version": sqlite3.sqlite_version,
    }
    return settings, description


def _postgres(db: str, schema: str) -> Tuple[Dict[str, Any], str]:
    """Settings reaching ``schema`` of the database ``db`` names, and the URL to show."""
    import psycopg  # the driver Django uses here; only PostgreSQL runs need it
    from psycopg.conninfo import conninfo_to_dict

    origin = "--db"
    if db == SHORTCUT:
        db = os.environ.get(URL_ENV) or DEFAULT_URL
        origin = f"${URL_ENV}" if os.environ.get(URL_ENV) else "the default URL"
    scheme, separator, rest = db.partition("://")
    if not separator or scheme.lower() not in _SCHEMES:
        raise FixtureError(
            f"unsupported PostgreSQL URL {mask_password(db)!r} in {origin}: use {URL_FORM} "
            "(the driver is psycopg 3)"
        )
    authority, query = rest.partition("/")[0], rest.partition("?")[2]
    if authority.count("@") > 1:
        raise FixtureError(
            f"PostgreSQL URL in {origin} has an '@' in its user name or password: write it as %40"
        )
    if "password=" in query.lower():
        raise FixtureError(
            f"PostgreSQL URL in {origin}: give the password as USER:PASSWORD@ or in $PGPASSWORD, "
            "not as ?password="
        )
    try:
        params = conninfo_to_dict(f"postgresql://{rest}")
    except psycopg.Error:
        raise FixtureError(f"cannot read PostgreSQL URL in {origin}: use {URL_FORM}") from None
    if not params.get("dbname"):
        raise FixtureError(f"PostgreSQL URL in {origin} names no database: use {URL_FORM}")
    options = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "orm-gc-bench"}
    options.update(params)  # the URL's own settings win
    # The models name bare tables, as SQLAlchemy's do: the dataset's schema comes first on the
    # search path (SQLAlchemy uses a schema_translate_map); options the URL gives are kept.
    search_path = f"-c search_path={schema}"
    options["options"] = (
        f"{options['options']} {search_path}" if "options" in options else search_path
    )
    settings = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": options.pop("dbname"),
        "USER": options.pop("user", ""),
        "PASSWORD": options.pop("password", ""),  # none: libpq reads $PGPASSWORD
        "HOST": options.pop("host", ""),
        "PORT": options.pop("port", ""),
        "OPTIONS": options,
    }
    return settings, mask_password(f"postgresql://{rest}")


class DjangoFixture:
    """One dataset in one database, read through Django: ``db`` as for SQLAlchemy."""

    orm = "django"

    def __init__(self, db: str, rows: int, seed: int = dataset.DEFAULT_SEED) -> None:
        self.db, self.rows, self.seed = db, rows, seed
        self.schema: Optional[str] = None  # PostgreSQL only
        self.path: Optional[Path] = None  # SQLite only
        if db == "sqlite" or (db.startswith("sqlite:///") and len(db) > len("sqlite:///")):
            given = db[len("sqlite:///") :]
            path = Path(given).expanduser().resolve() if given else sqlite_cache_path(rows, seed)
            self._settings, self._description = _sqlite(path)
            self.path, self.where = path, f"dataset {path}"
        elif is_postgres(db):
            self.schema = schema_name(rows, seed)
            self._settings, shown = _postgres(db, self.schema)
            self._description = {"backend": shown, "db_schema": self.schema, "server": "postgresql"}
            self.where = f"PostgreSQL at {shown}"
        else:
            raise FixtureError(
                f"unsupported database {mask_password(db)!r} for django: use {SUPPORTED_DBS}"
            )
        self._alias: Optional[str] = None

    def ensure(self) -> None:
        """Build the dataset through the SQLAlchemy fixture unless a verified copy exists."""
        from .sqlalchemy_fixture import SqlAlchemyFixture  # only the preparing process needs it

        builder = SqlAlchemyFixture(self.db, self.rows, self.seed)
        try:
            builder.ensure()
        finally:
            builder.close()

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Django's database errors as one line naming the (masked) database."""
        try:
            yield
        except DjangoDatabaseError as exc:
            reason = pg_reason(exc) if self.schema else str(exc).splitlines()[0]
            raise FixtureError(f"{self.where}: {doing}: {reason}") from None

    def _connected(self) -> str:
        """The alias, connected, once the dataset it reaches verifies."""
        if self._alias is not None:
            return self._alias
        if self.path is not None and not self.path.exists():
            raise FixtureError(f"{self.where} is missing; run 'ormgc run' to build it")
        alias = register_database(self._settings)
        connection = connections[alias]
        try:
            connection.ensure_connection()
        except DjangoDatabaseError as exc:
            reason = pg_reason(exc) if self.schema else str(exc)
            raise FixtureError(f"cannot connect to {self.where}: {reason}") from None
        try:
            with connection.cursor() as cursor:
                problem = verify_tables(cursor, self.rows, self.seed)
        except DjangoDatabaseError as exc:
            problem = str(exc).splitlines()[0]
        if problem is not None:
            connection.close()
            where = f"schema {self.schema} of {self.where}" if self.schema else self.where
            raise FixtureError(
                f"{where} is missing or incomplete ({problem}); run 'ormgc run' to build it"
            )
        self._alias = alias
        return alias

    def describe(self) -> Dict[str, Any]:
        """What a record says about the ORM, the driver and the database (password masked)."""
        description = {"orm": self.orm, "orm_version": django.__version__}
        description.update(self._description)
        if self.schema:
            import psycopg

            with self._errors("asking its version"), connections[self._connected()].cursor() as cur:
                cur.execute("SHOW server_version")
                (version,) = cur.fetchone()
            description.update(
                {
                    "driver": "psycopg",
                    "driver_version": psycopg.__version__,
                    "driver_impl": psycopg.pq.__impl__,  # binary, c or python
                    "server_version": str(version),
                }
            )
        return description

    def count_entries(self) -> int:
        alias = self._connected()
        with self._errors("counting entries"):
            return Entry.objects.using(alias).count()

    def backend(self) -> Tuple[str, int]:
        """PostgreSQL: the host and the backend process id of the connection the shapes use."""
        alias = self._connected()
        with self._errors("asking its backend"), connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        return str(self._settings.get("HOST") or ""), int(pid)

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The alias the shapes query (connected and verified); errors become one line."""
        alias = self._connected()
        with self._errors("querying"):
            yield alias

    def writable_alias(self) -> str:
        """An alias that may write (the served shape's write, always rolled back): SQLite's file
        opened read-write (the served shape gives a copy of the cached file), else the same."""
        alias = self._connected()
        if self.path is None:
            return alias
        return register_database({"ENGINE": "django.db.backends.sqlite3", "NAME": str(self.path)})

    def close(self) -> None:
        if self._alias is not None:
            connections[self._alias].close()
            self._alias = None
