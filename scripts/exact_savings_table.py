"""What threshold:50000 saves, exact beside timed, per ORM and Python, as Markdown.

The table under the report's time chart (``ormgc report``), from the same readers: the query's
instructions under callgrind at default and at ``threshold:50000`` (``results/exact/``, at one
size per ORM, stated in each row), the collector's part, the share of the instructions the raised
threshold saves, and beside it what it saves of the CPU time (SQLAlchemy: README's paired
headline; the others: pyperf medians with a 95% bootstrap interval). Writes
``results/exact/savings.md``; docs/findings/exact-costs.md quotes it (a test compares them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ormgc.errors import OrmGcError
from ormgc.results import write_atomic
from ormgc.views.charts.common import orm_order
from ormgc.views.charts.exact_versions import RAISED, common_size, savings, size_text
from ormgc.views.charts.report_data import load, version_key


def document(root: Path) -> str:
    results = load(root)
    timings = [t for t in results.timings if t.shape == "seed_loop"]
    versions = sorted({t.python for t in timings}, key=version_key)
    sizes = {(r["rows"], r["loaded"]) for r in results.probes.records if r["shape"] == "seed_loop"}
    timed = f", {size_text(sizes.pop())}" if len(sizes) == 1 else ""
    lines = [
        f"| ORM | Python | exact at | instructions, default → {RAISED} (the collector's) "
        f"| {RAISED} saves of the instructions (exact) "
        f"| of the CPU time (timing, 95% interval{timed}) |",
        "|---|---|---|---|---|---|",
    ]
    for orm in orm_order([t.orm for t in timings]):
        size = common_size(results, orm, versions)
        for row in savings(results, orm, versions, size) if size else []:
            if row.instructions_saved is None:
                continue
            counts = [
                f"{r['instructions'] / 1e6:,.0f}M ({(r.get('gc_instructions') or 0) / 1e6:,.0f}M)"
                for r in (row.default, row.raised)
            ]
            lines.append(
                f"| {orm} | {row.python} | {size_text(size)} | {' → '.join(counts)} "
                f"| {row.instructions_saved:.1%} | {row.timing or '--'} |"
            )
    if len(lines) == 2:
        raise OrmGcError(f"{root}: no exact records at default and {RAISED} beside pyperf times")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    try:
        text = document(args.results)
    except OrmGcError as exc:
        print(f"exact_savings_table: error: {exc}", file=sys.stderr)
        return 1
    write_atomic(args.results / "exact" / "savings.md", lambda out: out.write(text))
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
