"""``ormgc compare``'s paired section: each policy against default on the same Python, from
the paired rounds of ``ormgc pyperf --rounds N`` (the matrix's default)."""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from ormgc.views.stats import format_ratio, half_width_percent


def _paired_cell(previous: Optional[Any], bench: Any) -> str:
    meta = bench.get_metadata()
    if "ormgc_paired_ratio" not in meta:
        return "--"
    ratio = meta["ormgc_paired_ratio"]
    if meta.get("ormgc_policy") == meta.get("ormgc_paired_baseline"):
        return "1 (baseline)"
    if "ormgc_paired_ci95_low" not in meta:
        return f"{ratio:.2f} (no interval)"
    ci95 = [meta["ormgc_paired_ci95_low"], meta["ormgc_paired_ci95_high"]]
    width = half_width_percent(ci95, ratio)
    return f"{format_ratio(ratio, ci95)} (±{width:.1f}%, {meta['ormgc_rounds']} rounds)"


def paired_section(loaded: List[Any], rows: List[Any], table: Callable) -> List[str]:
    """The Markdown lines of the paired table; none when no result was timed in rounds."""
    benches = [b for r in loaded for b in r.benches.values()]
    if not any("ormgc_paired_ratio" in b.get_metadata() for b in benches):
        return []
    baseline = next(
        b.get_metadata()["ormgc_paired_baseline"]
        for b in benches
        if "ormgc_paired_baseline" in b.get_metadata()
    )
    return [
        f"## Against `{baseline}` on the same Python (paired rounds, 95% interval)",
        "",
        f"Each policy's time over `{baseline}`'s, both measured in the same round (fresh"
        " processes, order rotated): geometric mean of the rounds' ratios with its t-interval,"
        " and the interval's half-width in percent of the ratio; n.s. where it spans 1. This"
        " is what a policy wins on that Python; the table above compares versions.",
        "",
        *table(loaded, rows, _paired_cell),
        "",
    ]
