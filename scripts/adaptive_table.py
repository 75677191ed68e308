"""README's tables for the adaptive policy, from the committed records in results/adaptive/.

Per ORM and workload (seed query, request loop), one row per Python version: collections under
each policy, and for the request loop peak and end RSS; then the paired timing on 3.11.
Usage: ``python scripts/adaptive_table.py [RESULTS_DIR]`` (markdown on stdout).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ormgc.views.stats import format_ratio  # noqa: E402

VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
POLICIES = ("default", "adaptive", "threshold:50000", "disabled")


def _records(path: Path) -> Dict[str, Dict[str, Any]]:
    return {record["policy"]: record for record in json.loads(path.read_text())}


def _reach(record: Dict[str, Any]) -> str:
    summary = record.get("adaptive")
    return f"{summary['start']:,}→{summary['max']:,}" if summary else ""


def counts_table(directory: Path, orm: str, workload: str) -> List[str]:
    order = " / ".join(POLICIES)
    head = ["Python", f"collections ({order})", "adaptive threshold (start→highest)"]
    if workload == "requests":
        head += ["peak MB (same order)", "end MB (same order)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for version in VERSIONS:
        path = directory / f"{version}-{orm}-{workload}.json"
        if not path.exists():
            continue
        records = [_records(path)[policy] for policy in POLICIES]
        row = [records[0]["python"], " / ".join(f"{r['collections_total']:,}" for r in records)]
        row.append(_reach(records[1]))
        if workload == "requests":
            row.append(" / ".join(f"{r['peak_rss_mb']:.1f}" for r in records))
            row.append(" / ".join(f"{r['rss_end_mb']:.1f}" for r in records))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def paired_table(directory: Path) -> List[str]:
    head = ["ORM", "workload", *(f"{p} CPU vs default" for p in POLICIES[1:])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for path in sorted(directory.glob("3.11-*-paired.json")):
        orm, workload = path.name.split("-")[1:3]
        records = _records(path)
        row = [orm, workload]
        for policy in POLICIES[1:]:
            versus = records[policy].get("cpu_vs_baseline")
            row.append(format_ratio(versus["ratio"], versus["ci95"]) if versus else "?")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def rules_table(path: Path) -> List[str]:
    """Synthetic workloads x rules: collections / objects left uncollected at the end."""
    results = json.loads(path.read_text())
    policies = list(dict.fromkeys(result["policy"] for result in results))
    names = [policy.split(",")[-1] if "," in policy else policy for policy in policies]
    names = [name.replace("adaptive:700..1000000", "tolerant (kept)") for name in names]
    lines = ["| workload | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for workload in dict.fromkeys(result["workload"] for result in results):
        cells = {
            r["policy"]: f"{sum(r['collections']):,} / {r['left_uncollected']:,}"
            for r in results
            if r["workload"] == workload
        }
        lines.append(f"| {workload} | " + " | ".join(cells[p] for p in policies) + " |")
    return lines


def main() -> int:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results" / "adaptive"
    for orm in ("sqlalchemy", "mongoengine"):
        for workload in ("seed", "requests"):
            print(f"\n{orm}, {workload}:\n")
            print("\n".join(counts_table(directory, orm, workload)))
    for rules in sorted(directory.glob("rules-*.json")):
        print(f"\n{rules.name}: collections / objects left uncollected\n")
        print("\n".join(rules_table(rules)))
    print("\nPaired timing, Python 3.11 (geometric mean of the paired ratios [95% interval]):\n")
    print("\n".join(paired_table(directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
