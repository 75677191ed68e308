"""SQLAlchemy datasets: built once with bulk inserts, cached, verified, opened for measuring.

Two databases: SQLite (a cached file, the seed's setup) and PostgreSQL through psycopg 3
(a schema per dataset, see ``_sql_postgres``). Both hold what ``_sql_dataset`` writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import sqlalchemy
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from . import dataset
from ._cache import cached_file
from ._sql_dataset import populate
from ._sql_shared import SUPPORTED_DBS, sqlite_cache_path, verify_tables
from .errors import FixtureError
from .sqlalchemy_models import Entry
from .urls import mask_password

__all__ = ["SqlAlchemyFixture", "orm_speedups", "populate", "verify_sqlite"]


def orm_speedups() -> str:
    """Whether SQLAlchemy's compiled extensions are active (old pins may not build them)."""
    try:
        from sqlalchemy.util._has_cy import HAS_CYEXTENSION  # 2.0
    except ImportError:
        try:
            import sqlalchemy.cresultproxy  # noqa: F401  (1.4's C extension)
        except ImportError:
            return "pure-python"
        return "c-extension"
    return "cython" if HAS_CYEXTENSION else "pure-python"


def verify_sqlite(path: Path, rows: int, seed: int) -> Optional[str]:
    """None if ``path`` holds the complete dataset for (rows, seed), else what is wrong."""
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            return "not an SQLite database"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return verify_tables(conn.cursor(), rows, seed)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"unreadable: {exc}"


class _SqliteBackend:
    """A dataset in an SQLite file: cached by (rows, seed), or at a path the user gives."""

    def __init__(self, path: Path, rows: int, seed: int) -> None:
        self.path, self.rows, self.seed = path, rows, seed
        self.url = f"sqlite:///{path}"

    def ensure(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FixtureError(f"cannot create {self.path.parent}: {exc.strerror}") from None

        def build(temp: Path) -> None:
            engine = create_engine(f"sqlite:///{temp}", future=True)
            try:
                with engine.begin() as conn:
                    populate(conn, self.rows, self.seed)
            finally:
                engine.dispose()

        cached_file(
            self.path,
            build,
            lambda p: verify_sqlite(p, self.rows, self.seed),
            f"SQLite dataset of {self.rows} rows",
        )

    def open(self) -> Any:
        if verify_sqlite(self.path, self.rows, self.seed) if self.path.exists() else "missing":
            raise FixtureError(
                f"dataset {self.path} is missing or incomplete; run without --no-build to build it"
            )
        return create_engine(self.url, future=True)

    def describe(self) -> Dict[str, Any]:
        return {
            "driver": "sqlite3",
            "driver_version": sqlite3.sqlite_version,
            "backend": mask_password(self.url),
            "server": "sqlite (in-process)",
            "server_version": sqlite3.sqlite_version,
        }


def _backend(db: str, rows: int, seed: int) -> Any:
    if db == "sqlite":
        return _SqliteBackend(sqlite_cache_path(rows, seed), rows, seed)
    if db.startswith("sqlite:///") and len(db) > len("sqlite:///"):
        return _SqliteBackend(Path(db[len("sqlite:///") :]).expanduser().resolve(), rows, seed)
    from . import _sql_postgres  # only PostgreSQL runs need it

    if _sql_postgres.is_postgres(db):
        return _sql_postgres.PostgresBackend(db, rows, seed)
    raise FixtureError(
        f"unsupported database {mask_password(db)!r} for sqlalchemy: use {SUPPORTED_DBS}"
    )


class SqlAlchemyFixture:
    """One dataset in one database: ``db`` is ``sqlite[:///PATH]`` or ``postgresql[://...]``."""

    orm = "sqlalchemy"

    def __init__(self, db: str, rows: int, seed: int = dataset.DEFAULT_SEED) -> None:
        self.rows, self.seed = rows, seed
        self._backend = _backend(db, rows, seed)
        self.path: Optional[Path] = getattr(self._backend, "path", None)  # SQLite only
        self._engine: Any = None

    def ensure(self) -> None:
        """Build the dataset unless a verified copy exists."""
        self._backend.ensure()

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = self._backend.open()
        return self._engine

    def describe(self) -> Dict[str, Any]:
        """What a record says about the ORM, the driver and the database (password masked)."""
        description = {
            "orm": self.orm,
            "orm_version": sqlalchemy.__version__,
            "orm_speedups": orm_speedups(),
        }
        description.update(self._backend.describe())
        return description

    def count_entries(self) -> int:
        with Session(self.engine) as session:
            return session.execute(select(func.count()).select_from(Entry)).scalar_one()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A fresh session, as the seed experiment used it (no expiry on commit)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
