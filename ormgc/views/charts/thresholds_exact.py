"""The threshold curve's cost panel in instructions: ``nox -s thresholds-exact`` records
(results/thresholds/exact/), exact and deterministic, drawn beside the timed one."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Sequence

from ormgc.views.charts.common import plain_log
from ormgc.views.charts.report_data import minor, version_key


def _threshold(record: Dict[str, Any]) -> float:
    return float(record["gc_threshold"][0])


def draw_instructions(
    ax: Any, records: Sequence[Dict[str, Any]], colour_of: Callable[[str], str]
) -> List[str]:
    """Instructions per query (millions) against the first threshold, a line per Python;
    dotted: the same Python with the GC disabled. Returns one finding per Python."""
    findings = []
    for version in sorted({minor(r["python"]) for r in records}, key=version_key):
        mine = [r for r in records if minor(r["python"]) == version]
        curve = sorted((r for r in mine if r["policy"] != "disabled"), key=_threshold)
        off = next((r for r in mine if r["policy"] == "disabled"), None)
        colour = colour_of(version)
        ax.plot([_threshold(r) for r in curve], [r["instructions"] / 1e6 for r in curve],
                marker="o", ms=3.5, color=colour, label=f"Python {version}")  # fmt: skip
        if off is not None:
            ax.axhline(off["instructions"] / 1e6, color=colour, linestyle=":", linewidth=1)
        if curve and off is not None:
            extra = curve[0]["instructions"] / off["instructions"] - 1
            findings.append(f"{version}: +{extra:.0%} instructions at {_threshold(curve[0]):,.0f}")
    ax.set_xscale("log")
    plain_log(ax, "x")
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.1)
    ax.set_xlabel("first threshold (log scale)")
    ax.set_ylabel("instructions per query (millions, exact)")
    ax.grid(alpha=0.3)
    first = records[0]
    ax.set_title(
        f"exact: {first['loaded']:,} of {first['rows']:,} rows; dotted: GC off", fontsize=9
    )
    return findings
