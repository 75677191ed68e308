"""``ormgc advise``'s verdict: each setting's trade-off against ``default``, the recommendation,
where the curve flattens and the lines of code to paste (the text: ormgc.views.advice.table).

The rule decides on significant differences only, so that two sweeps of the same workload on the
same machine give the same advice. ``disabled`` is the floor: what the collector costs. A setting
wins enough when its CPU time is *not significantly worse* than the floor's plus the allowance
--min-win leaves (90%: a tenth of what disabled saves); it is rejected only when it is
significantly worse. The advice is the smallest setting (lowest first threshold, then fewest
changes) that wins enough and whose win over ``default`` is significant, every smaller setting
having been rejected. Anything not yet significant makes the sweep measure more rounds; when its
budget is spent the advice is to keep the default, saying why. With ``--exact`` the ranking comes
from the collector's instruction counts (deterministic) and timing must confirm the winner.

CPU time, not wall time: the collector's cost is CPU spent in the measured process.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

from ormgc.views.stats import format_ratio

# The curve has flattened where going further wins less than 5% of default's CPU time (about
# the noise of a 5-round paired ratio on this machine).
FLAT = 0.05
# A collector whose whole cost is significantly under 2% of the CPU time is not worth changing.
MIN_SAVING = 0.02
DISABLED_WARNING = (
    "warning: gc.disable() never frees a reference cycle: every cycle the program makes "
    "(exceptions with tracebacks, parent/child links, closures...) stays in memory until exit"
)


class Bounds(NamedTuple):
    """What the advice must respect: ``--min-win``, ``--max-memory-growth``, ``--max-pause``,
    ``--allow-disabled``."""

    min_win: float = 0.90  # share of disabled's CPU saving to win back
    max_memory_growth: float = 0.10  # peak RSS over default's, as a fraction
    max_pause_ms: Optional[float] = None  # worst GC pause (per request, for request loops)
    allow_disabled: bool = False  # disabled is the floor; recommended only when allowed


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
    return (first, record["policy"].count(","), record["freeze"], record["policy"])


def _exact(group: Sequence[Dict[str, Any]]) -> bool:
    """Whether every record of the group has the collector's instruction count (--exact)."""
    return all(record.get("gc_instructions") is not None for record in group)


def _floor_state(floor: Optional[Dict[str, Any]], exact: bool) -> tuple:
    """(firm, pending): why nothing can be won at this freeze setting, for good or for now."""
    if floor is None:
        return ("no disabled to compare", "")
    if exact:
        return ("", "")
    ratio, ci95 = floor["cpu_vs_baseline"]["ratio"], floor["cpu_vs_baseline"]["ci95"]
    if ci95 and ci95[0] >= 1 - MIN_SAVING:
        return (f"disabled saves < {MIN_SAVING:.0%}", "")
    if not ci95 or ratio >= 1 or ci95[1] >= 1:
        return ("", "disabled saves n.s.")
    return ("", "")


def _win(record: Dict[str, Any], floor: Optional[Dict[str, Any]], default: Dict, exact: bool):
    """The share of disabled's saving won back, and whether it is significantly short of
    ``min_win`` (exact: from the collector's instructions, no noise)."""
    if exact:
        spent = default["gc_instructions"]
        win = 1 - record["gc_instructions"] / spent if spent else math.nan
        return win, None
    saving = 1 - _ratio(floor) if floor else math.nan
    win = (1 - _ratio(record)) / saving if saving > 0 else math.nan
    return win, record.get("cpu_vs_disabled")


def _row_reasons(record, floor, default, exact, bounds) -> tuple:
    """(firm, pending): reasons that exclude the setting, and noise that leaves it undecided."""
    firm, pending = _floor_state(floor, exact)
    firm, pending = [firm] if firm else [], [pending] if pending else []
    if record["policy"] == "default":
        return ["baseline"], []
    if record["policy"] == "disabled" and not bounds.allow_disabled:
        firm.append("needs --allow-disabled")
    win, versus_floor = _win(record, floor, default, exact)
    if not (firm or pending) and record["policy"] != "disabled":
        if exact or math.isnan(win):
            if not win >= bounds.min_win:
                firm.append(f"wins {win:.0%}" if not math.isnan(win) else "nothing to win")
        else:  # allowance over the floor: what min_win leaves of disabled's saving
            allowance = 1 + (1 - bounds.min_win) * (1 - _ratio(floor)) / _ratio(floor)
            ci95 = (versus_floor or {}).get("ci95")
            if not ci95:
                pending.append("one round: no interval")
            elif ci95[0] > allowance:
                firm.append(f"wins {win:.0%}, significantly short")
    versus = record["cpu_vs_baseline"]
    if not (firm or pending) and not (versus["ci95"] and versus["ci95"][1] < 1):
        what = "timing does not confirm its win yet" if exact else "win over default n.s."
        pending.append(what)
    return firm, pending


def assess(records: List[Dict[str, Any]], bounds: Bounds) -> List[Dict[str, Any]]:
    """One row per record: its trade-off against default of the same freeze setting, the
    reasons it cannot be recommended (``excluded_by``) and what is not significant yet
    (``pending``); it fits when both are empty."""
    rows = []
    for freeze in dict.fromkeys(record["freeze"] for record in records):
        group = [record for record in records if record["freeze"] is freeze]
        default = next(record for record in group if record["policy"] == "default")
        floor = next((record for record in group if record["policy"] == "disabled"), None)
        exact = _exact(group)
        for record in group:
            pause = worst_pause(record)
            growth = record["peak_rss_mb"] / default["peak_rss_mb"] - 1
            why, pending = _row_reasons(record, floor, default, exact, bounds)
            if growth > bounds.max_memory_growth:
                why.append(f"peak {growth:+.0%}")
            if bounds.max_pause_ms is not None and pause["max"] > bounds.max_pause_ms:
                why.append(f"pause {pause['max']:.0f} ms")
            if not record.get("counts_identical", True):
                why.append("counts varied")
            win = _win(record, floor, default, exact)[0]
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
                    "win_by": "instructions" if exact else "cpu",
                    "gc_share": record.get("gc_share"),
                    "gc_instructions": record.get("gc_instructions"),
                    "peak_rss_mb": record["peak_rss_mb"],
                    "peak_growth": growth,
                    "rss_end_mb": record.get("rss_end_mb"),
                    "pause_max_ms": pause["max"],
                    "pause_p99_ms": pause["p99"],
                    "excluded_by": why,
                    "pending": pending,
                }
            )
    return rows


def recommend(rows: Sequence[Dict[str, Any]], bounds: Bounds) -> Dict[str, Any]:
    """The smallest setting that fits, every smaller one excluded (``decided``: True); the
    default when none fits (decided) or when a smaller one is not significant yet (not)."""
    defaults = [row for row in rows if row["policy"] == "default"]
    default = min(defaults, key=lambda row: row["freeze"])  # no freeze: nothing to change
    for row in sorted(rows, key=_order):
        if row["policy"] == "default" or row.get("excluded_by"):
            continue
        label = f"{row['policy']} (freeze {'on' if row['freeze'] else 'off'})"
        if row.get("pending"):
            versus = row["cpu_vs_default"]
            why = f"{label}: {', '.join(row['pending'])}, CPU vs default " + format_ratio(
                versus["ratio"], versus["ci95"]
            )
            return dict(default, reason=why, decided=False)
        return dict(row, reason=_because(row, bounds), decided=True)
    floors = [row for row in rows if row["policy"] == "disabled"]
    if not floors:
        why = "the grid has no disabled setting to measure the collector's cost by"
    elif all(f"disabled saves < {MIN_SAVING:.0%}" in row["excluded_by"] for row in floors):
        why = f"disabling the collector saves under {MIN_SAVING:.0%} of the CPU time here "
        why += "(disabled vs default: "
        why += "; ".join(
            f"freeze {'on' if row['freeze'] else 'off'} "
            + format_ratio(row["cpu_vs_default"]["ratio"], row["cpu_vs_default"]["ci95"])
            for row in floors
        )
        why += ")"
    else:
        why = f"no setting wins back {bounds.min_win:.0%} of what disabled saves within the bounds"
    return dict(default, reason=why, decided=True)


def _because(row: Dict[str, Any], bounds: Bounds) -> str:
    pause = "no bound" if bounds.max_pause_ms is None else f"<= {bounds.max_pause_ms:g} ms"
    by = " by the collector's instructions" if row.get("win_by") == "instructions" else ""
    return (
        f"the smallest setting that wins back {row['win']:.0%} (>= {bounds.min_win:.0%}, "
        f"or not significantly less) of the CPU time disabled saves{by}, its win over default "
        f"significant, every smaller setting excluded; peak RSS {row['peak_growth']:+.1%} "
        f"(<= {bounds.max_memory_growth:+.0%}), worst pause {row['pause_max_ms']:.1f} ms ({pause})"
    )


def flattens_at(rows: Sequence[Dict[str, Any]], freeze: bool) -> Optional[Dict[str, Any]]:
    """The lowest first threshold past which raising it (up to disabled) wins less than FLAT
    of default's CPU time; None without a curve."""
    floors = [r for r in rows if r["policy"] == "disabled" and r["freeze"] is freeze]
    if all(no_saving(row) for row in floors):
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


def no_saving(row: Dict[str, Any]) -> bool:
    """Whether the row's freeze setting has no (significant) saving to win back."""
    reasons = row["excluded_by"] + row.get("pending", [])
    return any(reason.startswith("disabled saves ") for reason in reasons)


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
