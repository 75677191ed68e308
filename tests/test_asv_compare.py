"""ormgc asv-compare: asv's result files read back as one table, a column per Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import pytest

from ormgc.cli import main

from .conftest import ROOT

NAME = "bench_x.LoadTime.time_load"
COLUMNS = ["result", "params", "version", "started_at", "duration"]
PARAMS = [["'sqlite'"], ["'seed_loop'", "'orm_all'"]]


def write_result(machine_dir: Path, python: str, commit: str, date: int, values: List[Any]):
    machine_dir.mkdir(parents=True, exist_ok=True)
    (machine_dir / "machine.json").write_text(json.dumps({"machine": machine_dir.name}))
    data = {
        "commit_hash": commit,
        "env_name": f"virtualenv-py{python}",
        "date": date,
        "params": {"machine": machine_dir.name, "python": python},
        "python": python,
        "result_columns": COLUMNS,
        "results": {NAME: [values, PARAMS, "v1", date, 1.0]},
        "durations": {},
        "version": 2,
    }
    (machine_dir / f"{commit[:8]}-virtualenv-py{python}.json").write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    root = tmp_path / "asv"
    index = {
        NAME: {
            "code": 'def time_load(self):\n    """Wall time of one query."""\n',
            "param_names": ["backend", "shape"],
            "params": PARAMS,
            "unit": "seconds",
        },
        "version": 2,
    }
    root.mkdir()
    (root / "benchmarks.json").write_text(json.dumps(index))
    machine = root / "box"
    write_result(machine, "3.10", "a" * 40, 1000, [0.020, 0.010])
    write_result(machine, "3.9", "a" * 40, 1000, [0.030, None])
    write_result(machine, "3.13", "a" * 40, 1000, [0.100, 0.100])
    write_result(machine, "3.13", "b" * 40, 2000, [0.015, float("nan")])  # newer wins
    return root


def run(capsys, *args: str, results: Optional[Path] = None) -> tuple:
    argv = ["asv-compare", *args] + (["--results", str(results)] if results else [])
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_one_column_per_python_in_version_order_newest_result_each(results, capsys):
    code, out, _ = run(capsys, "time_load", results=results)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{NAME} [ms]: Wall time of one query."
    assert "py3.9 @ aaaaaaaa, py3.10 @ aaaaaaaa, py3.13 @ bbbbbbbb" in lines[1]
    assert lines[2].split() == [
        "backend",
        "shape",
        "py3.9",
        "py3.10",
        "py3.13",
        "py3.13",
        "vs",
        "py3.9",
    ]
    assert lines[4].split() == ["sqlite", "seed_loop", "30", "20", "15", "-50%"]
    assert lines[5].split() == ["sqlite", "orm_all", "n/a", "10", "n/a"]


def test_commit_and_param_filters(results, capsys):
    code, out, _ = run(
        capsys, NAME, "--commit", "aaaa", "--param", "shape=seed_loop", results=results
    )
    assert code == 0
    rows = out.splitlines()[4:]
    assert [row.split() for row in rows] == [["sqlite", "seed_loop", "30", "20", "100", "+233%"]]


@pytest.mark.parametrize(
    "args, message",
    [
        (["time_lod"], "unknown benchmark 'time_lod'"),
        (["time_load", "--param", "shape"], "use NAME=VALUE"),
        (["time_load", "--param", "size=1"], "has no parameter 'size'"),
        (["time_load", "--param", "shape=nope"], "no parameter combination"),
        (["time_load", "--commit", "ffff"], "no results for bench_x.LoadTime.time_load at commit"),
        (["time_load", "--machine", "other"], "no results for machine 'other'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(results, capsys, args, message):
    code, out, err = run(capsys, *args, results=results)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_missing_results_and_several_machines(results, tmp_path, capsys):
    code, _, err = run(capsys, "time_load", results=tmp_path / "none")
    assert code == 2 and "no asv results in" in err
    write_result(results / "other", "3.9", "c" * 40, 3000, [1.0, 1.0])
    code, _, err = run(capsys, "time_load", results=results)
    assert code == 2 and "choose a machine with --machine (results have: box, other)" in err
    code, out, _ = run(capsys, "time_load", "--machine", "other", results=results)
    assert code == 0 and "py3.9 @ cccccccc" in out


def test_the_committed_history_has_every_python_and_two_sqlalchemy_series():
    """results/asv: the suite on every supported Python, SQLAlchemy's 1.4 and 2.0 series both
    measured, exact instruction counts on 3.9-3.13."""
    from ormgc.runs.pythons import SUPPORTED

    machine = ROOT / "results" / "asv" / "vm"
    envs = {}
    for path in machine.glob("*-virtualenv-py*-SQLAlchemy*.json"):
        data = json.loads(path.read_text())
        envs[data["python"], data["requirements"]["SQLAlchemy"][:3]] = data
    assert {python for python, _ in envs} == set(SUPPORTED)
    assert {series for _, series in envs} == {"1.4", "2.0"}
    name = "bench_sqlalchemy.ExactCost.track_instructions"
    for python in ("3.9", "3.10", "3.11", "3.12", "3.13"):
        data = envs.get((python, "2.0")) or envs[python, "1.4"]
        column = data["result_columns"].index("result")
        counts = [v for v in data["results"][name][column] if v == v and v is not None]
        assert counts and all(count > 1_000_000 for count in counts), python
        # SQLite's five policies (params: backend x shape x policy x rows, sqlite first), two
        # tracks measured apart: what the collector's share leaves of default's instructions is
        # what disabled ran (measured: within 0.1%); at 2,000 rows threshold 50,000 never
        # collects; threshold 700 is the default before 3.13
        policies = ("default", "threshold_700", "threshold_50000", "adaptive", "disabled")
        count = dict(zip(policies, data["results"][name][column]))
        share = dict(
            zip(policies, data["results"][name.replace("instructions", "gc_share")][column])
        )
        assert count["default"] * (1 - share["default"]) == pytest.approx(
            count["disabled"], rel=0.01
        )
        assert share["threshold_50000"] == share["disabled"] == 0
        assert count["threshold_50000"] == pytest.approx(count["disabled"], rel=0.01)
        assert 0.04 < share["default"] < 0.25 and 0 < share["adaptive"] < share["default"]
        if python != "3.13":
            assert share["threshold_700"] == pytest.approx(share["default"], rel=0.01)
