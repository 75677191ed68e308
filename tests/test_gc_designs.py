"""Interpreters whose GC is not 3.13's: nothing in the chain assumes three generations.

3.14.0-3.14.4 shipped an incremental collector with two generations (young/old) and default
thresholds (2000, 10, 0); free-threaded builds (3.13t, 3.14t) have a non-generational
collector behind the same API. Neither runs here, so their answers are faked (``gc.get_stats``,
``gc.get_threshold``, the ``Py_GIL_DISABLED`` build flag) and fed through the probe, a real
measurement, the text table, pyperf's metadata and ``ormgc compare``.
"""

from __future__ import annotations

import gc
import json
import sysconfig
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from ormgc import cli
from ormgc.results import python_label
from ormgc.views.compare.asv_compare import python_key
from ormgc.views.tables.table import format_table
from ormgc.worker import measure
from ormgc.worker.policies import parse_policy
from ormgc.worker.probe import Probe, gc_identity
from ormgc.worker.pyperf_loop import gc_metadata

from .conftest import SMALL_LOAD, SMALL_ROWS
from .test_compare import DEFAULT, write_result

# name: (generations reported by gc.get_stats(), gc.get_threshold(), free-threaded build flag)
DESIGNS: Dict[str, Tuple[int, Tuple[int, ...], int]] = {
    "incremental-3.14.4": (2, (2000, 10, 0), 0),
    "free-threaded-3.14t": (3, (2000, 10, 10), 1),
}


class FakeGC:
    """gc.get_stats/get_threshold/set_threshold as another interpreter answers them; ``collect``
    reports a collection of one generation to gc.callbacks as CPython does."""

    def __init__(self, generations: int, threshold: Tuple[int, ...]) -> None:
        self.counts = [0] * generations
        self.threshold = threshold

    def get_stats(self) -> List[Dict[str, int]]:
        return [{"collections": n, "collected": 0, "uncollectable": 0} for n in self.counts]

    def get_threshold(self) -> Tuple[int, ...]:
        return self.threshold

    def set_threshold(self, *threshold: int) -> None:
        self.threshold = threshold

    def collect(self, generation: int, collected: int = 0) -> None:
        for callback in list(gc.callbacks):
            callback("start", {"generation": generation, "collected": 0, "uncollectable": 0})
        self.counts[generation] += 1
        for callback in list(gc.callbacks):
            callback("stop", {"generation": generation, "collected": collected, "uncollectable": 0})


@pytest.fixture(params=sorted(DESIGNS))
def design(request, monkeypatch: pytest.MonkeyPatch, restore_gc: None) -> Tuple[str, FakeGC]:
    generations, threshold, free_threaded = DESIGNS[request.param]
    fake = FakeGC(generations, threshold)
    for name in ("get_stats", "get_threshold", "set_threshold"):
        monkeypatch.setattr(gc, name, getattr(fake, name))
    real: Callable[[str], Any] = sysconfig.get_config_var
    monkeypatch.setattr(
        sysconfig,
        "get_config_var",
        lambda name: free_threaded if name == "Py_GIL_DISABLED" else real(name),
    )
    return request.param, fake


def test_identity_reports_what_the_interpreter_says(design: Tuple[str, FakeGC]) -> None:
    name, _ = design
    generations, threshold, free_threaded = DESIGNS[name]
    identity = gc_identity()
    assert identity["gc_generations"] == generations
    assert identity["gc_threshold"] == list(threshold)
    assert identity["python_build"] == ("free-threaded" if free_threaded else "default")
    assert python_label().endswith("t") == bool(free_threaded)


def test_probe_counts_per_reported_generation(design: Tuple[str, FakeGC]) -> None:
    name, fake = design
    gc.disable()  # only the fake's collections happen inside the block
    with Probe() as probe:
        fake.collect(0, collected=3)
        fake.collect(0)
        fake.collect(1, collected=4)
    assert probe.result["collections"] == [2, 1] + [0] * (DESIGNS[name][0] - 2)
    assert probe.result["collections_total"] == 3 and probe.result["collected"] == 7
    assert probe.result["gc_threshold_before"] == list(DESIGNS[name][1])


def test_a_measurement_record_and_its_table(
    design: Tuple[str, FakeGC], use_shared_cache: Path
) -> None:
    """A real SQLAlchemy query under the faked interpreter (GC off: no real collection may
    count against the fake stats), then the table the CLI prints from the record."""
    name, _ = design
    generations, threshold, free_threaded = DESIGNS[name]
    spec = {"orm": "sqlalchemy", "db": "sqlite", "rows": SMALL_ROWS, "seed": 20220107}
    measure.prepare({**spec, "action": "prepare"})
    spec.update(shape="seed_loop", load=SMALL_LOAD, freeze=True, profile="current")
    record = measure.measure({**spec, "policy": "disabled"})
    assert record["gc_generations"] == generations
    assert record["gc_threshold_default"] == record["gc_threshold"] == list(threshold)
    assert record["python_build"] == ("free-threaded" if free_threaded else "default")
    assert record["collections"] == [0] * generations and record["loaded"] == SMALL_LOAD
    table = format_table([record])
    zeros = "/".join(["0"] * generations)
    assert f" {zeros} " in table and "/".join(map(str, threshold)) in table


def test_threshold_policy_keeps_the_other_thresholds(design: Tuple[str, FakeGC]) -> None:
    name, _ = design
    parse_policy("threshold:50000").apply()
    assert gc.get_threshold() == (50000, *DESIGNS[name][1][1:])  # (50000, 10, 0) on 3.14.4


def test_pyperf_metadata_and_compare(design: Tuple[str, FakeGC], tmp_path: Path, capsys) -> None:
    name, _ = design
    generations = DESIGNS[name][0]
    log = tmp_path / "gc.jsonl"
    loops = [{"collections": [5, 1] + [0] * (generations - 2), "collected": 0,
              "pause_total_ms": 1.0, "pause_max_ms": 0.5, "peak_rss_mb": 70.0}] * 3  # fmt: skip
    log.write_text(json.dumps({"bench": "b", "pid": 1, "loops": loops}) + "\n")
    meta = gc_metadata(str(log), "b")
    assert meta["gc_collections_per_generation"] == "/".join(["5", "1"] + ["0"] * (generations - 2))
    assert meta["gc_collections"] == 6
    machine = tmp_path / "results" / "box"
    threshold = "/".join(map(str, DESIGNS[name][1]))
    write_result(machine, "3.13", {DEFAULT: 100.0})
    write_result(
        machine, "3.14", {DEFAULT: 90.0}, gc_generations=generations,
        gc_threshold_default=threshold, python_distribution="setup-python",
    )  # fmt: skip
    assert cli.main(["compare", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert f"{generations} generations, default GC thresholds {threshold}" in out


def test_asv_compare_puts_3_14_4_beside_the_newest_3_14() -> None:
    versions = ["3.14", "3.13t", "3.9", "3.14t", "3.14.4", "3.13", "3.15"]
    ordered = sorted(versions, key=python_key)
    assert ordered == ["3.9", "3.13", "3.13t", "3.14.4", "3.14", "3.14t", "3.15"]
