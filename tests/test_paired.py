"""Paired timing: interval maths on synthetic data with known answers, the interleaved, rotated
order of the runs (a fake worker records it), ratios in records and tables, bad input."""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ormgc import cli
from ormgc.runs import runner
from ormgc.runs.envs import Interpreter
from ormgc.runs.paired import attach_ratios, choose_baseline, rotated
from ormgc.views.stats import (
    bootstrap_median_ratio,
    format_ratio,
    half_width_percent,
    paired_ratio,
    significant,
    t975,
)
from ormgc.views.tables.table import format_table
from ormgc.worker.policies import parse_policies

from .conftest import ROOT


def test_t_quantiles_match_the_tables() -> None:
    assert t975(1) == 12.706 and t975(9) == 2.262 and t975(30) == 2.042
    assert t975(40) == pytest.approx(2.021, abs=0.001)  # beyond the table: the expansion
    assert t975(120) == pytest.approx(1.980, abs=0.001)
    with pytest.raises(ValueError):
        t975(0)


def test_constant_ratio_gives_a_zero_width_interval_at_that_ratio() -> None:
    baseline = [800.0, 1200.0, 950.0, 1010.0, 700.0]  # the machine's speed varies by round
    ratio, ci95 = paired_ratio([0.66 * value for value in baseline], baseline)
    assert ratio == pytest.approx(0.66)
    assert ci95 == [pytest.approx(0.66), pytest.approx(0.66)]
    assert significant(ci95) is True and format_ratio(ratio, ci95) == "0.66 [0.66, 0.66]"


def test_known_log_ratios_give_the_t_interval() -> None:
    """Log-ratios +-d around log(0.5): mean log(0.5), sd d*sqrt(n/(n-1)) for n even."""
    d, n = 0.1, 4
    baseline = [1000.0] * n
    values = [1000.0 * 0.5 * math.exp(d if i % 2 else -d) for i in range(n)]
    ratio, ci95 = paired_ratio(values, baseline)
    half = t975(n - 1) * d * math.sqrt(n / (n - 1)) / math.sqrt(n)
    assert ratio == pytest.approx(0.5)
    assert ci95 == [pytest.approx(0.5 * math.exp(-half)), pytest.approx(0.5 * math.exp(half))]


def test_symmetric_noise_interval_contains_the_truth_about_95_percent_of_the_time() -> None:
    rng, truth, covered = random.Random(7), 0.8, 0
    trials = 400
    for _ in range(trials):
        speed = [rng.uniform(0.7, 1.5) for _ in range(10)]  # shared slow spells: cancel out
        baseline = [1000 * s * math.exp(rng.gauss(0, 0.03)) for s in speed]
        values = [truth * 1000 * s * math.exp(rng.gauss(0, 0.03)) for s in speed]
        _, (low, high) = paired_ratio(values, baseline)
        covered += low <= truth <= high
    assert 0.92 <= covered / trials <= 0.98  # binomial(400, 0.95): 3 sd either side


def test_one_round_has_a_ratio_and_no_interval() -> None:
    ratio, ci95 = paired_ratio([50.0], [100.0])
    assert ratio == 0.5 and ci95 is None
    assert significant(ci95) is None and format_ratio(ratio, ci95) == "0.50"
    assert half_width_percent(ci95, ratio) is None


def test_an_interval_spanning_one_says_not_significant() -> None:
    ratio, ci95 = paired_ratio([100.0, 96.0, 104.0, 99.0], [100.0, 100.0, 100.0, 100.0])
    assert ci95[0] < 1 < ci95[1] and significant(ci95) is False
    assert format_ratio(ratio, ci95).endswith(" n.s.")
    assert format_ratio(0.66, [0.64, 0.68]) == "0.66 [0.64, 0.68]"
    assert half_width_percent([0.64, 0.68], 0.66) == pytest.approx(3.03, abs=0.01)


def test_bootstrap_of_independent_samples_is_seeded_and_finds_a_real_change() -> None:
    older = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2]
    same = bootstrap_median_ratio(list(older), older)
    assert same[0] == 1.0 and same[1][0] <= 1.0 <= same[1][1]
    faster = bootstrap_median_ratio([value / 2 for value in older], older)
    assert faster[0] == pytest.approx(0.5) and faster[1][1] < 1
    assert faster == bootstrap_median_ratio([value / 2 for value in older], older)  # seeded
    assert bootstrap_median_ratio([2.0], [1.0]) == (2.0, None)


def test_rotation_per_round() -> None:
    assert [rotated("ABC", r) for r in range(4)] == [list("ABC"), list("BCA"), list("CAB")] + [
        list("ABC")
    ]


def _fake_result(policy: str, round_index: int) -> Dict[str, Any]:
    """CPU time: 1000 ms x the round's machine speed x the policy's factor (threshold 0.5)."""
    speed = 1 + round_index / 10
    factor = {"default": 1.0, "threshold:50000": 0.5, "disabled": 0.4}[policy]
    return {
        "policy": policy,
        "wall_ms": 2000 * speed * factor,
        "cpu_ms": 1000 * speed * factor,
        "server_cpu_ms": None,
        "wait_ms": 1000 * speed * factor,
        "server_cpu_source": "in-process",
        "peak_rss_mb": 1.0,
        "rss_delta_mb": 0.0,
        "pause_ms": {"total": 0.0, "max": 0.0, "p50": 0.0, "p99": 0.0},
        "collections": [1, 0, 0],
        "collections_total": 1,
        "collected": 0,
    }


def test_runs_are_interleaved_and_rotated_in_fresh_workers(monkeypatch) -> None:
    order: List[str] = []

    def fake_worker(interp: Interpreter, spec: Dict[str, Any]) -> Dict[str, Any]:
        if spec["action"] == "prepare":
            return {}
        order.append(spec["policy"])
        return _fake_result(spec["policy"], (len(order) - 1) // 3)

    monkeypatch.setattr(runner, "run_worker", fake_worker)
    policies = parse_policies(["default", "threshold:50000", "disabled"])
    scenario = runner.Scenario("sqlalchemy", "sqlite", "seed_loop", 10, 5, 1)
    interp = Interpreter("python", {}, "fake")
    records = runner.run_sweep(interp, [scenario], policies, 3, progress=lambda message: None)
    assert order == [
        "default", "threshold:50000", "disabled",
        "threshold:50000", "disabled", "default",
        "disabled", "default", "threshold:50000",
    ]  # fmt: skip
    by_policy = {record["policy"]: record for record in records}
    raised = by_policy["threshold:50000"]
    assert raised["repeat"] == 3 and raised["counts_identical"] is True
    # paired round by round: the machine's speed (1.0, 1.1, 1.2) cancels exactly
    assert raised["cpu_vs_baseline"]["baseline"] == "default"
    assert raised["cpu_vs_baseline"]["ratio"] == pytest.approx(0.5)
    assert raised["cpu_vs_baseline"]["ci95"] == [pytest.approx(0.5), pytest.approx(0.5)]
    assert by_policy["default"]["wall_vs_baseline"]["ratio"] == pytest.approx(1.0)
    assert by_policy["default"]["wall_vs_baseline"]["ci95"] == [1.0, 1.0]  # its own baseline
    assert raised["server_cpu_ms"] is None and raised["wait_ms"] == pytest.approx(550)


def _record(policy: str, ratio: float, ci95: List[float]) -> Dict[str, Any]:
    record = _fake_result(policy, 0)
    record.update(
        orm="sqlalchemy", shape="seed_loop", python="3.11.7", python_build="default",
        backend="sqlite", orm_version="2.0", driver="sqlite3", driver_version="3", rows=10,
        loaded=5, freeze=True, repeat=10, gc_threshold=[700, 10, 10],
    )  # fmt: skip
    record["runs"] = [record.copy()]
    for key in ("cpu_vs_baseline", "wall_vs_baseline"):
        record[key] = {"baseline": "disabled", "ratio": ratio, "ci95": ci95}
    return record


def test_table_shows_ratios_intervals_and_not_significant() -> None:
    table = format_table(
        [
            _record("disabled", 1.0, [1.0, 1.0]),
            _record("default", 1.51, [1.45, 1.58]),
            _record("threshold:50000", 1.01, [0.97, 1.05]),
        ]
    )
    assert "cpu vs disabled" in table and "median of 10 interleaved rounds" in table
    assert "1.51 [1.45, 1.58]" in table and "1.01 [0.97, 1.05] n.s." in table
    assert "  baseline" in table.splitlines()[3]  # the baseline's own row
    assert "wait ms" in table and "(the database runs in-process)" in table


def test_baseline_own_row_and_attach_without_baseline() -> None:
    records = [_record("default", 1.0, [1.0, 1.0])]
    for record in records:
        del record["cpu_vs_baseline"], record["wall_vs_baseline"]
    attach_ratios(records, None)
    assert "cpu_vs_baseline" not in records[0]  # no baseline in the run: no ratios
    policies = parse_policies(["threshold:700", "disabled"])
    assert choose_baseline(None, policies) is None
    assert choose_baseline("threshold_700", policies) == "threshold:700"


@pytest.mark.parametrize(
    "baseline, message",
    [
        ("threshold:50000", "--baseline 'threshold:50000' is not among the run's policies"),
        ("fastest", "unknown GC policy 'fastest'"),
    ],
)
def test_bad_baseline_is_one_line_before_any_work(capsys, monkeypatch, baseline, message) -> None:
    monkeypatch.setattr(runner, "run_worker", pytest.fail)  # nothing may run
    code = cli.main(["run", "--policy", "default", "--policy", "disabled", "--baseline", baseline])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("ormgc: error: ") and message in err[0]


@pytest.mark.parametrize(
    "name", ["sqlalchemy-sqlite", "sqlalchemy-sqlite-loaded", "mongoengine-embedded"]
)
def test_committed_paired_tables_come_from_their_records(tmp_path: Path, name: str) -> None:
    """README quotes results/paired/*.txt: the script makes each from its committed records."""
    records = ROOT / "results" / "paired" / f"{name}.json"
    output = tmp_path / f"{name}.txt"
    script = [sys.executable, str(ROOT / "scripts" / "paired_table.py"), str(records)]
    done = subprocess.run([*script, "--output", str(output)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert output.read_text() == (ROOT / "results" / "paired" / f"{name}.txt").read_text()
    raised = next(r for r in json.loads(records.read_text()) if r["policy"] == "threshold:50000")
    assert raised["repeat"] == 10 and raised["counts_identical"]
    assert f"{raised['orm']} seed_loop threshold:50000: cpu_vs_baseline " in done.stdout
    # each ratio the table shows, recomputed from the rounds by this test's own arithmetic:
    # geometric mean of the per-round ratios, t interval (9 degrees of freedom: 2.262) on logs
    by_policy = {r["policy"]: r for r in json.loads(records.read_text())}
    table = {line.split()[2]: line for line in output.read_text().splitlines()[3:6]}
    for policy in ("threshold:50000", "disabled"):
        shown = []
        for field in ("wall_ms", "cpu_ms"):
            rounds = [
                (run[field], base[field])
                for run, base in zip(by_policy[policy]["runs"], by_policy["default"]["runs"])
            ]
            logs = [math.log(value / base) for value, base in rounds]
            centre = statistics.mean(logs)
            half = 2.262 * statistics.stdev(logs) / math.sqrt(len(logs))
            ratio, low, high = (math.exp(x) for x in (centre, centre - half, centre + half))
            shown.append(f"{ratio:.2f} [{low:.2f}, {high:.2f}]")
        assert re.search(
            rf"{re.escape(shown[0])}(?: n\.s\.)?\s+{re.escape(shown[1])}", table[policy]
        ), (
            table[policy],
            shown,
        )
