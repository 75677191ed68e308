"""README's answer: the seed query on every Python, from committed results only.

One row per Python 3.9-3.15 (SQLAlchemy, ``seed_loop``, SQLite, the seed's 100,000 rows with
20,000 loaded): collections by default and at ``threshold:50000`` (the pyperf matrix's probe
records), the GC's share of the default query (exact instructions under callgrind where a
``results/exact`` record exists, else the pyperf CPU timings' 1 - disabled/default with a
bootstrap interval: the row says which) and what ``threshold:50000`` wins (the paired CPU ratio
of ``results/paired/seed-sqlalchemy-3.X.json`` with its 95% interval and the load average).
``scripts/readme_answer.py`` writes it between the ``answer`` marks of README and the docs'
front page; tests/test_docs.py checks both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS
from ormgc.errors import OrmGcError
from ormgc.runs.pythons import SUPPORTED
from ormgc.views import page_block
from ormgc.views.charts.common import share_interval
from ormgc.views.charts.report_data import ResultSet, load, minor, read_records

ORM, SHAPE, RAISED = "sqlalchemy", "seed_loop", "threshold:50000"
BEGIN, END = "<!-- answer:begin -->", "<!-- answer:end -->"
PAIRED_FILE = "paired/seed-sqlalchemy-{python}.json"
ANSWER_PAGES = ("README.md", "docs/index.md")  # each holds one block between the marks


def _seed_size(record: Dict[str, Any]) -> bool:
    return (record.get("rows"), record.get("loaded")) == (DEFAULT_ROWS, DEFAULT_LOAD)


def _pick(records: Sequence[Dict[str, Any]], python: str, policy: str) -> Optional[Dict]:
    for record in records:
        same = (minor(record["python"]), record.get("orm"), record.get("shape"))
        if same == (python, ORM, SHAPE) and record["policy"] == policy and _seed_size(record):
            return record
    return None


def _share(results: ResultSet, python: str) -> str:
    exact = _pick(results.exact.records, python, "default")
    if exact is not None:
        return f"{exact['gc_share']:.1%} of instructions (exact)"
    values = {
        t.policy: t.values
        for t in results.timings
        if (t.python, t.orm, t.shape) == (python, ORM, SHAPE)
    }
    if "default" not in values or "disabled" not in values:
        return "--"
    point, low, high = share_interval(values["default"], values["disabled"])
    return f"{point:.0%} [{low:.0%}, {high:.0%}] of CPU time (timing)"


def _instructions(results: ResultSet, python: str) -> str:
    """What threshold:50000 saves of the query's instructions, exact (callgrind), at the seed's
    size: the timing's figure beside it is the paired CPU ratio."""
    default = _pick(results.exact.records, python, "default")
    raised = _pick(results.exact.records, python, RAISED)
    if default is None or raised is None:
        return "-- (not counted)"
    before, after = default["instructions"], raised["instructions"]
    return f"{1 - after / before:.1%} fewer: {before / 1e6:,.0f}M → {after / 1e6:,.0f}M"


class Headline(NamedTuple):
    """What ``threshold:50000`` saves on the seed query, from one paired file: the front doors'
    one figure (README's answer and the landing page print this, nothing else)."""

    ratio: float  # CPU time at threshold:50000 / default, geometric mean of the rounds
    low: float
    high: float
    rounds: int
    load: float  # the highest 1-minute load average of the rounds
    target: Optional[float]  # --precision PCT, None when the file was not run with it
    met: Optional[bool]
    half_width: float  # percent of the ratio

    def text(self) -> str:
        significant = "" if self.high < 1 or self.low > 1 else " n.s."
        ratio = self.ratio
        change = f"{1 - ratio:.0%} less CPU" if ratio <= 1 else f"{ratio - 1:.0%} more CPU"
        precision = f"+-{self.half_width:.1f}%"
        if self.target is not None:
            verdict = "met" if self.met else "NOT reached"
            precision += f" (target +-{self.target:g}% {verdict})"
        return (
            f"{change}: {ratio:.2f}x [{self.low:.2f}, {self.high:.2f}]{significant}, "
            f"{precision}, {self.rounds} rounds, load <= {self.load:.1f}"
        )


def headline(root: Path, python: str) -> Optional[Headline]:
    """The paired ``threshold:50000`` / default CPU ratio of ``paired/seed-sqlalchemy-X.Y.json``;
    None when that Python's file is not committed."""
    path = root / PAIRED_FILE.format(python=python)
    if not path.exists():
        return None
    records = read_records(path)
    raised = _pick(records, python, RAISED)
    versus = (raised or {}).get("cpu_vs_baseline") or {}
    if versus.get("baseline") != "default" or not versus.get("ci95"):
        raise OrmGcError(f"{path}: no paired {RAISED} record against default")
    ratio, (low, high) = versus["ratio"], versus["ci95"]
    return Headline(
        ratio,
        low,
        high,
        raised["repeat"],
        max(average[0] for average in (r["load_average"] for r in records)),
        raised.get("precision_target"),
        raised.get("precision_met"),
        max(ratio - low, high - ratio) / ratio * 100,
    )


def _win(root: Path, python: str) -> str:
    found = headline(root, python)
    return "-- (not measured)" if found is None else found.text()


def rows(root: Path) -> List[List[str]]:
    """The table's rows, one per supported Python that the pyperf matrix measured."""
    results = load(root)
    table = []
    for python in SUPPORTED:
        default = _pick(results.probes.records, python, "default")
        raised = _pick(results.probes.records, python, RAISED)
        if default is None or raised is None:
            continue
        label = default["python"]
        if default.get("orm_speedups") == "pure-python":
            label += " (pure-Python SQLAlchemy)"
        counts = f"{default['collections_total']:,} / {raised['collections_total']:,}"
        share, instructions = _share(results, python), _instructions(results, python)
        table.append([label, counts, share, instructions, _win(root, python)])
    if not table:
        raise OrmGcError(f"{root}: no pyperf probe records of {ORM} {SHAPE} at the seed's size")
    return table


def block(root: Path) -> str:
    """The Markdown between README's marks (without the marks)."""
    header = [
        "Python",
        "collections per query: default / threshold:50000",
        "GC's share of the default query",
        "what threshold:50000 saves of the query's instructions (exact)",
        "what threshold:50000 wins (CPU time vs default, 95% interval)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(root)]
    sources = (
        "SQLAlchemy 2.0.58 on SQLite, the seed's loop: 20,000 of 100,000 rows, after "
        "`gc.collect(2)` + `gc.freeze()`. Collections: `results/pyperf/vm/3.X.probe.json` "
        "(deterministic). Share: *exact* = the collector's share of the query's instructions "
        "under callgrind (`results/exact/`), *timing* = 1 - median(disabled) / median(default) "
        "of the pyperf CPU times (`results/pyperf/vm/3.X.json`, bootstrap interval); instructions "
        "are not time: the collector's share of CPU time is higher. Instructions saved: the "
        "query's instructions under callgrind at default and at threshold:50000 (`results/exact/`"
        ", exact: the same count every run). Wins: `ormgc run "
        "--policy default --policy threshold:50000` in paired rounds "
        "(`results/paired/seed-sqlalchemy-3.X.json`), with the 95% interval's half-width; "
        "`scripts/headline_results.sh` reruns them with `--precision 5` (rounds until the "
        "half-width is within 5%: the cell then says whether that target was met). The same "
        "figure is the landing page's. Load: the highest 1-minute load average on 2 cores. "
        "Written by `python scripts/readme_answer.py --write`."
    )
    return "\n".join(lines) + "\n\n" + sources + "\n"


def replace_block(text: str, inner: str) -> str:
    """``text`` with what lies between the answer's marks replaced by ``inner``."""
    return page_block.replace_block(text, inner, BEGIN, END)
