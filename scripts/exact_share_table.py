"""The GC's share of the seed query's instructions, per ORM, policy and Python, as Markdown.

Reads the ``ormgc run --exact --json`` files in ``results/exact/`` (every ``*.json`` except
``determinism.json``; only records of the seed's size, 100,000 rows with 20,000 loaded) and
writes ``results/exact/gc-share.md``: a row per (ORM, policy), a column per Python, each cell
the collector's share of the query's instructions, the instructions and the collections.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS
from ormgc.results import write_atomic
from ormgc.runs.pythons import SUPPORTED

POLICIES = ("default", "threshold:50000", "disabled")


def _key(python: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in python.split("."))


def table(records: List[Dict[str, Any]]) -> str:
    cells: Dict[Tuple[str, str, str], Dict[str, Any]] = {}
    for record in records:
        minor = ".".join(record["python"].split(".")[:2])
        cells[(record["orm"], record["policy"], minor)] = record
    pythons = sorted({minor for _, _, minor in cells} | set(SUPPORTED), key=_key)  # --: not run
    orms = sorted({orm for orm, _, _ in cells}, reverse=True)  # sqlalchemy first
    lines = [
        "# GC share of the seed query's instructions (exact, under callgrind)",
        "",
        "Written by `python scripts/exact_share_table.py` from the `ormgc run --exact` records in"
        " this folder. Cell: the collector's share of the query's instructions (gc_share), then"
        " the query's instructions in millions and the collections. Instructions, not time.",
        "",
        "| ORM | policy | " + " | ".join(f"Python {python}" for python in pythons) + " |",
        "|---|---|" + "---|" * len(pythons),
    ]
    for orm in orms:
        for policy in POLICIES:
            row = [orm, policy]
            for python in pythons:
                record = cells.get((orm, policy, python))
                row.append(
                    "--"
                    if record is None
                    else f"{record['gc_share']:.1%} ({record['instructions'] / 1e6:,.0f}M,"
                    f" {record['collections_total']} coll.)"
                )
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("results/exact"))
    args = parser.parse_args()
    records = []
    for path in sorted(args.folder.glob("*.json")):
        if path.name != "determinism.json":
            records += [
                record
                for record in json.loads(path.read_text())
                if (record["rows"], record["loaded"]) == (DEFAULT_ROWS, DEFAULT_LOAD)
            ]
    if not records:
        print(f"no ormgc run --exact records in {args.folder}", file=sys.stderr)
        return 1
    document = table(records)
    write_atomic(args.folder / "gc-share.md", lambda out: out.write(document))
    print(document, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
