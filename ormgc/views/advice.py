"""``ormgc advise``'s verdict: each setting's trade-off against ``default``, the recommendation
(the smallest setting that wins back enough of what ``disabled`` saves, within the memory and
pause bounds), where the curve flattens, the lines of code to paste, and the text table.

"What disabled saves" is CPU time: the collector's cost is CPU spent in the measured process
(wall time adds waiting for the database and for the shared machine's cores).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

from ormgc.views.stats import format_ratio, significant
from ormgc.views.table import grid

# The curve has flattened where going further wins less than 5% of default's CPU time (about
# the noise of a 5-round paired ratio on this machine).
FLAT = 0.05


class Bounds(NamedTuple):
    """What the advice must respect: ``--min-win``, ``--max-memory-growth``, ``--max-pause``."""

    min_win: float = 0.90  # share of disabled's CPU saving to win back
    max_memory_growth: float = 0.10  # peak RSS over default's, as a fraction
    max_pause_ms: Optional[float] = None  # worst GC pause (per request, for request loops)


def worst_pause(record: Dict[str, Any]) -> Dict[str, float]:
    """Worst and p99 GC pause: per request (its collections summed) for request loops, else
    per collection."""
    pauses = record.get("request_pause_ms") or record["pause_ms"]
    return {"max": pauses["max"], "p99": pauses["p99"]}


def _ratio(record: Dict[str, Any]) -> float:
    return record["cpu_vs_baseline"]["ratio"]


def _order(record: Dict[str, Any]) -> tuple:
    """Smallest first: lowest first threshold (disabled last, other kinds just before it),
    then fewest changes (one threshold before three, no freeze before freeze)."""
    threshold = record["gc_threshold"][0] if record["policy"].startswith("threshold:") else None
    first = math.inf if record["policy"] == "disabled" else threshold or math.inf / 2
    return (first, record["policy"].count(","), record["freeze"])


def assess(records: List[Dict[str, Any]], bounds: Bounds) -> List[Dict[str, Any]]:
    """One row per record: its trade-off against default of the same freeze setting and the
    reasons it cannot be recommended (empty: it can)."""
    rows = []
    for freeze in dict.fromkeys(record["freeze"] for record in records):
        group = [record for record in records if record["freeze"] is freeze]
        default = next(record for record in group if record["policy"] == "default")
        floor = next((record for record in group if record["policy"] == "disabled"), None)
        saving = 1 - _ratio(floor) if floor else math.nan
        nothing = _nothing_to_win(floor)
        for record in group:
            pause = worst_pause(record)
            win = (1 - _ratio(record)) / saving if saving > 0 else math.nan
            growth = record["peak_rss_mb"] / default["peak_rss_mb"] - 1
            why = []
            if record["policy"] == "default":
                why.append("baseline")
            elif nothing:
                why.append(nothing)
            elif not win >= bounds.min_win:
                why.append(f"wins {win:.0%}" if not math.isnan(win) else "nothing to win")
            if growth > bounds.max_memory_growth:
                why.append(f"peak {growth:+.0%}")
            if bounds.max_pause_ms is not None and pause["max"] > bounds.max_pause_ms:
                why.append(f"pause {pause['max']:.0f} ms")
            if not record.get("counts_identical", True):
                why.append("counts varied")
            rows.append(
                {
                    "policy": record["policy"],
                    "freeze": record["freeze"],
                    "gc_threshold": record["gc_threshold"],
                    "collections_total": record["collections_total"],
                    "collected": record["collected"],
                    "cpu_ms": record["cpu_ms"],
                    "cpu_vs_default": record["cpu_vs_baseline"],
                    "cpu_vs_disabled": record.get("cpu_vs_disabled"),
                    "win": None if math.isnan(win) else win,
                    "gc_share": record.get("gc_share"),
                    "peak_rss_mb": record["peak_rss_mb"],
                    "peak_growth": growth,
                    "rss_end_mb": record.get("rss_end_mb"),
                    "pause_max_ms": pause["max"],
                    "pause_p99_ms": pause["p99"],
                    "excluded_by": why,
                }
            )
    return rows


def _nothing_to_win(floor: Optional[Dict[str, Any]]) -> str:
    """Why nothing can win back time at this freeze setting ("" when disabled saves some)."""
    if floor is None:
        return "no disabled to compare"
    versus = floor["cpu_vs_baseline"]
    if versus["ratio"] >= 1 or significant(versus["ci95"]) is False:
        return "disabled saves n.s."
    return ""


def recommend(rows: Sequence[Dict[str, Any]], bounds: Bounds) -> Dict[str, Any]:
    """The smallest setting that meets the bounds where disabling saves time; else default."""
    fits = [row for row in rows if not row["excluded_by"]]
    if fits:
        best = min(fits, key=_order)
        return dict(best, reason=_because(best, bounds))
    floors = [row for row in rows if row["policy"] == "disabled"]
    if not floors:
        why = "the grid has no disabled setting to measure the collector's cost by"
    elif all("disabled saves n.s." in row["excluded_by"] for row in floors):
        why = "disabling the collector saves no measurable CPU time here (disabled vs default: "
        why += "; ".join(
            f"freeze {'on' if row['freeze'] else 'off'} "
            + format_ratio(row["cpu_vs_default"]["ratio"], row["cpu_vs_default"]["ci95"])
            for row in floors
        )
        why += ")"
    else:
        why = f"no setting wins back {bounds.min_win:.0%} of what disabled saves within the bounds"
    defaults = [row for row in rows if row["policy"] == "default"]
    default = min(defaults, key=lambda row: row["freeze"])  # no freeze: nothing to change
    return dict(default, reason=why)


def _because(row: Dict[str, Any], bounds: Bounds) -> str:
    pause = "no bound" if bounds.max_pause_ms is None else f"<= {bounds.max_pause_ms:g} ms"
    return (
        f"the smallest setting that wins back {row['win']:.0%} (>= {bounds.min_win:.0%}) of "
        f"the CPU time disabled saves, peak RSS {row['peak_growth']:+.1%} "
        f"(<= {bounds.max_memory_growth:+.0%}), worst pause {row['pause_max_ms']:.1f} ms ({pause})"
    )


def flattens_at(rows: Sequence[Dict[str, Any]], freeze: bool) -> Optional[Dict[str, Any]]:
    """The lowest first threshold past which raising it (up to disabled) wins less than FLAT
    of default's CPU time; None without a curve."""
    floors = [r for r in rows if r["policy"] == "disabled" and r["freeze"] is freeze]
    if all("disabled saves n.s." in row["excluded_by"] for row in floors):
        return None  # no saving to flatten out
    curve = sorted(
        (r for r in rows if r["freeze"] is freeze and r["policy"].count(",") == 0),
        key=_order,
    )
    curve = [r for r in curve if r["policy"].startswith("threshold:") or r["policy"] == "disabled"]
    for index, row in enumerate(curve[:-1]):
        further = min(_ratio_of(r) for r in curve[index + 1 :])
        if _ratio_of(row) - further < FLAT:
            return {"policy": row["policy"], "freeze": freeze, "further": _ratio_of(row) - further}
    return None


def _ratio_of(row: Dict[str, Any]) -> float:
    return row["cpu_vs_default"]["ratio"]


def code_lines(policy: str, freeze: bool, gc_threshold: Sequence[int]) -> List[str]:
    """The lines to paste at start-up (after imports and set-up), for this setting."""
    lines = ["import gc"]
    if freeze:
        lines += [
            "gc.collect(2)",
            "gc.freeze()  # keep what start-up built out of every collection",
        ]
    if policy == "disabled":
        lines.append("gc.disable()")
    elif policy.startswith("threshold:"):
        given = policy.split(":", 1)[1].split(",")
        note = "" if len(given) == len(gc_threshold) else f"  # in force: {tuple(gc_threshold)}"
        lines.append(f"gc.set_threshold({', '.join(given)}){note}")
    elif policy != "default":
        lines.append(f"# the {policy} policy: see ormgc/worker/policies.py")
    return lines if len(lines) > 1 else ["# nothing to change: keep the interpreter's GC"]


_COLUMNS = (
    "freeze",
    "policy",
    "threshold",
    "collections",
    "collected",
    "cpu ms",
    "cpu vs default",
    "wins",
    "gc share",
    "peak MB",
    "vs default",
    "end MB",
    "worst pause ms",
    "p99 pause ms",
    "verdict",
)


def _table_row(row: Dict[str, Any], chosen: Dict[str, Any]) -> List[str]:
    versus = row["cpu_vs_default"]
    is_chosen = (row["policy"], row["freeze"]) == (chosen["policy"], chosen["freeze"])
    verdict = "RECOMMENDED" if is_chosen else ", ".join(row["excluded_by"]) or "fits"
    share = row.get("gc_share")
    return [
        "on" if row["freeze"] else "off",
        row["policy"],
        "/".join(map(str, row["gc_threshold"])),
        str(row["collections_total"]),
        str(row["collected"]),
        f"{row['cpu_ms']:.0f}",
        "baseline" if row["policy"] == "default" else format_ratio(versus["ratio"], versus["ci95"]),
        "" if row["win"] is None or row["policy"] == "default" else _wins(row),
        "" if share is None else f"{share:.1%}",
        f"{row['peak_rss_mb']:.1f}",
        f"{row['peak_growth']:+.1%}",
        "" if row["rss_end_mb"] is None else f"{row['rss_end_mb']:.1f}",
        f"{row['pause_max_ms']:.1f}",
        f"{row['pause_p99_ms']:.1f}",
        verdict,
    ]


def _wins(row: Dict[str, Any]) -> str:
    return "-" if "disabled saves n.s." in row["excluded_by"] else f"{row['win']:.0%}"


def format_advice(advice: Dict[str, Any]) -> str:
    """The recommendation, the code to paste, the figures, and the whole trade-off table."""
    chosen = dict(advice["recommended"]["figures"], reason=advice["recommended"]["reason"])
    bounds = advice["bounds"]
    pause = "no bound" if bounds["max_pause_ms"] is None else f"<= {bounds['max_pause_ms']:g} ms"
    freeze = "freeze on" if chosen["freeze"] else "no freeze"
    lines = [
        f"Workload: {advice['workload']}; {advice['interpreter']}; "
        f"median of {advice['repeat']} interleaved rounds per setting",
        f"Bounds: win back >= {bounds['min_win']:.0%} of what disabled saves (CPU), "
        f"peak RSS <= {bounds['max_memory_growth']:+.0%} of default's, worst pause {pause}",
        "",
        f"Recommended: {chosen['policy']} ({freeze}), for {advice['interpreter']}",
        f"  because {chosen['reason']}",
    ]
    if chosen["policy"] != "default":
        versus = chosen["cpu_vs_default"]
        lines.append(
            f"  figures: {chosen['collections_total']} collections, CPU "
            f"{chosen['cpu_ms']:.0f} ms = {format_ratio(versus['ratio'], versus['ci95'])} "
            f"of default's, peak {chosen['peak_rss_mb']:.1f} MB"
        )
    lines += ["", "Paste at start-up, after imports and set-up:"]
    lines += ["    " + line for line in advice["code"]]
    flat = advice["flattens_at"]
    if flat:
        lines += [
            "",
            f"The curve flattens at {flat['policy']} (freeze {'on' if flat['freeze'] else 'off'}):"
            f" any higher threshold, or disabled, wins at most {flat['further']:.1%} more of "
            "default's CPU time.",
        ]
    alone = advice.get("freeze_alone")
    if alone:
        lines += [
            "",
            "gc.collect(2) + gc.freeze() alone (default with it, CPU vs default without): "
            + format_ratio(alone["ratio"], alone["ci95"]),
        ]
    columns = [c for c in _COLUMNS if c != "gc share" or advice["exact"]]
    table = [_table_row(row, chosen) for row in advice["table"]]
    if not advice["exact"]:
        table = [row[:8] + row[9:] for row in table]
    lines += ["", grid(columns, table)]
    lines.append(
        "cpu vs default: paired ratio [95% interval] to default of the same freeze setting "
        "(n.s.: no significant difference); wins: share of disabled's CPU saving; worst/p99 "
        "pause: "
        + ("GC pause per request" if advice["requests"] else "per collection")
        + ("" if advice["exact"] else "; gc share: give --exact (valgrind)")
    )
    return "\n".join(lines)
