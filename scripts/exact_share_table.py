"""The GC's share of the seed query's instructions, per ORM, policy and Python, as Markdown.

Reads the ``ormgc run --exact --json`` files in ``results/exact/`` (every ``*.json`` except
``determinism.json``; only records of the seed's size, 100,000 rows with 20,000 loaded) and
writes ``results/exact/gc-share.md``: a row per (ORM, policy), a column per Python, each cell
the collector's share of the query's instructions, the instructions and the collections.
``--rows N`` takes the records of N rows (a fifth loaded) instead and writes
``gc-share-rN.md`` (``scripts/exact_figures.sh``). Of several records of one cell, the newest.
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


def table(records: List[Dict[str, Any]], rows: int = DEFAULT_ROWS) -> str:
    cells: Dict[Tuple[str, str, str], Dict[str, Any]] = {}
    for record in records:  # of several records of one cell (a rerun), the newest
        minor = ".".join(record["python"].split(".")[:2])
        key = (record["orm"], record["policy"], minor)
        if key not in cells or record.get("timestamp", "") > cells[key].get("timestamp", ""):
            cells[key] = record
    pythons = sorted({minor for _, _, minor in cells} | set(SUPPORTED), key=_key)  # --: not run
    orms = sorted({orm for orm, _, _ in cells}, reverse=True)  # sqlalchemy first
    loaded = DEFAULT_LOAD if rows == DEFAULT_ROWS else rows // 5
    lines = [
        "# GC share of the seed query's instructions (exact, under callgrind): "
        f"{rows:,} rows, {loaded:,} loaded",
        "",
        "Written by `python scripts/exact_share_table.py"
        + ("`" if rows == DEFAULT_ROWS else f" --rows {rows}` (a fifth loaded)")
        + " from the `ormgc run --exact` records in"
        " this folder. Cell: the collector's share of the query's instructions (gc_share), then"
        " the query's instructions in millions and the collections, every cell at"
        f" {rows:,} rows with {loaded:,} loaded. Of several records of a cell, the newest."
        " Instructions, not time."
        " Marked (cb.): the collector counted between gc.callbacks (a build without its symbol,"
        " docs/explanation/exact-without-symbols.md), else by its C function.",
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
                    + (" (cb.)" if record.get("gc_method") == "callbacks" else "")
                )
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("results/exact"))
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="a fifth loaded")
    args = parser.parse_args()
    size = (args.rows, DEFAULT_LOAD if args.rows == DEFAULT_ROWS else args.rows // 5)
    records = []
    for path in sorted(args.folder.glob("*.json")):
        if path.name not in ("determinism.json", "agreement.json"):
            records += [
                record
                for record in json.loads(path.read_text())
                if isinstance(record, dict)
                and {"gc_share", "orm", "policy"} <= set(record)
                and (record.get("rows"), record.get("loaded")) == size
            ]
    if not records:
        print(f"no ormgc run --exact records in {args.folder}", file=sys.stderr)
        return 1
    document = table(records, args.rows)
    name = "gc-share.md" if args.rows == DEFAULT_ROWS else f"gc-share-r{args.rows}.md"
    write_atomic(args.folder / name, lambda out: out.write(document))
    print(document, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
