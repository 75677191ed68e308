"""``ormgc compare`` on result files made here with pyperf's own API, good and bad."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import pyperf
import pytest

from ormgc import cli

PINS = "SQLAlchemy==2.0.58 greenlet==3.2.5"
DEFAULT, RAISED = "sqlalchemy/seed_loop/default", "sqlalchemy/seed_loop/threshold:50000"
DISABLED = "sqlalchemy/seed_loop/disabled"


def _bench(name: str, python: str, centre_ms: float, gc: int, **overrides: object):
    """Three runs of three values around ``centre_ms``, with the metadata ormgc pyperf writes."""
    metadata: Dict[str, object] = {
        "name": name,
        "unit": "second",
        "loops": 1,
        "python_version": f"{python}.0 (64-bit)",
        "ormgc_orm": "sqlalchemy",
        "ormgc_pins": PINS,
        "ormgc_rows": 100_000,
        "ormgc_load": 20_000,
        "ormgc_seed": 1,
        "ormgc_freeze": "True",
        "ormgc_mode": "full",
        "ormgc_timer": "wall",
        "orm_version": "2.0.58",
        "driver": "sqlite3",
        "driver_version": "3.40.1",
        "gc_threshold_default": "700/10/10",
        "gc_collections": gc,
        "gc_collections_min": gc,
        "gc_collections_max": gc,
        "peak_rss_mb": 78.7,
    }
    metadata.update(overrides)
    offsets = [(-0.01, 0.0, 0.01), (0.005, -0.005, 0.0), (0.002, -0.002, 0.001)]
    runs = [
        pyperf.Run(
            [centre_ms * (1 + offset) / 1e3 for offset in triple],
            warmups=[(1, centre_ms / 1e3)],
            metadata=metadata,
            collect_metadata=False,
        )
        for triple in offsets
    ]
    return pyperf.Benchmark(runs)


def write_result(folder: Path, python: str, times: Dict[str, float], **overrides: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    gc = {DEFAULT: 1859, RAISED: 29, DISABLED: 0}
    benches = [_bench(name, python, ms, gc[name], **overrides) for name, ms in times.items()]
    path = folder / f"{python}.json"
    pyperf.BenchmarkSuite(benches).dump(str(path), replace=True)
    return path


def compare(capsys, *args: str):
    code = cli.main(["compare", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def results(tmp_path: Path) -> Path:
    machine = tmp_path / "results" / "box"
    write_result(machine, "3.12", {DEFAULT: 100.0, RAISED: 80.0})
    write_result(machine, "3.13", {DEFAULT: 50.0, RAISED: 80.0})
    write_result(machine, "3.9", {DEFAULT: 120.0, RAISED: 90.0})
    return tmp_path / "results"


def _row(document: str, heading: str, policy: str) -> List[str]:
    section = document.split(heading, 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if f"| {policy} |" in line)
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_compare_tables_versions_in_numeric_order(results: Path, capsys) -> None:
    code, out, err = compare(capsys, "--results", str(results))
    assert code == 0, err
    assert "| ORM | shape | policy | Python 3.9 | Python 3.12 | Python 3.13 |" in out
    timing = _row(out, "## Time per query", "default")
    assert timing[3] == "120 ± 0.240 ms"  # median ± MAD (0.2% of 120)
    assert timing[4].endswith("1.20x faster")  # 120 -> 100 ms, far outside the spread
    assert timing[5].endswith("2.00x faster")  # 100 -> 50 ms
    assert _row(out, "## Time per query", "threshold:50000")[5].endswith("n.s.")  # same values
    assert _row(out, "## GC collections", "default")[3:] == ["1859"] * 3
    assert _row(out, "## GC collections", "threshold:50000")[3:] == ["29"] * 3
    assert _row(out, "## Peak RSS", "default")[3:] == ["78.7"] * 3
    assert "## pyperf compare_to 3.9 3.12" in out and "## pyperf compare_to 3.12 3.13" in out
    assert "2.00x faster" in out.split("## pyperf compare_to 3.12 3.13")[1]  # pyperf's table
    assert (results / "box" / "comparison.md").read_text() == out


def test_compare_marks_where_the_orms_own_version_changes(tmp_path: Path, capsys) -> None:
    """Django is pinned per Python: a column whose ORM version differs from its left says so."""
    machine = tmp_path / "results" / "box"
    for python, orm_version in (("3.9", "4.2.30"), ("3.10", "5.2.19"), ("3.11", "5.2.19")):
        write_result(machine, python, {DEFAULT: 100.0, RAISED: 80.0}, orm_version=orm_version)
    code, out, err = compare(capsys, "--results", str(tmp_path / "results"))
    assert code == 0, err
    for heading in ("## Time per query", "## GC collections", "## Peak RSS"):
        cells = _row(out, heading, "default")[3:]
        assert ["†" in cell for cell in cells] == [False, True, False], cells
    assert (
        "† sqlalchemy's own version differs from the column to the left (4.2.30 on Python 3.9, "
        "5.2.19 from Python 3.10;" in out
    )


def test_compare_gc_cost_per_loaded_object(tmp_path: Path, capsys) -> None:
    """(policy's median - disabled's median) / objects loaded, in microseconds."""
    machine = tmp_path / "results" / "box"
    write_result(machine, "3.12", {DEFAULT: 100.0, RAISED: 80.0, DISABLED: 60.0})
    write_result(machine, "3.13", {DEFAULT: 50.0, RAISED: 80.0})  # no floor measured
    code, out, err = compare(capsys, "--results", str(tmp_path / "results"))
    assert code == 0, err
    heading = "## GC cost per loaded object"
    assert _row(out, heading, "default")[3:] == ["+2.00", "--"]  # 40 ms / 20,000 objects
    assert _row(out, heading, "threshold:50000")[3:] == ["+1.00", "--"]
    assert "| disabled |" not in out.split(heading)[1]


def test_compare_chosen_versions_and_output(results: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "table.md"
    code, out, err = compare(
        capsys, "--results", str(results), "--python", "3.13", "--python", "3.12",
        "--output", str(output),
    )  # fmt: skip
    assert code == 0, err
    assert "| Python 3.12 | Python 3.13 |" in out and "Python 3.9 |" not in out
    assert output.read_text() == out


def _break(results: Path, how: str) -> List[str]:
    """Damage the fixture results one way; return the extra compare arguments that go with it."""
    machine = results / "box"
    if how == "invalid-json":
        (machine / "3.12.json").write_text('{"version": "1.0", "benchmarks": [')
    elif how == "not-pyperf":
        (machine / "3.12.json").write_text(json.dumps({"hello": "world"}))
    elif how == "pyperf-not-ormgc":
        plain = pyperf.Run([0.1, 0.1], metadata={"name": "x/y/z"}, collect_metadata=False)
        pyperf.BenchmarkSuite([pyperf.Benchmark([plain])]).dump(
            str(machine / "3.12.json"), replace=True
        )
    elif how == "pins-differ":
        write_result(machine, "3.12", {DEFAULT: 1.0}, ormgc_pins="SQLAlchemy==2.0.1")
    elif how == "rows-differ":
        write_result(machine, "3.12", {DEFAULT: 1.0}, ormgc_rows=10_000)
    elif how == "timer-differs":
        write_result(machine, "3.12", {DEFAULT: 1.0}, ormgc_timer="cpu")
    elif how == "unknown-version":
        return ["--python", "3.8"]
    elif how == "missing-version":
        return ["--python", "3.11"]
    elif how == "two-machines":
        write_result(results / "other", "3.12", {DEFAULT: 1.0})
    elif how == "no-results":
        return ["--results", str(results / "nowhere")]
    return []


@pytest.mark.parametrize(
    "how, message",
    [
        ("invalid-json", "3.12.json is not valid JSON"),
        ("not-pyperf", "3.12.json is not a pyperf result file"),
        ("pyperf-not-ormgc", "3.12.json was not written by this ormgc pyperf"),
        ("pins-differ", "differ in ormgc_pins"),
        ("rows-differ", "differ in ormgc_rows"),
        ("timer-differs", "differ in ormgc_timer"),
        ("unknown-version", "unknown Python version '3.8'"),
        ("missing-version", "no results for Python 3.11"),
        ("two-machines", "pick one machine"),
        ("no-results", "no results folder"),
    ],
)
def test_compare_bad_input_one_line(results: Path, capsys, how: str, message: str) -> None:
    extra = _break(results, how)
    code, out, err = compare(capsys, "--results", str(results), *extra)
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("ormgc: error: ") and message in err, err
    assert out == ""
    assert not (results / "box" / "comparison.md").exists()
