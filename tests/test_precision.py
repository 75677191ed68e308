"""``--precision``: the stopping rule on synthetic ratios (a fake worker with seeded noise),
the fields the records carry, what the table says, and bad input."""

from __future__ import annotations

import math
import random
from typing import Any, Dict, List

import pytest

from ormgc import cli
from ormgc.runs import runner
from ormgc.runs.envs import Interpreter
from ormgc.runs.paired import PRECISION_START, Precision, interleaved_rounds, widest_half_width
from ormgc.views.tables.table import format_table
from ormgc.worker.policies import parse_policies

from .test_paired import _fake_result

LABELS = dict(
    orm="sqlalchemy", shape="seed_loop", python="3.11.7", python_build="default", rows=10,
    backend="sqlite", orm_version="2.0", driver="sqlite3", driver_version="3", loaded=5,
    freeze=True, gc_threshold=[700, 10, 10],
)  # fmt: skip


def fake_worker(noise: float, seed: int = 3):
    """CPU times: the round's machine speed x the policy's factor x lognormal(0, noise)."""
    rng, calls = random.Random(seed), []

    def worker(interp: Interpreter, spec: Dict[str, Any]) -> Dict[str, Any]:
        if spec["action"] == "prepare":
            return {}
        calls.append(spec["policy"])
        result = _fake_result(spec["policy"], (len(calls) - 1) // 2)
        result["cpu_ms"] *= math.exp(rng.gauss(0, noise))
        result.update(load_average=[1.0, 1.0, 1.0], **LABELS)
        return result

    return worker, calls


def sweep(monkeypatch, noise: float, precision: Precision) -> List[Dict[str, Any]]:
    worker, calls = fake_worker(noise)
    monkeypatch.setattr(runner, "run_worker", worker)
    policies = parse_policies(["default", "threshold:50000"])
    scenario = runner.Scenario("sqlalchemy", "sqlite", "seed_loop", 10, 5, 1)
    interp = Interpreter("python", {}, "fake")
    return runner.run_sweep(
        interp, [scenario], policies, PRECISION_START, lambda m: None, precision=precision
    )


def test_rounds_are_added_until_the_interval_is_narrow_enough(monkeypatch) -> None:
    records = sweep(monkeypatch, 0.05, Precision(2.5, 200))
    raised = next(r for r in records if r["policy"] == "threshold:50000")
    assert PRECISION_START < raised["rounds"] < 200 and raised["precision_met"] is True
    assert raised["precision_target"] == 2.5 and raised["precision_achieved"] <= 2.5
    low, high = raised["cpu_vs_baseline"]["ci95"]
    ratio = raised["cpu_vs_baseline"]["ratio"]
    assert max(ratio - low, high - ratio) / ratio * 100 == pytest.approx(
        raised["precision_achieved"], abs=0.001
    )
    # one round fewer would not have met it: the rule stops at the first round that does
    runs = {p: [{"cpu_ms": r["cpu_ms"]} for r in rec["runs"][:-1]] for p, rec in
            ((rec["policy"], rec) for rec in records)}  # fmt: skip
    assert widest_half_width(runs, "default") > 2.5
    assert "precision +-2.5% (CPU): met, " in format_table(records)


def test_a_target_out_of_reach_stops_at_max_rounds_and_says_so(monkeypatch) -> None:
    records = sweep(monkeypatch, 0.05, Precision(0.1, 8))
    assert {r["rounds"] for r in records} == {8} and {r["repeat"] for r in records} == {8}
    assert not any(r["precision_met"] for r in records)
    assert records[0]["precision_achieved"] > 0.1
    assert "NOT met (--max-rounds reached)" in format_table(records)


def test_a_constant_ratio_is_met_at_the_first_check(monkeypatch) -> None:
    records = sweep(monkeypatch, 0.0, Precision(1.0, 50))
    assert {r["rounds"] for r in records} == {PRECISION_START}
    assert all(r["precision_met"] and r["precision_achieved"] == 0 for r in records)


def test_interleaved_rounds_stop_rule() -> None:
    measured: List[str] = []

    def measure(key: str) -> Dict[str, Any]:
        measured.append(key)
        return {}

    runs = interleaved_rounds("AB", measure, 2, lambda runs: len(runs["A"]) >= 4, 10)
    assert measured == list("ABBAABBA") and len(runs["B"]) == 4
    measured.clear()
    interleaved_rounds("AB", measure, 1, lambda runs: False, 3)
    assert measured == list("ABBAAB")  # the budget: 3 rounds


@pytest.mark.parametrize(
    "args, message",
    [
        (["--precision", "0"], "argument --precision: need a percentage above 0"),
        (["--precision", "lots"], "argument --precision: need a percentage above 0"),
        (["--precision", "2", "--max-rounds", "0"], "argument --max-rounds: need a whole number"),
        (["--precision", "2", "--policy", "disabled"], "--precision compares with a baseline"),
        (
            ["--precision", "2", "--workload", "x.py:f", "--policy", "disabled"],
            "add --policy default",
        ),
    ],
)
def test_bad_precision_is_one_line_before_any_work(capsys, monkeypatch, args, message) -> None:
    monkeypatch.setattr(runner, "run_worker", pytest.fail)  # nothing may run
    try:
        code = cli.main(["run", *args])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
