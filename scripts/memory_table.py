"""The tables of docs/findings/memory.md, from results/memory/ (scripts/memory_results.sh).

Usage: python scripts/memory_table.py [RESULTS_FOLDER] > table.md
Prefork: USS and PSS per worker with and without gc.freeze() before fork, median and min-max
over the runs, and the GC time per worker; timelines: RSS growth over the loop per policy.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ormgc.views.charts.common import orm_order, policy_order  # noqa: E402
from ormgc.views.charts.memory import label_key, python_label  # noqa: E402
from ormgc.views.charts.report_data import load  # noqa: E402


def _per_worker(record: Dict[str, Any], field: str) -> List[float]:
    workers = len(record["workers"])
    return [run["workers_total"][field] / workers for run in record["runs"]]


def _cell(values: List[float], digits: int = 1) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    low, mid, high = (
        f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values))
    )
    return f"{mid} [{low}-{high}]"


def prefork_table(records: List[Dict[str, Any]]) -> str:
    rows = [
        "| ORM | Python | policy | USS/worker MB, freeze | no freeze | saved | "
        "PSS/worker MB, freeze | no freeze | GC ms/worker, freeze | no freeze | "
        "collections/worker (freeze, no) | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: Dict[Tuple[str, str, str], Dict[bool, Dict[str, Any]]] = {}
    for record in records:
        key = (record["orm"], python_label(record), record["policy"])
        groups.setdefault(key, {})[record["freeze"]] = record
    orms = orm_order([key[0] for key in groups])
    for orm in orms:
        keys = [key for key in groups if key[0] == orm]
        policies = policy_order([key[2] for key in keys])
        for key in sorted(keys, key=lambda k: (label_key(k[1]), policies.index(k[2]))):
            on: Optional[Dict[str, Any]] = groups[key].get(True)
            off: Optional[Dict[str, Any]] = groups[key].get(False)
            if on is None or off is None:
                continue
            uss_on, uss_off = _per_worker(on, "uss_mb"), _per_worker(off, "uss_mb")
            saved = 1 - statistics.median(uss_on) / statistics.median(uss_off)
            workers = len(on["workers"])
            rows.append(
                f"| {orm} | {key[1]} | {key[2]} | {_cell(uss_on)} | {_cell(uss_off)} | "
                f"{saved:+.0%} | {_cell(_per_worker(on, 'pss_mb'))} | "
                f"{_cell(_per_worker(off, 'pss_mb'))} | {_cell(_per_worker(on, 'gc_ms'), 0)} | "
                f"{_cell(_per_worker(off, 'gc_ms'), 0)} | "
                f"{on['collections_total'] // workers}, {off['collections_total'] // workers} | "
                f"{on['repeat']}+{off['repeat']} |"
            )
    return "\n".join(rows)


def timeline_table(records: List[Dict[str, Any]]) -> str:
    rows = [
        "| Python | workload | policy | RSS growth MB at the end | largest growth MB | "
        "collections | largest gen0 count |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in sorted(
        records,
        key=lambda r: (
            label_key(python_label(r)),
            r["shape"] != "trash_loop",
            orm_order([r["orm"], "sqlalchemy", "mongoengine", "django"]).index(r["orm"]),
            policy_order([r["policy"], "default", "threshold:50000", "disabled"]).index(
                r["policy"]
            ),
        ),
    ):
        timeline = record["rss_timeline"]
        base = timeline[0]["rss_mb"]
        workload = "trash loop" if record["shape"] == "trash_loop" else record["orm"]
        rows.append(
            f"| {python_label(record)} | {workload} | {record['policy']} | "
            f"{timeline[-1]['rss_mb'] - base:+.1f} | "
            f"{max(s['rss_mb'] for s in timeline) - base:+.1f} | "
            f"{record['collections_total']:,} | {max(s['gc_count'][0] for s in timeline):,} |"
        )
    return "\n".join(rows)


def main() -> int:
    results = load(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results")
    memory = results.memory.records
    prefork = [r for r in memory if r["shape"] == "prefork"]
    loops = [r for r in memory if r["shape"] in ("request_loop", "trash_loop")]
    print("## Prefork: per-worker memory with and without gc.freeze() before fork\n")
    print(prefork_table(prefork))
    print("\n## Memory over a long request loop\n")
    print(timeline_table(loops))
    print(f"\nSource: {results.rel(results.memory.files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
