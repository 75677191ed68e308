"""``ormgc compare`` on a terminal: the time table fitted to its width and the answer in one
line; the whole Markdown document (intervals, collections, memory, pyperf compare_to) is the
file it writes, printed instead with --wide or when stdout is not a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

from ormgc.views.compare import _TIMER_WORDS, _ms
from ormgc.views.stats import bootstrap_median_ratio, significant
from ormgc.views.terminal import bold, fit, render, wrap, wrap_parts


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
    table = [
        [*row, *(_ms(r.benches[row].median()) if row in r.benches else "--" for r in loaded)]
        for row in rows
    ]
    versions = list(range(len(header) - 1, 2, -1))  # the newest first
    several = len({row[0] for row in rows}) > 1
    importance = [2, 1, 0, *versions] if several else [2, 1, *versions, 0]
    header, table, left_out = fit(header, table, width, importance)
    timer = _TIMER_WORDS.get(str(loaded[0].metadata["ormgc_timer"]), "time")
    heading = f"Time per query, ms ({timer}, median of the pyperf values)"
    hint = f"; left out at {width} columns: Python {', '.join(left_out)}" if left_out else ""
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
