"""The advice's rule on synthetic sweeps: significance before a choice, disabled only when
allowed, ranking by instructions with timing confirming, and the same advice from two sweeps
whose noise differs (a fake worker with seeded noise: the stopping rule is what is tested)."""

from __future__ import annotations

import math
import random
from typing import Any, Dict, List

from ormgc.runs import advise
from ormgc.runs.envs import Interpreter
from ormgc.runs.runner import Scenario
from ormgc.views.advice.document import build_advice, enough
from ormgc.views.advice.rule import Bounds, assess, recommend
from ormgc.views.advice.table import format_advice

from .test_advise import curve, record, with_floor

# CPU time over default's, per setting of the quick grid (disabled: the floor)
CURVE = {"default": 1.0, "threshold:2000": 0.85, "threshold:50000": 0.66}
CURVE.update({"threshold:1000000": 0.64, "threshold:50000,500,1000": 0.65, "disabled": 0.63})


def test_a_smaller_setting_not_yet_significant_blocks_the_choice() -> None:
    records = curve(threshold_10000={"cpu_vs_baseline": {"ratio": 0.62, "ci95": [0.5, 1.02]}})
    chosen = recommend(assess(records, Bounds()), Bounds())
    assert (chosen["policy"], chosen["decided"]) == ("default", False)
    assert "threshold:10000 (freeze on): win over default n.s." in chosen["reason"]


def test_not_significantly_short_of_the_allowance_wins() -> None:
    # min_win 90% of disabled's 40%: the allowance is 1 + 0.1 * 0.4 / 0.6 = 1.067 x disabled's
    near = curve()
    near[2]["cpu_vs_disabled"]["ci95"] = [1.06, 1.14]  # threshold:10000: may be within it
    chosen = recommend(assess(near, Bounds()), Bounds())
    assert (chosen["policy"], chosen["decided"]) == ("threshold:10000", True)
    near[2]["cpu_vs_disabled"]["ci95"] = [1.07, 1.14]  # significantly short: rejected
    assert recommend(assess(near, Bounds()), Bounds())["policy"] == "threshold:50000"


def exact_curve(**instructions: int) -> List[Dict[str, Any]]:
    counts = {"default": 1000, "threshold:2000": 600, "threshold:10000": 150}
    counts.update({"threshold:50000": 50, "threshold:50000,500,1000": 40, "disabled": 0})
    counts.update(instructions)
    records = curve()
    for one in records:
        one["gc_instructions"] = counts[one["policy"]]
    return records


def test_exact_ranks_by_the_collectors_instructions_and_timing_confirms() -> None:
    records = exact_curve()
    records[2]["cpu_vs_baseline"] = {"ratio": 0.6, "ci95": [0.59, 0.61]}  # timing: as good
    rows = {row["policy"]: row for row in assess(records, Bounds())}
    assert rows["threshold:10000"]["excluded_by"] == ["wins 85%"]  # 150 of 1000 left
    chosen = recommend(list(rows.values()), Bounds())
    assert (chosen["policy"], chosen["win"], chosen["win_by"]) == (
        "threshold:50000",
        0.95,
        "instructions",
    )
    assert "by the collector's instructions" in chosen["reason"]
    records[3]["cpu_vs_baseline"] = {"ratio": 0.97, "ci95": [0.9, 1.05]}  # timing disagrees
    chosen = recommend(assess(records, Bounds()), Bounds())
    assert (chosen["policy"], chosen["decided"]) == ("default", False)
    assert "timing does not confirm its win yet" in chosen["reason"]


def test_disabled_only_when_allowed_and_then_with_the_warning() -> None:
    records = [record(p, r) for p, r in {"default": 1.0, "threshold:2000": 0.9}.items()]
    records = with_floor(records + [record("disabled", 0.5)])
    for one in records:
        one.update(orm="sqlalchemy", shape="seed_loop", python="3.11.7", python_build="x")
    kept = build_advice(records, Bounds(), 5)
    assert kept["recommended"]["policy"] == "default" and "never frees" not in format_advice(kept)
    allowed = build_advice(records, Bounds(allow_disabled=True), 5)
    assert allowed["recommended"]["policy"] == "disabled"
    text = format_advice(allowed)
    assert "gc.disable()" in text and "warning: gc.disable() never frees a reference cycle" in text


def fake_worker(noise: float, seed: int):
    """A worker for the quick grid: CPU = the round's machine speed x CURVE x lognormal noise."""
    rng = random.Random(seed)
    speed = {"round": 1.0, "left": 0}

    def worker(interp: Interpreter, spec: Dict[str, Any]) -> Dict[str, Any]:
        if spec["action"] == "prepare":
            return {}
        if speed["left"] == 0:  # a new round: the shared machine's speed changes
            speed.update(round=rng.uniform(0.7, 1.5), left=12)
        speed["left"] -= 1
        policy = spec["policy"]
        cpu = 1000 * speed["round"] * CURVE[policy] * math.exp(rng.gauss(0, noise))
        first = int(policy.split(":")[1].split(",")[0]) if ":" in policy else 700
        return {
            "policy": policy, "freeze": spec["freeze"], "gc_threshold": [first, 10, 10],
            "wall_ms": cpu, "cpu_ms": cpu, "peak_rss_mb": 100.0, "rss_delta_mb": 1.0,
            "pause_ms": {"total": 1.0, "max": 1.0, "p50": 1.0, "p99": 1.0},
            "collections": [1, 0, 0], "collections_total": 1, "collected": 0,
            "python": "3.11.7", "python_build": "fake", "orm": "sqlalchemy",
            "shape": "seed_loop",
        }  # fmt: skip

    return worker


def advise_once(monkeypatch, noise: float, seed: int, budget: int) -> Dict[str, Any]:
    monkeypatch.setattr(advise, "run_worker", fake_worker(noise, seed))
    cells = advise.grid_cells(advise.grid_policies(quick=True), "both")
    scenario = Scenario("sqlalchemy", "sqlite", "seed_loop", 10, 5, 1)
    stop = enough(Bounds(), None)
    interp = Interpreter("python", {}, "fake")
    records = advise.sweep(interp, scenario, cells, 3, lambda m: None, None, stop, budget)
    return build_advice(records, Bounds(), records[0]["repeat"], budget)


def test_two_sweeps_with_different_noise_give_the_same_advice(monkeypatch) -> None:
    first, second = (advise_once(monkeypatch, 0.03, seed, 10) for seed in (1, 2))
    for advice in (first, second):
        assert advice["decided"] and advice["recommended"]["policy"] == "threshold:50000"
        assert advice["recommended"]["freeze"] is False  # the smaller change: no freeze
    # much noise and a small budget: undecided both times, so the default both times
    noisy = [advise_once(monkeypatch, 0.5, seed, 4) for seed in (1, 2)]
    assert [(a["decided"], a["recommended"]["policy"]) for a in noisy] == [(False, "default")] * 2
    assert all(a["repeat"] == 4 for a in noisy)
    assert "no choice is significant after 4 rounds" in noisy[0]["recommended"]["reason"]
    assert noisy[0]["code"] == ["# nothing to change: keep the interpreter's GC"]


def test_advice_precision_is_the_widest_cpu_interval() -> None:
    records = curve()  # every interval +-0.01: widest in percent at the lowest ratio
    for one in records:
        one.update(orm="sqlalchemy", shape="seed_loop", python="3.11.7", python_build="x")
    widest = max(0.01 / r["cpu_vs_baseline"]["ratio"] * 100 for r in records[1:])  # disabled's 0.60
    met = build_advice(records, Bounds(), 5, 10, precision=2.0)["precision"]
    assert met == {"target": 2.0, "met": True, "achieved": round(widest, 3)}
    short = build_advice(records, Bounds(), 5, 10, precision=1.0)
    assert short["precision"]["met"] is False
    assert "precision +-1% (CPU): NOT met, +-1.7%" in format_advice(short)
