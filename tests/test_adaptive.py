"""The adaptive GC policy: its rule on workloads with known answers, install/remove, the policy."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from ormgc import UsageError, adaptive, parse_policy
from ormgc.runs.pythons import find_python
from ormgc.worker.policies import ADAPTIVE

from .conftest import ROOT, SMALL_LOAD, SMALL_ROWS, error_lines, ormgc

RULES_SCRIPT = ROOT / "scripts" / "bench_adaptive_rules.py"
OBJECTS = 200_000
UPPER = 50_000  # reachable from 700 in 7 doublings: 700 * 2**7 = 89,600 > 50,000


def _synthetic(workload: str, policy: str, python: str = sys.executable) -> Dict[str, Any]:
    done = subprocess.run(
        [python, str(RULES_SCRIPT), "--child", workload, policy, "--objects", str(OBJECTS)],
        env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("workload", ["live", "sparse"])
def test_no_garbage_backs_off_to_the_bound(workload: str) -> None:
    policy = f"adaptive:700..{UPPER}"
    result = _synthetic(workload, policy)
    default = _synthetic(workload, "threshold:700")
    assert result["adaptive"]["end"] == result["adaptive"]["max"] == UPPER
    assert result["adaptive"]["start"] == 700 and not result["installed_after"]
    # one collection per doubling (700 -> 50,000: 7), then one per 50,000 young objects
    assert sum(result["collections"]) <= 7 + OBJECTS // UPPER + 1
    # threshold 700: a collection each time the young count passes 700, every 701 tracked
    # allocations; nothing is freed. A Node is one tracked object (3.11+: its __dict__ is
    # not made), two before 3.11.
    tracked = OBJECTS * (1 if sys.version_info >= (3, 11) else 2)
    assert sum(default["collections"]) == tracked // 701
    assert sum(default["collections"]) > 20 * sum(result["collections"])


def test_steady_cyclic_garbage_keeps_the_threshold_low_and_memory_bounded() -> None:
    result = _synthetic("cycles", f"adaptive:700..{UPPER}")
    disabled = _synthetic("cycles", "disabled")
    assert result["adaptive"]["max"] <= 1400 and result["adaptive"]["end"] == 700
    assert result["collected"] >= OBJECTS - 1400
    assert result["left_uncollected"] <= 1400  # at most one young generation's worth
    assert disabled["left_uncollected"] == OBJECTS


def test_after_a_garbage_free_phase_garbage_brings_it_back_down() -> None:
    result = _synthetic("live_then_cycles", f"adaptive:700..{UPPER}")
    assert result["adaptive"]["max"] == UPPER and result["adaptive"]["end"] == 700
    assert result["left_uncollected"] <= 1400


def test_the_rule_runs_on_the_oldest_supported_python() -> None:
    try:
        python39 = find_python("3.9")  # the suite's own search: PATH, pyenv, uv, Debian's
    except UsageError as missing:  # this machine kind has it in pyenv; CI must
        (pytest.fail if os.environ.get("CI") else pytest.skip)(str(missing))
    result = _synthetic("live", f"adaptive:700..{UPPER}", python39)
    assert result["adaptive"]["start"] == 700
    assert result["adaptive"]["end"] == result["adaptive"]["max"] == UPPER
    assert sum(result["collections"]) <= 7 + 2 * OBJECTS // UPPER + 1  # two objects per Node


def test_install_remove_restore_thresholds_and_callbacks_exactly(restore_gc: None) -> None:
    def other(phase: str, info: Dict[str, Any]) -> None:
        pass

    gc.set_threshold(1234, 5, 6)
    gc.callbacks.append(other)
    before = list(gc.callbacks)
    try:
        state = adaptive.install(lower=100, upper=10_000)
        assert gc.get_threshold() == (100, 5, 6) and adaptive.installed() is state
        assert len(gc.callbacks) == len(before) + 1
        with pytest.raises(RuntimeError, match="already installed"):
            adaptive.install()
        assert len(gc.callbacks) == len(before) + 1  # the refused install changed nothing
        summary = adaptive.remove()
        assert summary is not None and summary["start"] == 100
        assert gc.get_threshold() == (1234, 5, 6)
        assert [id(cb) for cb in gc.callbacks] == [id(cb) for cb in before]
        assert adaptive.remove() is None and adaptive.installed() is None
        assert adaptive.install().lower == 1234  # default lower: the threshold it found
        adaptive.remove()
    finally:
        adaptive.remove()
        gc.callbacks.remove(other)


def test_callback_allocates_nothing_tracked(restore_gc: None) -> None:
    state = adaptive.AdaptiveThreshold(700, 1_000_000)
    callback = state.callback  # one bound method, as gc.callbacks holds it
    empty, full = {"generation": 0, "collected": 0}, {"generation": 0, "collected": 10**6}
    gc.disable()
    young = gc.get_count()[0]
    for _ in range(1000):
        callback("start", empty)
        callback("stop", empty)
        callback("stop", full)
    assert gc.get_count()[0] == young
    assert state.summary()["changes"] == 2000 and state.summary()["max"] == 1400


@pytest.mark.parametrize(
    "lower, upper, rule, message",
    [
        (0, 10, "tolerant", "lower must be a whole number from 1"),
        (10, 2**31, "tolerant", "upper must be a whole number"),
        (10, 5, "tolerant", "lower (10) is above upper (5)"),
        (10.5, 20, "tolerant", "lower must be"),
        (10, 20, "double", "rule must be one of"),
    ],
)
def test_bad_parameters_are_one_line(lower: Any, upper: Any, rule: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        adaptive.install(lower, upper, rule)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert adaptive.installed() is None


@pytest.mark.parametrize(
    "text, name, bounds",
    [
        ("adaptive", "adaptive", (None, 100_000, "tolerant")),
        ("adaptive:700..1000000", "adaptive:700..1000000", (700, 1_000_000, "tolerant")),
        ("adaptive_700_1000000", "adaptive:700..1000000", (700, 1_000_000, "tolerant")),
        ("adaptive:700..1000000,tolerant", "adaptive:700..1000000", (700, 1_000_000, "tolerant")),
        ("adaptive:700..50000,halve", "adaptive:700..50000,halve", (700, 50_000, "halve")),
        ("adaptive_700_50000_reset", "adaptive:700..50000,reset", (700, 50_000, "reset")),
    ],
)
def test_parse_adaptive(text: str, name: str, bounds: tuple) -> None:
    policy = parse_policy(text)
    assert (policy.name, policy.bounds) == (name, bounds)
    assert parse_policy(policy.slug) == policy
    assert parse_policy("adaptive") is ADAPTIVE


def test_slug() -> None:
    assert parse_policy("adaptive:700..1000000").slug == "adaptive_700_1000000"


@pytest.mark.parametrize(
    "text",
    [
        "adaptive:",
        "adaptive:700",
        "adaptive:0..10",
        "adaptive:10..5",
        "adaptive:1..99999999999",
        "adaptive:700..1000000,fast",
        "adaptive:-1..5",
        "adaptive:a..b",
    ],
)
def test_bad_adaptive_policies_are_one_line(text: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_policy(text)
    assert "\n" not in str(error.value) and text in str(error.value)


def test_bad_adaptive_policy_on_the_command_line(shared_cache: Path) -> None:
    done = ormgc("run", "--policy", "adaptive:5000..700", cache_dir=shared_cache)
    assert done.returncode != 0
    assert error_lines(done) == [
        "ormgc: error: bad GC policy 'adaptive:5000..700': lower (5000) is above upper (700)"
    ]


def test_adaptive_through_ormgc_run(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    small = ("--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD))
    for shape in ("seed_loop", "request_loop"):
        done = ormgc(
            "run", *small, "--shape", shape, "--policy", "adaptive:700..1000000",
            "--policy", "default", "--json", str(out), cache_dir=shared_cache,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        adaptive_record, default_record = json.loads(out.read_text())
        summary = adaptive_record["adaptive"]
        assert summary["start"] == 700 and summary["lower"] == 700
        assert summary["max"] >= summary["end"] >= 700
        assert adaptive_record["gc_threshold_after"][0] == summary["end"]
        assert default_record["adaptive"] is None
        if shape == "seed_loop":  # no garbage: it backs off, so fewer collections
            assert summary["max"] > 700
            assert adaptive_record["collections_total"] < default_record["collections_total"]


def test_overhead_script_reports_its_cost_model() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_adaptive_overhead.py"),
         "--calls", "20000", "--objects", "100000"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # exits 1 over the 1% target: at this size it measured 0.12% (2026-12-07), 8x below
    assert done.returncode == 0, done.stdout + done.stderr
    (moving,) = re.search(r"(-?\d+) ns moving the threshold", done.stdout).groups()
    assert int(moving) > 0
    objects, collections = map(int, re.search(
        r"cycles of (\d+) objects under adaptive:700..1000000: (\d+) collections "
        r"\(0 threshold changes\)", done.stdout).groups())  # fmt: skip
    # steady garbage: it stays at 700, one collection per 701 tracked allocations (3.11+: one
    # per Node; 3.9/3.10 also track each Node's dict, some of which die before a collection:
    # 256 measured on 3.10)
    assert objects == 100_000
    if sys.version_info >= (3, 11):
        assert collections == objects // 701
    else:
        assert objects // 701 < collections <= 2 * objects // 701
    (share,) = re.search(r"overhead=([\d.]+)% target<1% ok", done.stdout).groups()
    assert 0 < float(share) < 1


# The docs' example, run as a user runs it: in a fresh interpreter, since the thresholds it
# reaches depend on every object the process made before (in a pytest worker, on whichever
# test files that worker ran first: max 89,600 instead of 100,000 once, the example's last
# doubling undone by another test's garbage).
_RUN_DOCS_EXAMPLE = """
import gc, json, sys
from types import SimpleNamespace
from ormgc import adaptive
gc.set_threshold(700, 10, 10)
callbacks = list(gc.callbacks)
kept = []
app = SimpleNamespace(run=lambda: kept.extend([index] for index in range(300_000)))
printed = []
exec(sys.stdin.read(), {"app": app, "print": printed.append})
print(json.dumps({"summary": printed, "threshold": gc.get_threshold(),
                  "callbacks_restored": gc.callbacks == callbacks}))
"""


def test_docs_example_installs_and_restores() -> None:
    page = (ROOT / "docs" / "explanation" / "gc-policies.md").read_text()
    (block,) = [
        code
        for code in re.findall(r"```python\n(.*?)```", page, re.S)
        if code.startswith("from ormgc import adaptive")
    ]
    done = subprocess.run(
        [sys.executable, "-c", _RUN_DOCS_EXAMPLE], input=block, capture_output=True, text=True,
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ran = json.loads(done.stdout)
    (summary,) = ran["summary"]
    assert summary["start"] == 700 and summary["max"] == adaptive.DEFAULT_UPPER
    assert ran["threshold"] == [700, 10, 10] and ran["callbacks_restored"]


def test_readme_tables_come_from_the_committed_results() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "adaptive_table.py")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| 3.9." in done.stdout
    lines = done.stdout.splitlines()
    for rules in sorted((ROOT / "results" / "adaptive").glob("rules-*.json")):
        records = json.loads(rules.read_text())
        (default,) = [r for r in records if r["workload"] == "live" and r["policy"] == "default"]
        # live objects only, so the default threshold t collects every t + 1 allocations
        # (one tracked object per Node on 3.11+): 1,426 on 3.11 (700), 499 on 3.13 (2,000)
        threshold = 2000 if rules.name == "rules-3.13.json" else 700
        assert sum(default["collections"]) == default["objects"] // (threshold + 1)
        assert default["left_uncollected"] == 0
        workloads = list(dict.fromkeys(r["workload"] for r in records))
        start = lines.index(f"{rules.name}: collections / objects left uncollected") + 4
        table = lines[start : start + len(workloads)]
        policies = list(dict.fromkeys(r["policy"] for r in records))
        for workload in workloads:
            cells = {
                r["policy"]: f"{sum(r['collections']):,} / {r['left_uncollected']:,}"
                for r in records
                if r["workload"] == workload
            }
            row = f"| {workload} | " + " | ".join(cells[p] for p in policies) + " |"
            assert row in table, row
