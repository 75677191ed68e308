"""What every SQL database holds for a dataset: the tables, their rows, and the meta table."""

from __future__ import annotations

import itertools
from typing import Any, Iterator

from sqlalchemy import insert

from . import dataset
from ._sql_shared import expected_meta
from .sqlalchemy_models import Base, Child, Entry, Meta, Parent

_CHUNK = 10_000  # rows per executemany: bounded memory, still one transaction


def _qualified_name(conn: Any, table: Any) -> str:
    """The table's name as raw SQL must spell it, honouring a schema_translate_map."""
    preparer = conn.dialect.identifier_preparer
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(table.schema, table.schema)
    name = preparer.quote(table.name)
    return f"{preparer.quote_schema(schema)}.{name}" if schema else name


def _insert_chunks(conn: Any, table: Any, rows: Iterator[tuple]) -> None:
    """Insert tuples, in table column order, through the driver's executemany.

    Below the ORM and Core statement layers on purpose: the build is over ten times faster
    than the seed's session.add loop (scripts/bench_dataset_build.py). Values still go
    through each column type's bind processor (SQLite stores datetimes as SQLAlchemy's text).
    """
    dialect = conn.dialect
    if dialect.name == "sqlite":  # a larger page cache keeps the random-UUID index in memory
        conn.exec_driver_sql("PRAGMA cache_size = -200000")
    columns = list(table.columns)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {_qualified_name(conn, table)} ({', '.join(c.name for c in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    processors = [column.type.bind_processor(dialect) for column in columns]
    convert = [(index, p) for index, p in enumerate(processors) if p is not None]
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


def populate(conn: Any, rows: int, seed: int) -> None:
    """Create the tables and bulk-insert the dataset on ``conn`` (driver executemany).

    The caller owns the transaction; the meta table is written last, so that a dataset
    with meta rows is complete even where DDL is not transactional.
    """
    Base.metadata.create_all(conn, checkfirst=False)
    _insert_chunks(conn, Entry.__table__, dataset.entry_rows(rows, seed))
    parents = ((i, f"parent-{i}") for i in range(1, dataset.parent_count(rows) + 1))
    _insert_chunks(conn, Parent.__table__, parents)
    _insert_chunks(conn, Child.__table__, dataset.child_rows(rows, seed))
    meta = expected_meta(rows, seed)
    conn.execute(insert(Meta.__table__), [{"key": k, "value": v} for k, v in meta.items()])
