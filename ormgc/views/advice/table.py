"""``ormgc advise``'s text: the recommendation, the code to paste, the trade-off table."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ormgc.views.advice.rule import DISABLED_WARNING, no_saving
from ormgc.views.stats import format_ratio, significant
from ormgc.views.tables.table import grid
from ormgc.views.terminal import bold, fit, render, wrap, wrap_parts

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
# The compact table (advise without --wide): what fits first; the verdict is cut to fit.
_IMPORTANCE = ("policy", "collections", "cpu vs default", "cpu ms", "verdict", "peak MB",
               "worst pause ms", "wins", "threshold", "vs default", "p99 pause ms", "gc share",
               "end MB", "collected")  # fmt: skip


def _table_row(row: Dict[str, Any], chosen: Dict[str, Any]) -> List[str]:
    versus = row["cpu_vs_default"]
    is_chosen = (row["policy"], row["freeze"]) == (chosen["policy"], chosen["freeze"])
    pending = ["undecided: " + why for why in row.get("pending", [])]
    verdict = "RECOMMENDED" if is_chosen else ", ".join(row["excluded_by"] + pending) or "fits"
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
    return "-" if no_saving(row) else f"{row['win']:.0%}"


def _rounds_note(advice: Dict[str, Any]) -> str:
    """How the sweep stopped: its choice significant, or its budget spent; --precision."""
    note = ""
    if "decided" in advice:
        note = "; the choice significant" if advice["decided"] else "; budget spent undecided"
        note += f" (at most {advice['max_rounds']} rounds)" if advice.get("max_rounds") else ""
    precision = advice.get("precision")
    if precision:
        achieved = precision["achieved"]
        reached = "no interval" if achieved is None else f"+-{achieved:.1f}%"
        note += f"; precision +-{precision['target']:g}% (CPU): "
        note += ("met, " if precision["met"] else "NOT met, ") + reached
    return note


def format_advice(advice: Dict[str, Any], width: Optional[int] = None, colour: bool = False) -> str:
    """The recommendation, the code to paste, the figures, and the trade-off table: every column
    when ``width`` is None (--wide), else the columns that fit ``width``, the prose wrapped."""
    chosen = dict(advice["recommended"]["figures"], reason=advice["recommended"]["reason"])
    bounds = advice["bounds"]
    pause = "no bound" if bounds["max_pause_ms"] is None else f"<= {bounds['max_pause_ms']:g} ms"
    freeze = "freeze on" if chosen["freeze"] else "no freeze"
    lines = [
        f"Workload: {advice['workload']}; {advice['interpreter']}; "
        f"median of {advice['repeat']} interleaved rounds per setting{_rounds_note(advice)}",
        f"Bounds: win back >= {bounds['min_win']:.0%} of what disabled saves (CPU), "
        f"peak RSS <= {bounds['max_memory_growth']:+.0%} of default's, worst pause {pause}",
        "",
        f"Recommended: {chosen['policy']} ({freeze}), for {advice['interpreter']}",
        f"  because {chosen['reason']}",
    ]
    if chosen["policy"] == "disabled":
        lines.append("  " + DISABLED_WARNING)
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
    if width is None:
        lines += ["", grid(columns, table)]
    else:
        lines = [line if line.startswith("    ") else wrap(line, width, "  ") for line in lines]
        lines += ["", *_compact(columns, table, width, colour)]
    answer = bold(wrap_parts(_answer(advice, chosen), width), colour)
    lines.insert(len(lines) - (width is not None), answer)  # under the table, before its hint
    legend = (
        "cpu vs default: paired ratio [95% interval] to default of the same freeze setting "
        "(n.s.: no significant difference); wins: share of disabled's CPU saving; worst/p99 "
        "pause: "
        + ("GC pause per request" if advice["requests"] else "per collection")
        + ("" if advice["exact"] else "; gc share: give --exact (valgrind)")
    )
    lines.append(wrap(legend, width))
    return "\n".join(lines)


def _compact(columns: List[str], table: List[List[str]], width: int, colour: bool) -> List[str]:
    """The columns that fit ``width``, in order of importance (freeze first when it varies);
    when the verdict does not fit, a ``*`` before the recommended policy. The table, then a line
    on what was left out."""
    freezes = {row[columns.index("freeze")] for row in table}
    order = ("freeze", *_IMPORTANCE) if len(freezes) > 1 else (*_IMPORTANCE, "freeze")
    importance = [columns.index(name) for name in order if name in columns]
    verdict, policy = columns.index("verdict"), columns.index("policy")
    header, rows, left_out = fit(columns, table, width, importance, verdict)
    marked = ""
    if "verdict" in left_out:
        table = [
            [f"* {cell}" if i == policy and row[verdict] == "RECOMMENDED" else cell
             for i, cell in enumerate(row)]
            for row in table
        ]  # fmt: skip
        header, rows, left_out = fit(columns, table, width, importance, verdict)
        marked = "* recommended; "
    hint = f"; left out at {width} columns: {', '.join(left_out)}" if left_out else ""
    return [render(header, rows, colour), wrap(marked + "--wide: every column" + hint, width)]


def _answer(advice: Dict[str, Any], chosen: Dict[str, Any]) -> List[str]:
    """The recommendation in one line, e.g. "threshold:50000 (freeze on): 23 instead of 1,708
    collections, 0.59x the CPU time [0.44, 0.78]", parts a line may break between."""
    setting = f"{chosen['policy']} ({'freeze on' if chosen['freeze'] else 'no freeze'}):"
    base = _default_row(advice, chosen["freeze"])
    if chosen["policy"] == "default" or base is None:
        return [setting, f"{chosen['collections_total']:,} collections,", "the GC left as it is"]
    ratio, ci95 = chosen["cpu_vs_default"]["ratio"], chosen["cpu_vs_default"]["ci95"]
    if not ci95:
        interval = " (one round: no interval)"
    else:
        interval = f" [{ci95[0]:.2f}, {ci95[1]:.2f}]"
        interval += "" if significant(ci95) else ", no significant difference"
    return [
        setting,
        f"{chosen['collections_total']:,} instead of {base['collections_total']:,} collections,",
        f"{ratio:.2f}x the CPU time{interval}",
    ]


def _default_row(advice: Dict[str, Any], freeze: bool) -> Optional[Dict[str, Any]]:
    for row in advice["table"]:
        if row["policy"] == "default" and row["freeze"] == freeze:
            return row
    return None
