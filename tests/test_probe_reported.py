"""Python 3.15's own GC figures (``duration``, ``candidates`` in the callbacks' info and
gc.get_stats()): recorded by the probe when present, cross-checked against its own pauses."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ormgc.runs.pythons import available
from ormgc.worker.probe import Probe

from .conftest import ROOT

# Cyclic garbage, some kept: collections of every size, natively (no libraries needed).
CYCLES = """\
import gc, json
from ormgc.worker.probe import Probe
class Node:
    pass
gc.collect()
gc.freeze()
kept = []
with Probe() as probe:
    for i in range(100000):
        a, b = Node(), Node()
        a.other, b.other = b, a
        if i % 10 == 0:
            kept.append(a)
print(json.dumps(probe.result))
"""


def test_older_pythons_record_no_reported_figures(restore_gc: None) -> None:
    with Probe() as probe:
        pass
    assert ("gc_reported" in probe.result) == ("duration" in __import__("gc").get_stats()[0])


def test_python_3_15_duration_and_candidates() -> None:
    python = available().get("3.15")
    if python is None:
        pytest.skip("Python 3.15 is not installed (ormgc pythons --install 3.15)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [python, "-c", CYCLES], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    reported = result["gc_reported"]
    assert result["collections_total"] > 0 and reported["candidates"] > 0
    # The callbacks' figures and gc.get_stats()' are the same counters
    assert reported["candidates"] == reported["stats_candidates"]
    assert reported["duration_ms"]["total"] == pytest.approx(reported["stats_duration_ms"])
    # The probe's pause spans the collector's own duration, plus the callbacks in between
    assert 0 < reported["duration_over_pause"] <= 1
    assert reported["duration_ms"]["max"] <= result["pause_ms"]["max"]
