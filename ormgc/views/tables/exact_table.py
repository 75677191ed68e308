"""The table of ``ormgc run --exact``: instructions counted under valgrind, not times."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ormgc.views.tables.table import grid
from ormgc.views.terminal import fit, render, wrap, wrap_phrases

_COLUMNS = (
    "orm",
    "shape",
    "policy",
    "threshold",
    "per gen",
    "collections",
    "instructions",
    "gc instructions",
    "gc share",
    "gc counted by",
)
_CYCLE_COLUMNS = ("est. cycles", "gc share of est. cycles")
# What fits first at a terminal's width (the rest: --wide).
_IMPORTANCE = ("policy", "collections", "gc share", "shape", "gc instructions", "instructions",
               "gc share of est. cycles", "orm", "gc counted by", "threshold", "per gen",
               "est. cycles")  # fmt: skip


def _row(record: Dict[str, Any], cycles: bool) -> List[str]:
    same = record.get("instructions_identical", True)
    row = [
        record["orm"],
        record["shape"],
        record["policy"],
        "/".join(map(str, record["gc_threshold"])),
        "/".join(map(str, record["collections"])),
        str(record["collections_total"]),
        f"{record['instructions']:,}{'' if same else ' (varied)'}",
        f"{record['gc_instructions']:,}",
        f"{record['gc_share']:.1%}",
        "between gc.callbacks"
        if record.get("gc_method") == "callbacks"
        else record["gc_function"] or "-",
    ]
    if cycles:
        row += [
            f"{record.get('estimated_cycles', 0):,}",
            f"{record.get('gc_share_estimated_cycles', 0):.1%}",
        ]
    return row


def format_exact_table(
    records: Sequence[Dict[str, Any]], width: Optional[int] = None, colour: bool = False
) -> str:
    """Exact records as a text table, one block per interpreter and backend: every column when
    ``width`` is None, else those that fit it (in order of importance), the prose wrapped."""
    groups: Dict[tuple, List[Dict[str, Any]]] = {}
    for record in records:
        key = (record["python"], record["backend"], record["orm_version"])
        groups.setdefault(key, []).append(record)
    blocks = []
    for (python, backend, orm_version), group in groups.items():
        first = group[0]
        cycles = "estimated_cycles" in first
        runs = first.get("repeat", 1)
        heading = (
            f"Python {python} ({first['python_build']}), {first['orm']} {orm_version}, "
            f"{first['driver']} {first['driver_version']}, {backend}; {first['rows']} rows, "
            f"{first['loaded']} loaded, freeze={'on' if first['freeze'] else 'off'}; "
            f"exact: instructions of the block under {first['valgrind']} callgrind, "
            f"PYTHONHASHSEED={first['exact_env']['PYTHONHASHSEED']}, fixed environment"
            f"{f', {runs} runs' if runs > 1 else ''}"
        )
        notes = "gc share: the collector's instructions / the block's (instructions, not time)"
        if cycles:
            notes += "; est. cycles: L1 hits + 5 x LL hits + 35 x RAM, simulated caches"
        header = list(_COLUMNS) + (list(_CYCLE_COLUMNS) if cycles else [])
        rows = [_row(record, cycles) for record in group]
        if width is None:
            table = grid(header, rows)
        else:
            importance = [header.index(name) for name in _IMPORTANCE if name in header]
            header, rows, left_out = fit(header, rows, width, importance)
            table = render(header, rows, colour)
            notes += "; --wide: every column" + (
                f"; left out at {width} columns: {', '.join(left_out)}" if left_out else ""
            )
        blocks.append(f"{wrap_phrases(heading, width)}\n{table}\n{wrap(notes, width)}")
    return "\n\n".join(blocks)
