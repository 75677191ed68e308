"""Python 3.15's own GC figures beside the probe's: a Markdown table from ``ormgc run`` records.

3.15 adds ``duration`` and ``candidates`` to the gc.callbacks info and gc.get_stats(); the probe
records them as ``gc_reported`` (ormgc/worker/probe.py). Per record: the collections, the
probe's pauses (start to stop callback), the collector's own duration, their ratio (<= 1: the
pause also holds the callbacks called in between), the candidates, and whether gc.get_stats()
gives the same sums. Usage: python scripts/gc_reported_table.py results/gc-reported/3.15.json
(writes the .md beside it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ormgc.results import write_atomic


def table(records: list) -> str:
    first = records[0]
    load = ", ".join(f"{value:.1f}" for value in first.get("load_average") or [])
    lines = [
        f"# Python {first['python']}'s own GC figures beside the probe's",
        "",
        f"Written by `python scripts/gc_reported_table.py` from `ormgc run` records (natively, "
        f"one fresh process each; {first['rows']:,} rows, {first['loaded']:,} loaded, freeze "
        f"on; load average {load or 'not recorded'}). Times are wall-clock, one run each on a "
        "shared machine: the ratio is the figure to read, not the milliseconds.",
        "",
        "| ORM | policy | collections | probe pauses (ms) | collector's duration (ms) | "
        "duration / pause | max duration / max pause (ms) | candidates | gc.get_stats() agrees |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        reported = record["gc_reported"]
        same = reported["candidates"] == reported["stats_candidates"] and abs(
            reported["duration_ms"]["total"] - reported["stats_duration_ms"]
        ) < 1e-6 * max(1.0, reported["stats_duration_ms"])
        ratio = reported["duration_over_pause"]
        lines.append(
            f"| {record['orm']} | {record['policy']} | {record['collections_total']:,} | "
            f"{record['pause_ms']['total']:.2f} | {reported['duration_ms']['total']:.2f} | "
            f"{'-' if ratio is None else f'{ratio:.3f}'} | "
            f"{reported['duration_ms']['max']:.3f} / {record['pause_ms']['max']:.3f} | "
            f"{reported['candidates']:,} | {'yes' if same else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_file():
        print("usage: gc_reported_table.py RECORDS.json", file=sys.stderr)
        return 2
    path = Path(sys.argv[1])
    records = [r for r in json.loads(path.read_text()) if "gc_reported" in r]
    if not records:
        print(f"gc_reported_table: no record in {path} has 3.15's gc figures", file=sys.stderr)
        return 1
    document = table(records)
    write_atomic(path.with_suffix(".md"), lambda out: out.write(document))
    print(document, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
