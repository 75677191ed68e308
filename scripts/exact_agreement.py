"""Do the two ways of counting the collector's instructions agree? Symbol vs gc.callbacks.

For each Python with symbols (pyenv's 3.9-3.13), one ``ormgc run --exact --exact-gc callbacks``
measurement: the collector's instructions found by its C function (``gc_instructions_symbol``)
and counted between the ``gc.callbacks`` hooks, the hooks' slice subtracted
(``gc_instructions``). Writes the records to ``results/exact/agreement.json`` and the table to
``results/exact/agreement.md``; ``--table-only`` rewrites the table from the JSON.
Under valgrind: ~2 x 1-2 min per Python at 10,000 rows (run it in the background).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from ormgc.results import write_atomic, write_json_atomic

PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
TARGET = 0.005  # the methods must agree within 0.5% of the collector's instructions


def difference(record: Dict[str, Any]) -> float:
    """(callbacks - symbol) / symbol."""
    return record["gc_instructions"] / record["gc_instructions_symbol"] - 1


def table(records: List[Dict[str, Any]]) -> str:
    first = records[0]
    lines = [
        "# The collector's instructions: its symbol vs the gc.callbacks around it",
        "",
        "Written by `python scripts/exact_agreement.py` (records: `agreement.json`). Each row "
        f"is one `ormgc run --exact --exact-gc callbacks` measurement: {first['orm']}, "
        f"{first['shape']}, {first['rows']:,} rows with {first['loaded']:,} loaded, "
        "freeze on, PYTHONHASHSEED=0, under callgrind. *symbol*: the inclusive cost of the "
        "collector's C function, gc.callbacks left out; *callbacks*: counted between the hooks "
        "at each collection's start and stop, minus collections x the hooks' own slice "
        "(measured by calling them as CPython does, 1,000 times). Instructions are exact and "
        f"repeat run to run; the target is agreement within {TARGET:.1%}.",
        "",
        "| Python | policy | collections | symbol | callbacks | hooks' slice per coll. | "
        "callbacks - symbol |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in records:
        lines.append(
            f"| {record['python']} | {record['policy']} | {record['collections_total']:,} | "
            f"{record['gc_instructions_symbol']:,} ({record['gc_function']}) | "
            f"{record['gc_instructions']:,} | {record['gc_callbacks_slice']:,.0f} | "
            f"{difference(record):+.3%} |"
        )
    worst = max(abs(difference(record)) for record in records)
    verdict = "within" if worst <= TARGET else "NOT within"
    lines += ["", f"Largest difference: {worst:.3%}, {verdict} the {TARGET:.1%} target."]
    return "\n".join(lines) + "\n"


def measure(python: str, args: argparse.Namespace) -> List[Dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "records.json")
        command = [sys.executable, "-m", "ormgc", "run", "--exact", "--exact-gc", "callbacks"]
        command += ["--python", python, "--orm", args.orm, "--json", out]
        command += ["--rows", str(args.rows), "--load", str(args.load)]
        for policy in args.policy:
            command += ["--policy", policy]
        done = subprocess.run(command, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"exact_agreement: Python {python} failed (exit {done.returncode})")
        return json.loads(Path(out).read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help=f"default: {', '.join(PYTHONS)}")
    parser.add_argument("--orm", default="sqlalchemy")
    parser.add_argument("--policy", action="append", help="default: default")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--load", type=int, default=2_000)
    parser.add_argument("--folder", type=Path, default=Path("results/exact"))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    args.policy = args.policy or ["default"]
    records_file = args.folder / "agreement.json"
    if args.table_only:
        if not records_file.exists():
            print(f"exact_agreement: no {records_file}", file=sys.stderr)
            return 1
        records = json.loads(records_file.read_text())
    else:
        records = [r for python in args.python or PYTHONS for r in measure(python, args)]
        records = [r for r in records if r.get("gc_instructions_symbol")]
        if not records:
            print("exact_agreement: no interpreter had the collector's symbol", file=sys.stderr)
            return 1
        write_json_atomic(records_file, records)
    document = table(records)
    write_atomic(args.folder / "agreement.md", lambda out: out.write(document))
    print(document, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
