"""``ormgc compare`` on a terminal: the time table fitted to its width and the answer in one
line; the whole Markdown document (intervals, collections, memory, pyperf compare_to) is the
file it writes, printed instead with --wide or when stdout is not a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

from ormgc.views.compare.compare import _TIMER_WORDS, _ms
from ormgc.views.stats import bootstrap_median_ratio, significant
from ormgc.views.terminal import bold, fit, render, wrap, wrap_parts

_BUILD = ("orm_version", "orm_speedups", "driver_version", "driver_impl")


def _build(bench: Any) -> tuple:
    metadata = bench.get_metadata()
    return tuple(metadata.get(key) for key in _BUILD)


def _cells(loaded: List[Any], row: tuple) -> List[str]:
    """Median ms per version, † where the ORM or driver build differs from the left cell's."""
    cells, previous = [], None
    for result in loaded:
        bench = result.benches.get(row)
        if bench is None:
            cells.append("--")
        else:
            changed = previous is not None and _build(previous) != _build(bench)
            cells.append(_ms(bench.median()) + (" †" if changed else ""))
        previous = bench
    return cells


def _answer(loaded: List[Any], row: tuple) -> List[str]:
    """The oldest and newest Python that ran ``row``, as a ratio of medians with its interval."""
    ran = [result for result in loaded if row in result.benches]
    if len(ran) < 2:
        return [f"{' '.join(row)}:", f"only Python {ran[0].python}"]
    old, new = ran[0], ran[-1]
    ratio, ci95 = bootstrap_median_ratio(
        new.benches[row].get_values(), old.benches[row].get_values()
    )
    interval = "" if not ci95 else f" [{ci95[0]:.2f}, {ci95[1]:.2f}]"
    interval += "" if significant(ci95) else ", no significant difference"
    if _build(old.benches[row]) != _build(new.benches[row]):
        interval += " (not the same ORM or driver build)"
    return [
        f"{' '.join(row)}:",
        f"{_ms(new.benches[row].median())} ms on Python {new.python},",
        f"{_ms(old.benches[row].median())} ms on {old.python}:",
        f"{ratio:.2f}x the time{interval}",
    ]


def summary(loaded: List[Any], output: Path, width: int, colour: bool = False) -> str:
    """Median time per query (ms) per ORM x shape x policy and Python version: the newest
    versions first when not all fit, the ORM column when the rows have more than one ORM."""
    rows = list(dict.fromkeys(row for result in loaded for row in result.benches))
    header = ["orm", "shape", "policy", *(result.python for result in loaded)]
    table = [[*row, *_cells(loaded, row)] for row in rows]
    versions = list(range(len(header) - 1, 2, -1))  # the newest first
    several = len({row[0] for row in rows}) > 1
    importance = [2, 1, 0, *versions] if several else [2, 1, *versions, 0]
    header, table, left_out = fit(header, table, width, importance)
    timer = _TIMER_WORDS.get(str(loaded[0].metadata["ormgc_timer"]), "time")
    heading = f"Time per query, ms ({timer}, median of the pyperf values)"
    hint = f"; left out at {width} columns: Python {', '.join(left_out)}" if left_out else ""
    if any("†" in cell for line in table for cell in line):
        hint = "; †: the ORM's or the driver's version or build differs from the left" + hint
    lines = [
        wrap(heading, width),
        render(header, table, colour),
        bold(wrap_parts(_answer(loaded, rows[0]), width), colour),
        wrap(
            f"the whole comparison (intervals, collections, memory, GC cost per object, pyperf "
            f"compare_to): {output}; --wide prints it here{hint}",
            width,
        ),
    ]
    return "\n".join(lines)
