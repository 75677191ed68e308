"""The report's exact view beside the CPU time: the instructions panel, every share bar of every
ORM and Python at the size its panel states, the table under the chart (exact instructions
saved beside the timing's figure), each read back from the figure or page and checked against
the raw files read here."""

from __future__ import annotations

import html
import json
import re
import statistics
from pathlib import Path
from typing import Any, Dict, Tuple

import pyperf
import pytest

from ormgc.runs.pythons import SUPPORTED
from ormgc.views.site.answer import headline

from .conftest import error_lines, ormgc
from .test_report import FIGURES, RESULTS, committed_report, results_with  # noqa: F401

ORMS = ["sqlalchemy", "mongoengine", "django"]
RAISED = "threshold:50000"
_SIZE = re.compile(r"([\d,]+) rows, ([\d,]+) loaded")


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Path:
    """The report of the committed results (test_report's, its figures kept in FIGURES)."""
    return request.getfixturevalue("committed_report")


def _raw_exact() -> Dict[Tuple, Dict[str, Any]]:
    """(orm, X.Y, policy, rows, loaded) -> the newest exact record of the seed loop."""
    found: Dict[Tuple, Dict[str, Any]] = {}
    for path in (RESULTS / "exact").glob("*.json"):
        data = json.loads(path.read_text())
        for r in data if isinstance(data, list) else []:
            if isinstance(r, dict) and r.get("shape") == "seed_loop" and "gc_share" in r:
                python = ".".join(r["python"].split(".")[:2])
                key = (r["orm"], python, r["policy"], r["rows"], r["loaded"])
                if key not in found or r["timestamp"] > found[key]["timestamp"]:
                    found[key] = r
    return found


def _size(title: str) -> Tuple[int, int]:
    match = _SIZE.search(title)
    assert match, f"no size in {title!r}"
    return int(match[1].replace(",", "")), int(match[2].replace(",", ""))


def _panels(kind: str) -> Dict[str, Any]:
    axes = FIGURES["time-and-gc-share"].axes
    return {ax.get_title().split(":")[0]: ax for ax in axes if kind in ax.get_title()}


def _containers(ax: Any) -> Dict[str, Any]:
    return {c.get_label(): c for c in ax.containers if hasattr(c, "patches")}


def test_the_instructions_panel_draws_the_exact_files(report: Path) -> None:
    raw = _raw_exact()
    panels = _panels("instructions (exact, callgrind)")
    assert list(panels) == ORMS
    sizes = {orm: _size(ax.get_title()) for orm, ax in panels.items()}
    # SQLAlchemy at the seed's size; the others where every Python was counted (10,000 rows)
    assert sizes == {
        "sqlalchemy": (100_000, 20_000),
        "mongoengine": (10_000, 2_000),
        "django": (10_000, 2_000),
    }
    for orm, ax in panels.items():
        versions = [label.get_text() for label in ax.get_xticklabels()]
        assert versions == list(SUPPORTED), orm
        bars = _containers(ax)
        for policy in ("default", RAISED):
            records = [raw[(orm, v, policy, *sizes[orm])] for v in versions]
            heights = [bar.get_height() for bar in bars[policy]]
            assert heights == pytest.approx([r["instructions"] / 1e6 for r in records], rel=1e-12)
            gc = [bar.get_height() for bar in bars[f"_the collector, {policy}"]]
            assert gc == pytest.approx([r["gc_instructions"] / 1e6 for r in records], rel=1e-12)
        saved = [
            1
            - raw[(orm, v, RAISED, *sizes[orm])]["instructions"]
            / raw[(orm, v, "default", *sizes[orm])]["instructions"]
            for v in versions
        ]
        assert [text.get_text() for text in ax.texts] == [f"-{s:.0%}" for s in saved], orm


def test_every_share_bar_is_drawn_at_the_size_its_title_states(report: Path) -> None:
    """3.9-3.15 for all three ORMs, both policies; a share measured as zero (the collector
    never ran: threshold:50000 at 10,000 rows) is labelled 0, not left blank."""
    raw = _raw_exact()
    panels = _panels("share of the instructions")
    assert list(panels) == ORMS
    zeros = 0
    for orm, ax in panels.items():
        size = _size(ax.get_title())
        versions = [label.get_text() for label in ax.get_xticklabels()]
        assert versions == list(SUPPORTED), orm
        marked = {round(text.xy[0], 6) for text in ax.texts if text.get_text() == "0"}
        bars = _containers(ax)
        assert sorted(bars) == sorted(["default", RAISED])
        for policy, container in bars.items():
            expected = [100 * raw[(orm, v, policy, *size)]["gc_share"] for v in versions]
            assert [bar.get_height() for bar in container] == pytest.approx(expected), orm
            for bar in container:
                middle = round(bar.get_x() + bar.get_width() / 2, 6)
                assert (bar.get_height() == 0) == (middle in marked), (orm, policy)
                zeros += bar.get_height() == 0
    assert zeros >= 7  # MongoEngine's threshold:50000 at 10,000 rows never collects


def _pyperf_saving(python: str, orm: str) -> float:
    suite = pyperf.BenchmarkSuite.load(str(RESULTS / "pyperf" / "vm" / f"{python}.json"))
    medians = {
        bench.get_name(): statistics.median(bench.get_values()) for bench in suite.get_benchmarks()
    }
    return 1 - medians[f"{orm}/seed_loop/{RAISED}"] / medians[f"{orm}/seed_loop/default"]


def test_the_table_puts_the_exact_saving_beside_the_timing(report: Path) -> None:
    page = (report / "index.html").read_text()
    table = page[page.index('<table class="exact">') :]
    table = table[: table.index("</table>")]
    assert "(exact, callgrind" in table and "(timing, 95% interval" in table
    cells = re.findall(r'<tr><td class="left">(\w+)</td>' + r"<td>(.*?)</td>" * 4, table)
    assert len(cells) == len(ORMS) * len(SUPPORTED)
    raw = _raw_exact()
    sizes = {orm: _size(ax.get_title()) for orm, ax in _panels("instructions (exact").items()}
    for orm, python, counts, saved, timing in cells:
        default = raw[(orm, python, "default", *sizes[orm])]
        raised = raw[(orm, python, RAISED, *sizes[orm])]
        shown = [
            f"{r['instructions'] / 1e6:,.0f}M ({r['gc_instructions'] / 1e6:,.0f}M)"
            for r in (default, raised)
        ]
        assert counts == " &rarr; ".join(shown)
        rows, loaded = sizes[orm]
        fraction = 1 - raised["instructions"] / default["instructions"]
        assert saved == f"{fraction:.1%} ({rows:,} rows, {loaded:,} loaded)"
        if orm == "sqlalchemy":  # README's headline: paired rounds (test_headline recomputes it)
            assert html.unescape(timing) == headline(RESULTS, python).text()
        else:  # pyperf medians, labelled
            point = _pyperf_saving(python, orm)
            shown = f"{point:.0%}" if abs(point) >= 0.1 else f"{point:.1%}"
            assert timing.startswith(f"{shown} (") and timing.endswith("), pyperf medians")


def test_without_exact_records_the_panel_says_so_and_no_table(tmp_path: Path) -> None:
    results = results_with(tmp_path, "pyperf")
    done = ormgc("report", "--results", str(results), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    page = (results / "report" / "index.html").read_text()
    assert '<section id="time-and-gc-share">' in page and 'class="exact"' not in page
    assert "42 from timing" in page  # every share bar from the pyperf values instead


def test_an_exact_record_without_instructions_is_one_line(tmp_path) -> None:
    results = results_with(tmp_path, "pyperf")
    (results / "exact").mkdir()
    record = {"python": "3.11.7", "orm": "sqlalchemy", "shape": "seed_loop"}
    record.update(policy="default", rows=100_000, loaded=20_000, gc_share=0.3)
    (results / "exact" / "3.11.json").write_text(json.dumps([record]))
    done = ormgc("report", "--results", str(results), cache_dir=tmp_path)
    assert done.returncode == 1
    (line,) = error_lines(done)
    assert line.startswith("ormgc: error: ") and "3.11.json" in line
    assert "a record has no instructions" in line


def test_the_findings_page_quotes_the_savings_table_of_the_results(tmp_path: Path) -> None:
    """docs/findings/exact-costs.md and results/exact/savings.md hold what
    scripts/exact_savings_table.py makes of the committed results now; bad input: one line."""
    import subprocess
    import sys

    from .conftest import ROOT

    done = subprocess.run(
        [sys.executable, "scripts/exact_savings_table.py", "--results", str(tmp_path / "none")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "no results folder" in done.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from exact_savings_table import document
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    table = document(RESULTS)
    assert (RESULTS / "exact" / "savings.md").read_text() == table
    page = (ROOT / "docs" / "findings" / "exact-costs.md").read_text()
    assert table in page
    assert table.count("\n") == 2 + len(ORMS) * len(SUPPORTED)
