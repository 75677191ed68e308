"""SQLAlchemy datasets: built once with bulk inserts, cached, verified, opened for measuring."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import sqlalchemy
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.orm import Session

from . import dataset
from ._cache import cache_dir, cached_file
from .errors import FixtureError
from .sqlalchemy_models import Base, Child, Entry, Meta, Parent
from .urls import mask_password

_CHUNK = 10_000  # rows per executemany: bounded memory, still one transaction


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


def _expected_meta(rows: int, seed: int) -> Dict[str, str]:
    return {"schema_version": str(dataset.SCHEMA_VERSION), "rows": str(rows), "seed": str(seed)}


def _expected_counts(rows: int) -> Dict[str, int]:
    return {"entry": rows, "child": rows, "parent": dataset.parent_count(rows)}


def _insert_chunks(conn: Any, table: Any, rows: Iterator[tuple]) -> None:
    """Insert tuples in table column order through the driver's executemany.

    Below the ORM and Core type layers on purpose: the build is ten times faster than the
    seed's session.add loop (scripts/bench_dataset_build.py). Values still go through each
    column type's bind processor (SQLite stores datetimes as text in SQLAlchemy's format).
    """
    dialect = conn.dialect
    if dialect.name == "sqlite":  # a larger page cache keeps the random-UUID index in memory
        conn.exec_driver_sql("PRAGMA cache_size = -200000")
    columns = list(table.columns)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    processors = [column.type.bind_processor(dialect) for column in columns]
    convert = [(i, p) for i, p in enumerate(processors) if p is not None]
    while True:
        chunk = list(itertools.islice(rows, _CHUNK))
        if not chunk:
            return
        if convert:
            chunk = [_converted(row, convert) for row in chunk]
        conn.exec_driver_sql(statement, chunk)


def _converted(row: tuple, convert: list) -> tuple:
    values = list(row)
    for index, processor in convert:
        values[index] = processor(values[index])
    return tuple(values)


def populate(engine: Any, rows: int, seed: int) -> None:
    """Create the tables and bulk-insert the dataset in one transaction."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        _insert_chunks(conn, Entry.__table__, dataset.entry_rows(rows, seed))
        parents = ((i, f"parent-{i}") for i in range(1, dataset.parent_count(rows) + 1))
        _insert_chunks(conn, Parent.__table__, parents)
        _insert_chunks(conn, Child.__table__, dataset.child_rows(rows, seed))
        meta = _expected_meta(rows, seed)
        conn.execute(insert(Meta.__table__), [{"key": k, "value": v} for k, v in meta.items()])


def verify_sqlite(path: Path, rows: int, seed: int) -> Optional[str]:
    """None if ``path`` holds the complete dataset for (rows, seed), else what is wrong."""
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            return "not an SQLite database"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(conn.execute("SELECT key, value FROM ormgc_meta").fetchall())
            if meta != _expected_meta(rows, seed):
                return f"holds another dataset ({meta})"
            for table, expected in _expected_counts(rows).items():
                (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                if count != expected:
                    return f"{table} has {count} rows, expected {expected}"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"unreadable: {exc}"
    return None


class SqlAlchemyFixture:
    """One dataset in one database: ``db`` is ``sqlite`` (cached file) or ``sqlite:///PATH``."""

    orm = "sqlalchemy"

    def __init__(self, db: str, rows: int, seed: int = dataset.DEFAULT_SEED) -> None:
        self.rows, self.seed = rows, seed
        if db == "sqlite":
            name = f"sqlalchemy-v{dataset.SCHEMA_VERSION}-r{rows}-s{seed}.sqlite3"
            self.path: Optional[Path] = cache_dir() / "datasets" / name
        elif db.startswith("sqlite:///") and len(db) > len("sqlite:///"):
            self.path = Path(db[len("sqlite:///") :]).expanduser().resolve()
        else:
            raise FixtureError(
                f"unsupported database {mask_password(db)!r} for sqlalchemy: "
                "use 'sqlite' or 'sqlite:///PATH'"
            )
        self.url = f"sqlite:///{self.path}"
        self._engine: Any = None

    def ensure(self) -> None:
        """Build the dataset unless a verified copy is cached."""
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FixtureError(f"cannot create {self.path.parent}: {exc.strerror}") from None

        def build(temp: Path) -> None:
            engine = create_engine(f"sqlite:///{temp}", future=True)
            try:
                populate(engine, self.rows, self.seed)
            finally:
                engine.dispose()

        cached_file(
            self.path,
            build,
            lambda p: verify_sqlite(p, self.rows, self.seed),
            f"SQLite dataset of {self.rows} rows",
        )

    @property
    def engine(self) -> Any:
        if self._engine is None:
            assert self.path is not None
            if verify_sqlite(self.path, self.rows, self.seed) if self.path.exists() else "missing":
                raise FixtureError(
                    f"dataset {self.path} is missing or incomplete; "
                    "run without --no-build to build it"
                )
            self._engine = create_engine(self.url, future=True)
        return self._engine

    def describe(self) -> Dict[str, Any]:
        """What a record says about the ORM, the driver and the database (password masked)."""
        return {
            "orm": self.orm,
            "orm_version": sqlalchemy.__version__,
            "orm_speedups": orm_speedups(),
            "driver": "sqlite3",
            "driver_version": sqlite3.sqlite_version,
            "backend": mask_password(self.url),
        }

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
