"""The exact view beside the report's CPU time: the query's instructions per Python under
callgrind (results/exact/), the collector's part of them, and what ``threshold:50000`` saves of
them beside what it saves of the CPU time (timing, with its interval).

Instructions are compared at one size per ORM (exact runs are slow, so not every ORM has every
Python at the seed's 100,000 rows): the seed's size when every Python has it, else the size that
covers the most Pythons. Of several records of one cell (a rerun, another checkout), the newest.
"""

from __future__ import annotations

import html
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS
from ormgc.views.charts.common import policy_colour, share_interval
from ormgc.views.charts.report_data import ResultSet, minor
from ormgc.views.site.answer import ORM as HEADLINE_ORM
from ormgc.views.site.answer import headline

Size = Tuple[int, int]  # (rows, loaded)
SHAPE, RAISED = "seed_loop", "threshold:50000"
DRAWN = ("default", RAISED)
SEED: Size = (DEFAULT_ROWS, DEFAULT_LOAD)


def size_text(size: Size) -> str:
    return f"{size[0]:,} rows, {size[1]:,} loaded"


def exact_cells(results: ResultSet, orm: str) -> Dict[Tuple[str, str, Size], Dict[str, Any]]:
    """(X.Y, policy, size) -> the newest exact record of the ORM's seed loop."""
    cells: Dict[Tuple[str, str, Size], Dict[str, Any]] = {}
    for record in results.exact.records:
        if (record.get("orm"), record.get("shape")) != (orm, SHAPE):
            continue
        size = (record.get("rows") or DEFAULT_ROWS, record.get("loaded") or DEFAULT_LOAD)
        key = (minor(record["python"]), record["policy"], size)
        if key not in cells or record.get("timestamp", "") > cells[key].get("timestamp", ""):
            cells[key] = record
    return cells


def common_size(
    results: ResultSet, orm: str, versions: Sequence[str], policies: Sequence[str] = DRAWN
) -> Optional[Size]:
    """The size at which the most (Python, policy) cells were counted: the seed's on a tie."""
    cells = exact_cells(results, orm)
    covered: Dict[Size, int] = {}
    for version, policy, size in cells:
        if version in versions and policy in policies:
            covered[size] = covered.get(size, 0) + 1
    if not covered:
        return None
    return max(covered, key=lambda size: (covered[size], size == SEED, size))


def share_title(orm: str, hows: Sequence[Tuple[str, str]], size: Optional[Size]) -> str:
    """The share panel's title: what the bars are and, per Python, at which size."""
    kinds = [how for _, how in hows]
    if not all(kind.startswith("exact") for kind in kinds):
        return f"{orm}: GC share (exact, else 1 - time(disabled) / time(policy))"
    groups: Dict[str, List[str]] = {}
    for version, how in hows:
        rows = how.split(" at ")[1] if " at " in how else f"{SEED[0]:,} rows"
        groups.setdefault(rows, []).append(version)
    where = "; ".join(
        rows if len(groups) == 1 else f"{rows}: {', '.join(dict.fromkeys(found))}"
        for rows, found in groups.items()
    )
    if size is not None and where == f"{size[0]:,} rows":  # one size: loaded too
        where = size_text(size)
    return f"{orm}: the collector's share of the instructions\n(exact, callgrind; {where})"


class Saving(NamedTuple):
    """What ``threshold:50000`` saves one ORM's query on one Python, exact and timed."""

    python: str
    default: Optional[Dict[str, Any]]  # the exact records (None: not counted at this size)
    raised: Optional[Dict[str, Any]]
    timing: str  # the timing figure as the landing page prints it, "" when not measured

    @property
    def instructions_saved(self) -> Optional[float]:
        if self.default is None or self.raised is None:
            return None
        return 1 - self.raised["instructions"] / self.default["instructions"]


def _percent(value: float) -> str:
    return f"{value:.0%}" if abs(value) >= 0.1 else f"{value:.1%}"


def timing_saving(results: ResultSet, version: str, orm: str) -> str:
    """What ``threshold:50000`` saves of the CPU time, as the landing page and the report print
    it: SQLAlchemy's headline (README's: paired rounds), else 1 - median(raised) /
    median(default) of the pyperf values with a 95% bootstrap interval, labelled as such."""
    if orm == HEADLINE_ORM:
        found = headline(results.root, version)
        if found is not None:
            return found.text()
    values = {t.policy: t.values for t in results.timings if (t.python, t.orm, t.shape) ==
              (version, orm, SHAPE)}  # fmt: skip
    if "default" not in values or RAISED not in values:
        return ""
    point, low, high = share_interval(values["default"], values[RAISED])
    return f"{_percent(point)} ({_percent(low)} to {_percent(high)}), pyperf medians"


def savings(results: ResultSet, orm: str, versions: Sequence[str], size: Size) -> List[Saving]:
    cells = exact_cells(results, orm)
    return [
        Saving(
            version,
            cells.get((version, "default", size)),
            cells.get((version, RAISED, size)),
            timing_saving(results, version, orm),
        )
        for version in versions
    ]


def draw_instructions(ax: Any, rows: Sequence[Saving], orm: str, size: Size) -> None:
    """Per Python, a bar per policy: the query's instructions (light) and the collector's part
    of them (dark, hatched); above the raised bar, the instructions it saves."""
    width = 0.8 / len(DRAWN)
    x = np.arange(len(rows))
    tops = []
    for index, policy in enumerate(DRAWN):
        records = [row.default if policy == "default" else row.raised for row in rows]
        total = [r["instructions"] / 1e6 if r else 0 for r in records]
        gc = [(r.get("gc_instructions") or 0) / 1e6 if r else 0 for r in records]
        where = x + (index - (len(DRAWN) - 1) / 2) * width
        colour = policy_colour(policy, index)
        ax.bar(where, total, width, color=colour, alpha=0.45, label=policy)
        ax.bar(where, gc, width, color=colour, hatch="///", edgecolor="white",
               label=f"_the collector, {policy}")  # fmt: skip
        tops += total
    for position, row in zip(x, rows):
        saved = row.instructions_saved
        if saved is not None:
            top = max(row.default["instructions"], row.raised["instructions"]) / 1e6
            ax.annotate(f"-{saved:.0%}" if saved >= 0 else f"+{-saved:.0%}", (position, top),
                        ha="center", va="bottom", fontsize=7.5, xytext=(0, 1),
                        textcoords="offset points")  # fmt: skip
    ax.set_ylim(0, max(tops + [1]) * 1.15)
    ax.set_xticks(x, [row.python for row in rows])
    ax.set_xlabel("Python version")
    ax.set_ylabel("instructions per query (millions)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        f"{orm}: instructions (exact, callgrind)\n{size_text(size)}; hatched: the collector",
        fontsize=10,
    )


def finding(orm: str, rows: Sequence[Saving], size: Size) -> str:
    saved = [(row.python, row.instructions_saved) for row in rows]
    saved = [(python, value) for python, value in saved if value is not None]
    if not saved:
        return ""
    low, high = min(value for _, value in saved), max(value for _, value in saved)
    span = f"{low:.0%}" if f"{low:.0%}" == f"{high:.0%}" else f"{low:.0%}-{high:.0%}"
    return (
        f"{orm}: {RAISED} saves {span} of the query's instructions (exact, {size_text(size)}; "
        f"Python {saved[0][0]}-{saved[-1][0]})"
    )


def table(blocks: Sequence[Tuple[str, Size, Sequence[Saving]]], timed: str) -> str:
    """The HTML table under the chart: per ORM and Python, the exact figure beside the timed
    ("" without exact records)."""
    if not blocks:
        return ""
    head = (
        '<table class="exact"><tr><th class="left">ORM</th><th>Python</th>'
        f"<th>instructions per query, default &rarr; {RAISED} "
        "(exact, callgrind; the collector's part)</th>"
        f"<th>{RAISED} saves of the query's instructions (exact)</th>"
        f"<th>{RAISED} saves of its CPU time (timing, 95% interval; "
        f"{html.escape(timed)})</th></tr>"
    )
    body = []
    for orm, size, rows in blocks:
        for row in rows:
            exact, saved = "not counted at this size", ""
            if row.default is not None and row.raised is not None:
                exact = f"{_count(row.default)} &rarr; {_count(row.raised)}"
                saved = f"{row.instructions_saved:.1%} ({html.escape(size_text(size))})"
            body.append(
                f'<tr><td class="left">{html.escape(orm)}</td><td>{row.python}</td>'
                f"<td>{exact}</td><td>{saved}</td><td>{html.escape(row.timing)}</td></tr>"
            )
    return head + "".join(body) + "</table>"


def _count(record: Dict[str, Any]) -> str:
    gc = record.get("gc_instructions") or 0
    return f"{record['instructions'] / 1e6:,.0f}M ({gc / 1e6:,.0f}M)"
