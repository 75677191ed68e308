"""The table of ``ormgc run --exact``: instructions counted under valgrind, not times."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from ormgc.views.tables.table import grid

_COLUMNS = (
    "orm",
    "shape",
    "policy",
    "threshold",
    "collections",
    "total",
    "instructions",
    "gc instructions",
    "gc share",
    "gc counted by",
)
_CYCLE_COLUMNS = ("est. cycles", "gc share of est. cycles")


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


def format_exact_table(records: Sequence[Dict[str, Any]]) -> str:
    """Exact records as a text table, one block per interpreter and backend."""
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
        blocks.append(f"{heading}\n{grid(header, rows)}\n{notes}")
    return "\n\n".join(blocks)
