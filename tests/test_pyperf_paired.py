"""``ormgc pyperf --rounds N`` (the matrix's default): paired rounds written as pyperf files,
their GC numbers from the same fresh processes, and ``ormgc compare``'s paired table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pyperf
import pytest

from ormgc.errors import UsageError
from ormgc.results import python_label
from ormgc.runs.pyperf_paired import check_no_worker_options, gc_metadata, paired_benchmark
from ormgc.views.compare.paired_compare import _paired_cell

from .conftest import error_lines
from .test_matrix import SMALL, _env


def record(policy: str, cpu_ms: list, ci95=(0.5, 0.7)) -> Dict[str, Any]:
    """A made-up aggregated record of ``len(cpu_ms)`` rounds."""
    runs = [
        {"collections": [3, 1, 0], "collected": 0, "cpu_ms": ms, "wall_ms": 2 * ms} for ms in cpu_ms
    ]
    return {
        "policy": policy,
        "runs": runs,
        "collections": [3, 1, 0],
        "collections_total": 4,
        "collected": 0,
        "pause_ms": {"total": 1.25, "max": 0.5},
        "peak_rss_mb": 50.04,
        "cpu_vs_baseline": {"baseline": "default", "ratio": 0.6, "ci95": list(ci95)},
    }


def test_a_round_is_one_pyperf_run_of_one_value_in_seconds() -> None:
    meta = {"ormgc_policy": "threshold:50000", "ormgc_timer": "cpu"}
    bench = paired_benchmark(
        "s/seed_loop/threshold:50000", record("x", [600, 500, 700]), "cpu", meta
    )
    assert bench.get_values() == (0.6, 0.5, 0.7) and bench.get_nrun() == 3
    got = bench.get_metadata()
    assert got["ormgc_rounds"] == 3 and got["ormgc_paired_ratio"] == 0.6
    assert (got["ormgc_paired_ci95_low"], got["ormgc_paired_ci95_high"]) == (0.5, 0.7)
    assert _paired_cell(None, bench) == "0.60 [0.50, 0.70] (±16.7%, 3 rounds)"
    wall = paired_benchmark("w", record("x", [600, 500]), "wall", {})
    assert wall.get_values() == (1.2, 1.0) and "ormgc_paired_ratio" not in wall.get_metadata()


def test_gc_metadata_of_the_rounds_uses_the_pyperf_loops_keys() -> None:
    got = gc_metadata(record("default", [1, 2]))
    assert got["gc_collections"] == 4 and got["gc_collections_per_generation"] == "3/1/0"
    assert (got["gc_collections_min"], got["gc_collections_max"]) == (4, 4)
    assert got["gc_loops_measured"] == 2 and got["peak_rss_mb"] == 50.0


@pytest.mark.parametrize("option", ["-p", "--values=3", "--rigorous", "-w"])
def test_pyperf_worker_options_need_rounds_zero(option: str) -> None:
    with pytest.raises(UsageError, match="add --rounds 0"):
        check_no_worker_options(["--quick", option, "4"], rounds=3)
    check_no_worker_options(["--quick", option, "4"], rounds=0)


@pytest.mark.parametrize(
    "args", [["--rounds", "1"], ["--rounds", "-2"], ["--rounds", "2", "-n", "5"]]
)
def test_bad_rounds_are_one_line(tmp_path: Path, args: list) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ormgc", "pyperf", "--quick", *args, "--results", str(tmp_path)],
        env=_env(tmp_path / "cache"), capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and len(error_lines(done)) == 1, done.stderr
    assert "--rounds" in done.stderr and not list(tmp_path.glob("*/*.json"))


@pytest.mark.slow
def test_paired_rounds_end_to_end_then_compare(tmp_path: Path) -> None:
    results = tmp_path / "results"
    policies = ["--policy", "default", "--policy", "threshold:50000", "--policy", "disabled"]
    command = [sys.executable, "-m", "ormgc", "pyperf", "--results", str(results),
               "--machine", "m", *SMALL, "--quick", "--orm", "sqlalchemy", "--rounds", "3",
               *policies]  # fmt: skip
    done = subprocess.run(command, env=_env(tmp_path / "cache"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(3 paired rounds)" in done.stderr
    folder = results / "m"
    suite = pyperf.BenchmarkSuite.load(str(folder / f"{python_label()}.json"))
    benches = {bench.get_name(): bench for bench in suite}
    records = {
        r["policy"]: r for r in json.loads((folder / f"{python_label()}.probe.json").read_text())
    }
    for policy, bench in benches.items():
        record_ = records[policy.split("/")[-1]]
        meta = bench.get_metadata()
        assert bench.get_nvalue() == 3 and meta["ormgc_rounds"] == 3
        # the times and the GC counts come from the same fresh processes
        assert [v * 1000 for v in bench.get_values()] == pytest.approx(
            [run["cpu_ms"] for run in record_["runs"]]
        )
        assert meta["gc_collections"] == record_["collections_total"]
    default = benches["sqlalchemy/seed_loop/default"].get_metadata()
    disabled = benches["sqlalchemy/seed_loop/disabled"].get_metadata()
    assert default["gc_collections"] > 0 and disabled["gc_collections"] == 0
    assert default["ormgc_paired_ratio"] == 1 and "ormgc_paired_ci95_low" in disabled
    compared = subprocess.run(
        [sys.executable, "-m", "ormgc", "compare", "--results", str(results), "--machine", "m"],
        env=_env(tmp_path / "cache"), capture_output=True, text=True,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    table = compared.stdout
    assert "## Against `default` on the same Python (paired rounds, 95% interval)" in table
    assert "| sqlalchemy | seed_loop | default | 1 (baseline) |" in table
    assert "3 rounds) |" in table and "3 paired rounds per benchmark" in table


@pytest.mark.slow
def test_full_mode_with_pyperf_workers(tmp_path: Path) -> None:
    """--rounds 0 outside --quick: pyperf's workers get the manager's --rounds (without it,
    a worker took the full mode's 4 rounds and refused pyperf's own worker options)."""
    results = tmp_path / "results"
    command = [sys.executable, "-m", "ormgc", "pyperf", "--results", str(results),
               "--machine", "m", *SMALL, "--orm", "sqlalchemy", "--policy", "default",
               "--rounds", "0", "-p", "1", "-n", "2", "-w", "0"]  # fmt: skip
    done = subprocess.run(command, env=_env(tmp_path / "cache"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (bench,) = pyperf.BenchmarkSuite.load(str(results / "m" / f"{python_label()}.json"))
    meta = bench.get_metadata()
    assert bench.get_nvalue() == 2 and meta["ormgc_mode"] == "full"
    assert "ormgc_rounds" not in meta and meta["gc_loops_measured"] == 2
