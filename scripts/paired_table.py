"""The table ``ormgc run`` printed for a records file, and how wide its paired intervals are.

    .venv/bin/python scripts/paired_table.py results/paired/sqlalchemy-sqlite.json

writes ``results/paired/sqlalchemy-sqlite.txt`` beside it: the run's table (``format_table``,
exactly what ``ormgc run`` prints), then one line per policy with the CPU and wall ratios to
the baseline and the 95% interval's half-width in percent (the issue's target: CPU within
+-5% for SQLAlchemy's threshold:50000 at --repeat 10), and the median split of the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ormgc.results import write_atomic  # noqa: E402
from ormgc.views.stats import format_ratio, half_width_percent  # noqa: E402
from ormgc.views.tables.table import format_table  # noqa: E402


def _interval(record: Dict[str, Any], key: str) -> str:
    paired = record.get(key)
    if not paired:
        return f"{key}: none"
    if paired["baseline"] == record["policy"]:
        return f"{key}: the baseline"
    ratio, ci95 = paired["ratio"], paired["ci95"]
    width = half_width_percent(ci95, ratio)
    spread = f" (+-{width:.1f}%)" if width is not None else " (no interval)"
    return f"{key} {format_ratio(ratio, ci95)}{spread}"


def _split(record: Dict[str, Any]) -> str:
    server = record.get("server_cpu_ms")
    parts = [f"wall {record['wall_ms']:.0f} ms = client CPU {record['cpu_ms']:.0f}"]
    if server is not None:
        parts.append(f"server CPU {server:.0f}")
    if record.get("wait_ms") is not None:
        parts.append(f"waiting {record['wait_ms']:.0f}")
    return " + ".join(parts) + f" (medians of each; server: {record.get('server_cpu_source', '?')})"


def summary(records: List[Dict[str, Any]]) -> str:
    loads = sorted(
        run["load_average"][0]
        for record in records
        for run in record["runs"]
        if run.get("load_average")
    )
    lines = []
    if loads:
        lines.append(
            f"machine load (1-minute average at the end of each run): median "
            f"{loads[len(loads) // 2]:.1f}, {loads[0]:.1f} to {loads[-1]:.1f}, "
            f"on {records[0]['machine']}"
        )
    for record in records:
        where = f"{record['orm']} {record['shape']} {record['policy']}"
        keys = ("cpu_vs_baseline", "wall_vs_baseline")
        ratios = ", ".join(_interval(record, key) for key in keys)
        lines.append(f"{where}: {ratios}")
        lines.append(f"{where}: {_split(record)}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path, help="a JSON file written by ormgc run --json")
    parser.add_argument("--output", type=Path, help="text file (default: beside, .txt)")
    args = parser.parse_args()
    records = json.loads(args.records.read_text())
    document = f"{format_table(records)}\n\n{summary(records)}\n"
    output = args.output or args.records.with_suffix(".txt")
    write_atomic(output, lambda out: out.write(document))
    print(document, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
