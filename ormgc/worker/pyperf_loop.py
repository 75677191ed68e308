"""Inside a pyperf worker: time one (ORM, shape, policy) with the GC on, and log what it did.

pyperf's ``bench_time_func`` leaves the GC alone, so the policy is applied here, in the worker,
before every loop. Each loop starts as an ``ormgc run`` measurement does: a fresh session, then
``prepare_heap`` (a full collection, which also frees the previous loop's objects, then
``gc.freeze()``), then the policy; only the query is timed, by the same ``Probe``.

The probe's numbers for every loop that produced a pyperf *value* (not a warmup, not a
calibration) are appended to a log file named by $ORMGC_PYPERF_GC_LOG; the manager process
summarises them into the benchmark's metadata (``gc_metadata``), so one JSON holds both.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
from typing import Any, Callable, Dict, List, Tuple

from orm_fixtures import open_fixture, shapes
from ormgc.worker.policies import Policy, prepare_heap
from ormgc.worker.probe import Probe

GC_LOG_ENV = "ORMGC_PYPERF_GC_LOG"
# What a pyperf value is. CPU time of the measured process by default: the GC's cost is CPU spent
# in that process, and wall time would add what the process waits for -- with the embedded
# MongoDB server, three quarters of a query's wall time is the server materializing documents.
# "wall" is what the seed and pyperf's own default measure; every loop's probe records both.
TIMERS = {"cpu": "cpu_ms", "wall": "wall_ms"}

_fixtures: Dict[Tuple[str, str, int, int], Any] = {}  # one open fixture per worker process


def _fixture(orm: str, db: str, rows: int, seed: int) -> Any:
    key = (orm, db, rows, seed)
    if key not in _fixtures:
        fixture = open_fixture(orm, db, rows, seed)
        if fixture.count_entries() <= 0:  # as the seed did, before any measurement
            raise RuntimeError(f"the {orm} dataset is empty")
        _fixtures[key] = fixture
    return _fixtures[key]


class TimedQuery:
    """pyperf's time function for one scenario and policy: ``timed(loops)`` -> seconds."""

    def __init__(
        self,
        name: str,
        scenario: Any,
        policy: Policy,
        timer: str,
        logs_call: Callable[[int], bool],
    ):
        self.name = name
        self.scenario = scenario
        self.policy = policy
        self.timed_field = TIMERS[timer]
        self.logs_call = logs_call  # given the call's number (1, 2, ...): is it a pyperf value?
        self.calls = 0

    def __call__(self, loops: int) -> float:
        scenario = self.scenario
        fixture = _fixture(scenario.orm, scenario.db, scenario.rows, scenario.seed)
        shape = shapes(scenario.orm)[scenario.shape]
        total_ms = 0.0
        probes = []
        for _ in range(loops):
            with getattr(fixture, shape.opens)() as handle:
                if scenario.freeze:
                    prepare_heap(True)
                else:
                    gc.collect()  # still free the previous loop's cycles, outside the timing
                self.policy.apply()
                with Probe() as probe:
                    loaded = shape.run(handle, scenario.load)
                self.policy.finish()  # the adaptive callback out before the next loop's apply
                del loaded
            total_ms += probe.result[self.timed_field]
            probes.append(probe.result)
        self.calls += 1
        if self.logs_call(self.calls):
            self._log(probes)
        return total_ms / 1e3

    def _log(self, probes: List[Dict[str, Any]]) -> None:
        path = os.environ.get(GC_LOG_ENV)
        if not path:
            return
        loops = [
            {
                "collections": result["collections"],
                "collected": result["collected"],
                "pause_total_ms": result["pause_ms"]["total"],
                "pause_max_ms": result["pause_ms"]["max"],
                "peak_rss_mb": result["peak_rss_mb"],
            }
            for result in probes
        ]
        line = json.dumps({"bench": self.name, "pid": os.getpid(), "loops": loops}) + "\n"
        with open(path, "a") as log:  # workers run one at a time; one write per value
            log.write(line)


def _median(values: List[float]) -> float:
    return statistics.median(values)


def gc_metadata(log_path: str, name: str) -> Dict[str, Any]:
    """Per-loop GC numbers of benchmark ``name`` from the log, as pyperf metadata."""
    loops: List[Dict[str, Any]] = []
    with open(log_path) as log:
        for line in log:
            entry = json.loads(line)
            if entry["bench"] == name:
                loops.extend(entry["loops"])
    if not loops:
        raise RuntimeError(f"no GC log from the workers of {name}")
    totals = [sum(loop["collections"]) for loop in loops]
    generations = len(loops[0]["collections"])
    per_generation = [
        _median([loop["collections"][g] for loop in loops]) for g in range(generations)
    ]
    return {
        "gc_collections": int(round(_median(totals))),
        "gc_collections_min": min(totals),
        "gc_collections_max": max(totals),
        "gc_collections_per_generation": "/".join(f"{count:g}" for count in per_generation),
        "gc_collected": int(round(_median([loop["collected"] for loop in loops]))),
        "gc_pause_ms_total": round(_median([loop["pause_total_ms"] for loop in loops]), 3),
        "gc_pause_ms_max": round(max(loop["pause_max_ms"] for loop in loops), 3),
        "peak_rss_mb": round(_median([loop["peak_rss_mb"] for loop in loops]), 1),
        "gc_loops_measured": len(loops),
    }
