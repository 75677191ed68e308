"""What every SQL database holds for a dataset: the tables, their rows, and the meta table."""

from __future__ import annotations

import itertools
from typing import Any, Dict, Iterator

from sqlalchemy import insert

from . import dataset
from .sqlalchemy_models import Base, Child, Entry, Meta, Parent

_CHUNK = 10_000  # rows per executemany: bounded memory, still one transaction


def expected_meta(rows: int, seed: int) -> Dict[str, str]:
    """The meta table of a complete dataset for (rows, seed)."""
    return {"schema_version": str(dataset.SCHEMA_VERSION), "rows": str(rows), "seed": str(seed)}


def expected_counts(rows: int) -> Dict[str, int]:
    """Rows per table of a complete dataset."""
    return {"entry": rows, "child": rows, "parent": dataset.parent_count(rows)}


def _insert_chunks(conn: Any, table: Any, rows: Iterator[tuple], columns: tuple) -> None:
    while True:
        chunk = [dict(zip(columns, row)) for row in itertools.islice(rows, _CHUNK)]
        if not chunk:
            return
        conn.execute(insert(table), chunk)


def populate(conn: Any, rows: int, seed: int) -> None:
    """Create the tables and bulk-insert the dataset on ``conn`` (Core executemany).

    The caller owns the transaction; the meta table is written last, so that a dataset
    with meta rows is complete even where DDL is not transactional.
    """
    Base.metadata.create_all(conn, checkfirst=False)
    _insert_chunks(
        conn,
        Entry.__table__,
        dataset.entry_rows(rows, seed),
        ("id", "created_date", "some_random_number"),
    )
    parents = ((i, f"parent-{i}") for i in range(1, dataset.parent_count(rows) + 1))
    _insert_chunks(conn, Parent.__table__, parents, ("id", "name"))
    _insert_chunks(
        conn,
        Child.__table__,
        dataset.child_rows(rows, seed),
        ("id", "parent_id", "created_date", "some_random_number"),
    )
    meta = expected_meta(rows, seed)
    conn.execute(insert(Meta.__table__), [{"key": k, "value": v} for k, v in meta.items()])
