"""What the GC costs per loaded object, per Python version: one more table for ``ormgc compare``.

A policy's median time minus the ``disabled`` median of the same (ORM, shape) and version, over
the objects one query loads: what each loaded object pays the collector, in microseconds.
Where ``disabled`` was not measured the cell says so ("--").
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

Row = Tuple[str, str, str]  # (ORM, shape, policy)
FLOOR = "disabled"


def _per_object_us(bench: Any, floor: Any) -> str:
    load = int(bench.get_metadata()["ormgc_load"])
    return f"{(bench.median() - floor.median()) / load * 1e6:+.2f}"


def per_object_table(loaded: Sequence[Any], rows: List[Row]) -> List[str]:
    """Markdown lines: a row per (ORM, shape, policy) other than the floor, a column per version."""
    header = ["ORM", "shape", "policy", *(f"Python {result.python}" for result in loaded)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for orm, shape, policy in rows:
        if policy == FLOOR:
            continue
        cells = [orm, shape, policy]
        for result in loaded:
            bench: Optional[Any] = result.benches.get((orm, shape, policy))
            floor: Optional[Any] = result.benches.get((orm, shape, FLOOR))
            cells.append(_per_object_us(bench, floor) if bench and floor else "--")
        lines.append("| " + " | ".join(cells) + " |")
    return lines
