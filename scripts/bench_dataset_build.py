"""Dataset build speed: the seed's import loop against the fixture's bulk insert (target >=10x).

The seed added 100,000 ORM objects to one session and committed once; the fixture sends the
same rows through the driver's executemany in chunks. Both import the same pre-generated rows
into a fresh SQLite file (generating them costs the same either way), and only the import is
timed. Exits non-zero if the speed-up misses the target.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable, List

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from orm_fixtures import dataset
from orm_fixtures._sql_dataset import _insert_chunks
from orm_fixtures.sqlalchemy_models import Base, Entry

TARGET_SPEEDUP = 10.0


def seed_import(engine: object, rows: List[dataset.EntryRow]) -> None:
    """The published import: one session.add() per object, one commit."""
    with Session(engine, expire_on_commit=False) as session:
        for row in rows:
            session.add(
                Entry(
                    id=row.id,
                    created_date=row.created_date,
                    some_random_number=row.some_random_number,
                )
            )
        session.commit()


def bulk_import(engine: object, rows: List[dataset.EntryRow]) -> None:
    """The fixture's import: driver executemany in chunks, one transaction."""
    with engine.begin() as conn:
        _insert_chunks(conn, Entry.__table__, iter(rows))


def timed(importer: Callable, path: Path, rows: List[dataset.EntryRow]) -> float:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    started = time.perf_counter()
    importer(engine, rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=dataset.DEFAULT_ROWS)
    parser.add_argument("--target", type=float, default=TARGET_SPEEDUP)
    args = parser.parse_args()
    rows = list(dataset.entry_rows(args.rows))
    with tempfile.TemporaryDirectory() as scratch:
        seed = timed(seed_import, Path(scratch) / "seed.sqlite3", rows)
        bulk = timed(bulk_import, Path(scratch) / "bulk.sqlite3", rows)
    ratio = seed / bulk
    print(
        f"rows={args.rows} seed_import={seed:.2f}s bulk_import={bulk:.3f}s "
        f"speedup={ratio:.1f}x (target {args.target:g}x)"
    )
    return 0 if ratio >= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
