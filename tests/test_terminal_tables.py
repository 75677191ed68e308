"""The first screen (issue 29): the tables of ``ormgc run`` and ``ormgc advise`` fit 80 and 120
columns with the committed records, keep the published rows, end in a one-line answer, and colour
only a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ormgc.views.advice.table import format_advice
from ormgc.views.tables.table import format_table
from ormgc.views.tables.workload_table import format_requests
from ormgc.views.terminal import fit, use_colour, wrap_parts, wrap_phrases

ROOT = Path(__file__).resolve().parent.parent
RUN_RESULTS = sorted(
    [
        *(ROOT / "results" / "seed").glob("*.json"),
        *(ROOT / "results" / "paired").glob("*.json"),
        ROOT / "results" / "advise" / "seed-sqlalchemy-rerun.json",
    ]
)
WIDTHS = (80, 120)


def _records(path: Path) -> List[Dict[str, Any]]:
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else data["records"]


def _fits(text: str, width: int) -> None:
    long = [line for line in text.splitlines() if len(line) > width]
    assert not long, f"{len(long)} lines wider than {width}: {long[0]!r}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", RUN_RESULTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_run_tables_fit(path: Path, width: int) -> None:
    records = _records(path)
    text = format_table(records, width)
    _fits(text, width)
    header = [line for line in text.splitlines() if line.startswith(("orm ", "shape "))]
    assert header and all("policy" in line and "collections" in line for line in header)
    assert all("cpu vs" in line for line in header)  # the answer's columns always fit


def test_the_seed_run_at_80_and_120() -> None:
    records = _records(ROOT / "results" / "seed" / "vm.json")
    narrow, wide = format_table(records, 80), format_table(records, 120)
    for text in (narrow, wide):
        assert text.count("seed (published)") == 4  # both ORMs' published rows stay
        assert "0.62x the CPU time [0.59, 0.66]" in text
        assert "23 instead of 1,708 collections," in text
        assert "0.90x the CPU time [0.78, 1.02], no significant difference" in text
        assert "/root/.cache" not in text  # the dataset's path: --wide and --json
    assert "peak MB" in wide and "max ms" in wide and "wall ms" in wide
    assert "--wide: every column; left out at 80 columns: peak MB, max ms" in narrow
    full = format_table(records)  # --wide: every column, the answer too
    assert "per gen" in full and "server ms" in full and "/root/.cache" in full
    assert "threshold:50000: 23 instead of 1,708 collections, 0.62x the CPU time" in full


def test_no_interval_with_one_round() -> None:
    records = _records(ROOT / "results" / "seed" / "vm.json")[:2]
    for record in records:
        record["cpu_vs_baseline"] = dict(record["cpu_vs_baseline"], ci95=None)
    assert "(one round: no interval)" in format_table(records, 80)


@pytest.mark.parametrize("width", WIDTHS)
def test_request_table_fits(width: int) -> None:
    records = _records(ROOT / "results" / "requests" / "vm-sqlalchemy.json")
    text = format_requests(records, width)
    _fits(text, width)
    assert "collections" in text and "gc p99 ms/req" in text


def test_fit_keeps_the_important_columns_and_cuts_the_shrinkable() -> None:
    header = ["a", "bbbbbbbbbb", "c", "verdict"]
    rows = [["1", "2", "3", "a long verdict that does not fit"]]
    kept, cut, left_out = fit(header, rows, 30, [0, 2, 3, 1], shrink=3)
    assert kept == ["a", "c", "verdict"] and left_out == ["bbbbbbbbbb"]
    assert cut[0][2].endswith("...") and len("  ".join(cut[0])) <= 30


def test_headings_break_between_phrases() -> None:
    heading = "Python 3.11.7 (default), sqlite (in-process) 3.40.1; 100000 rows, median of 5"
    assert wrap_phrases(heading, 40).splitlines() == [
        "Python 3.11.7 (default),",
        "sqlite (in-process) 3.40.1; 100000 rows,",  # 40 characters
        "median of 5",
    ]
    assert wrap_phrases("a, " + "x" * 50, 40).splitlines() == ["a,", "x" * 40, "x" * 10]


def test_answer_breaks_between_parts_only() -> None:
    parts = ["threshold:50000:", "23 instead of 1,708 collections,", "0.62x [0.59, 0.66]"]
    assert wrap_parts(parts, 40).splitlines()[-1] == "  0.62x [0.59, 0.66]"
    assert wrap_parts(parts, None) == " ".join(parts)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_not_with_no_color(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_colour(_Tty()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(_Tty())
    records = _records(ROOT / "results" / "seed" / "vm.json")
    coloured = format_table(records, 120, colour=True)
    assert "\033[1m" in coloured and "\033[" not in format_table(records, 120)


ADVICE = [  # advise --json files (results/advise also holds an ormgc run's records)
    path
    for path in sorted([*(ROOT / "results" / "advice").glob("*.json"),
                        *(ROOT / "results" / "advise").glob("*.json")])
    if '"recommended"' in path.read_text()
]  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ADVICE, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_advise_tables_fit(path: Path, width: int) -> None:
    advice = json.loads(path.read_text())
    text = format_advice(advice, width)
    _fits(text, width)
    chosen = advice["recommended"]["policy"]
    assert "RECOMMENDED" in text or f"* {chosen}" in text  # the chosen row marked either way
    assert "gc.collect(2)" in text or "nothing to change" in text  # the code, never wrapped
    under_table = text[text.rindex("\n---") :].split("\n")[2:]  # after the table's rule
    answer = [line for line in under_table if line.startswith(f"{chosen} (")]
    assert answer and answer[0].split("(")[1].startswith(("freeze on)", "no freeze)"))


def test_the_seed_advice_answer() -> None:
    advice = json.loads((ROOT / "results" / "advice" / "seed-1.json").read_text())
    answer = "threshold:50000 (freeze on): 23 instead of 1,708 collections, 0.59x the CPU time"
    assert answer + " [0.44, 0.78]" in format_advice(advice, 120)
    assert answer + " [0.44, 0.78]" in format_advice(advice)  # --wide too
    assert "wins 35%, significantly short" in format_advice(advice, 120)
    assert "wins 35%, s..." in format_advice(advice, 80)  # the verdict cut to fit


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_on_a_terminal_fits(width: int) -> None:
    pytest.importorskip("pyperf")
    from ormgc.views.compare.compare import load_results
    from ormgc.views.compare.terminal import summary

    loaded = load_results(ROOT / "results" / "pyperf", "vm", [])
    text = summary(loaded, Path("comparison.md"), width)
    _fits(text, width)
    assert "3.15" in text.splitlines()[1] and "comparison.md" in text  # newest kept, file named
    assert "sqlalchemy seed_loop default: 891 ms on Python 3.15," in text


def test_compare_prints_the_document_unless_a_terminal(tmp_path, monkeypatch, capsys) -> None:
    pytest.importorskip("pyperf")
    from ormgc import cli

    args = ["compare", "--results", str(ROOT / "results" / "pyperf"), "--python", "3.13"]
    args += ["--python", "3.14", "--output", str(tmp_path / "c.md")]
    assert cli.main(args) == 0
    assert capsys.readouterr().out == (tmp_path / "c.md").read_text()  # a pipe: the document
    monkeypatch.setattr(cli, "is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Time per query, ms") and "--wide prints it here" in out
    _fits(out, 80)
    assert cli.main([*args, "--wide"]) == 0
    assert capsys.readouterr().out == (tmp_path / "c.md").read_text()


EXACT = [path for path in sorted((ROOT / "results" / "exact").glob("3.*.json"))]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", EXACT, ids=lambda path: path.name)
def test_exact_tables_fit(path: Path, width: int) -> None:
    text = format_table(_records(path), width)
    _fits(text, width)
    assert "gc share" in text and "--wide: every column" in text


def test_getting_started_shows_what_is_printed() -> None:
    """docs/getting-started.md's two examples are the seed run's tables at 120 and 80 columns."""
    page = (ROOT / "docs" / "getting-started.md").read_text()
    blocks = [block for block in page.split("```") if "wrote 4 records" in block]
    records = _records(ROOT / "results" / "seed" / "vm.json")
    wrote = "\nwrote 4 records to results/seed/vm.json\n"
    assert blocks == [f"\n{format_table(records, width)}{wrote}" for width in WIDTHS[::-1]]
