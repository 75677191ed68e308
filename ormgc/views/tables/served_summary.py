"""The findings page's table of the committed served sweeps (results/served/*.json).

One row per Python, ORM and policy: p99 latency and its paired ratio to default with the 95%
interval, throughput, collections and the collector's milliseconds per request, the share of
the slowest 1% of requests that had a collection inside, worker PSS and its ratio. Written
between ``<!-- served:begin -->`` and ``<!-- served:end -->`` of docs/findings/served.md by
``python scripts/served_table.py --write``; tests/test_served.py checks the page against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ormgc.errors import OrmGcError
from ormgc.views.stats import format_ratio, half_width_percent

BEGIN, END = "<!-- served:begin -->", "<!-- served:end -->"
PAGE = Path("docs") / "findings" / "served.md"


def _version_key(record: Dict[str, Any]) -> Tuple[int, ...]:
    return tuple(int(part) for part in str(record.get("python") or "0").split("."))


def load(results: Path) -> List[Dict[str, Any]]:
    """Every served record under ``results/served``, by Python then ORM (as in the files)."""
    records = []
    for path in sorted((results / "served").glob("*.json")):
        try:
            records += json.loads(path.read_text())
        except ValueError as exc:
            raise OrmGcError(f"{path}: not JSON ({exc})") from None
    return sorted(records, key=lambda r: (_version_key(r), r["orm"]))


def _ratio(record: Dict[str, Any], key: str) -> str:
    versus = record.get(key)
    if not versus or versus["baseline"] == record["policy"]:
        return ""
    return format_ratio(versus["ratio"], versus["ci95"])


def block(results: Path) -> str:
    records = load(results)
    if not records:
        raise OrmGcError(f"no served results in {results / 'served'}: scripts/served_results.sh")
    lines = [
        "| Python | ORM | policy | p99 ms | p99 vs default | req/s | collections /req "
        "| GC ms /req | longest collection ms | slowest 1% with a collection | worker PSS MB "
        "| PSS vs default |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        saturated = record.get("saturated_rounds", 0)
        note = f" ({saturated} of {record['repeat']} rounds saturated)" if saturated else ""
        pss = record.get("worker_pss_mb")
        lines.append(
            f"| {record['python']} | {record['orm']} | {record['policy']}{note} "
            f"| {record['latency_ms']['p99']:.1f} | {_ratio(record, 'p99_vs_baseline')} "
            f"| {record['throughput_rps']:.1f} | {record['collections_per_request']:.2f} "
            f"| {record['gc_ms_per_request']:.2f} | {record['gc_pause_max_ms']:.1f} "
            f"| {record['slow_with_gc_share']:.0%} "
            f"| {'' if pss is None else f'{pss:.1f}'} | {_ratio(record, 'pss_vs_baseline')} |"
        )
    widths = sorted(
        half_width_percent(r["p99_vs_baseline"]["ci95"], r["p99_vs_baseline"]["ratio"])
        for r in records
        if r.get("p99_vs_baseline") and r["policy"] != r["p99_vs_baseline"]["baseline"]
    )
    if widths:
        lines.append(
            f"\nWhat {records[0]['repeat']} rounds buy here: the p99 ratios' 95% intervals reach "
            f"+-{widths[len(widths) // 2]:.0f}% of the ratio at the median "
            f"(+-{widths[0]:.0f}% at best, +-{widths[-1]:.0f}% at worst, "
            f"{len(widths)} comparisons); "
            f"{sum(1 for r in records if r.get('saturated_rounds'))} of {len(records)} rows had "
            "a saturated round."
        )
    first = records[0]
    lines.append(
        f"\n{first['workers']} sync workers, {first['target_rps']:g} requests/s for "
        f"{first['duration_s']:g} s after {first['warmup_s']:g} s of warm-up, "
        f"{first['per_request']} objects per list page, {first['rows']:,} rows, "
        f"{first['repeat']} rounds per policy (medians; ratios paired by round, 95% intervals). "
        "Written by `python scripts/served_table.py --write` from `results/served/`."
    )
    return "\n".join(lines) + "\n"
