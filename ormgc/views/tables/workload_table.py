"""Tables for what the load table leaves out: request loops' per-request figures, and
bring-your-own workloads (which have no dataset or backend of ours to head the table)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ormgc.views.stats import precision_note
from ormgc.views.tables.table import (
    _compact,
    _row,
    answer_lines,
    column_names,
    gc_changed_notes,
    grid,
    threshold_text,
)
from ormgc.views.terminal import bold, fit, render, wrap, wrap_parts, wrap_phrases

_REQUEST_COLUMNS = (
    "orm",
    "policy",
    "threshold",
    "requests",
    "per req",
    "collections",
    "collected",
    "peak MB",
    "end MB",
    "growth MB",
    "req p50 ms",
    "req p99 ms",
    "req max ms",
    "gc p99 ms/req",
    "gc max ms/req",
)
# What fits first at a terminal's width (the rest: --wide).
_REQUEST_IMPORTANCE = ("policy", "collections", "req p99 ms", "gc p99 ms/req", "peak MB",
                       "growth MB", "gc max ms/req", "req p50 ms", "orm", "req max ms", "end MB",
                       "threshold", "requests", "per req", "collected")  # fmt: skip


def _request_row(record: Dict[str, Any]) -> List[str]:
    times, pauses = record["request_ms"], record["request_pause_ms"]
    return [
        record["orm"],
        record["policy"],
        threshold_text(record),
        str(record["requests"]),
        str(record["per_request"]),
        str(record["collections_total"]),
        str(record["collected"]),
        f"{record['peak_rss_mb']:.1f}",
        f"{record['rss_end_mb']:.1f}",
        f"{record['rss_delta_mb']:+.1f}",
        f"{times['median']:.2f}",
        f"{times['p99']:.2f}",
        f"{times['max']:.2f}",
        f"{pauses['p99']:.2f}",
        f"{pauses['max']:.2f}",
    ]


def format_requests(
    records: Sequence[Dict[str, Any]], width: Optional[int] = None, colour: bool = False
) -> str:
    """Request-loop records: memory (peak, at the end, growth) and per-request time and GC
    pause (the collections that started during a request, summed), medians over repeats."""
    loops = [record for record in records if "request_ms" in record]
    if not loops:
        return ""
    heading = (
        f"Request loops (Python {loops[0]['python']}): per request, time and GC pause "
        "(p50/p99/max over requests); RSS at the end and its growth over the loop"
    )
    rows = [_request_row(r) for r in loops]
    if width is None:
        return heading + "\n" + grid(_REQUEST_COLUMNS, rows)
    importance = [_REQUEST_COLUMNS.index(name) for name in _REQUEST_IMPORTANCE]
    header, rows, left_out = fit(_REQUEST_COLUMNS, rows, width, importance)
    hint = f"--wide: every column; left out at {width} columns: {', '.join(left_out)}"
    hint = "\n" + wrap(hint, width) if left_out else ""
    return wrap_phrases(heading, width) + "\n" + render(header, rows, colour) + hint


def format_workloads(
    records: Sequence[Dict[str, Any]], width: Optional[int] = None, colour: bool = False
) -> str:
    """Records of user workloads (``--workload``), one block per interpreter: every column when
    ``width`` is None, else those that fit it."""
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(f"Python {record['python']} ({record['python_build']})", []).append(
            record
        )
    blocks = []
    for python, group in groups.items():
        first = group[0]
        loaded = first["loaded"] if first["loaded"] is not None else "(no len)"
        heading = (
            f"{python}, workload {first['shape']}; {loaded} loaded, "
            f"freeze={'on' if first['freeze'] else 'off'}, median of {first.get('repeat', 1)}"
            + precision_note(first)
        )
        rows = [_row(records, r) for r in group]
        if width is None:
            table = grid(column_names(first), rows)
        else:
            table = _compact(column_names(first), rows, width, colour, 0)[0]
        answers = "".join(
            "\n" + bold(wrap_parts(parts, width), colour) for parts in answer_lines(records, group)
        )
        blocks.append(
            wrap_phrases(heading, width) + "\n" + table + gc_changed_notes(group) + answers
        )
    return "\n\n".join(blocks)
