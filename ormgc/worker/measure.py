"""Runs inside the measured interpreter: one dataset build or one measurement per process.

GC state depends on everything a process did before, so each measurement gets a fresh one.
Usage (by the runner only): ``python -m ormgc.worker.measure RESULT_PATH`` with the spec as JSON on
stdin (never on the command line: it may hold a database password).
"""

from __future__ import annotations

import datetime
import gc
import json
import os
import platform
import sys
from typing import Any, Dict

from orm_fixtures import FixtureError, open_fixture, shapes
from ormgc.worker.policies import parse_policy, prepare_heap
from ormgc.worker.probe import Probe, gc_identity, interpreter_identity

EXIT_FIXTURE_ERROR = 3


def measure(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Load ``spec['load']`` objects with one shape under one policy; return the record."""
    identity = gc_identity()  # before the policy touches anything: the interpreter's defaults
    policy = parse_policy(spec["policy"])
    shape = shapes(spec["orm"])[spec["shape"]]
    fixture = open_fixture(spec["orm"], spec["db"], spec["rows"], spec["seed"])
    if fixture.count_entries() <= 0:  # the seed checked count() before querying
        raise FixtureError("the dataset is empty")
    with getattr(fixture, shape.opens)() as handle:
        heap = prepare_heap(spec["freeze"])
        policy.apply()
        with Probe() as probe:
            loaded = shape.run(handle, spec["load"])
        count = len(loaded)
        del loaded
    gc.enable()
    fixture.close()
    record: Dict[str, Any] = {
        "python": identity["python"],
        "python_build": identity["python_build"],
        "python_executable": sys.executable,
        **interpreter_identity(),
        "gc_generations": identity["gc_generations"],
        "gc_threshold_default": identity["gc_threshold"],
        "gc_threshold": probe.result["gc_threshold_before"],
    }
    record.update(fixture.describe())
    record.update(
        {
            "shape": spec["shape"],
            "rows": spec["rows"],
            "seed": spec["seed"],
            "loaded": count,
            "policy": policy.name,
            "profile": spec["profile"],
        }
    )
    record.update(heap)
    record.update(probe.result)
    record.update(
        {
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus)",
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return record


def prepare(spec: Dict[str, Any]) -> Dict[str, Any]:
    fixture = open_fixture(spec["orm"], spec["db"], spec["rows"], spec["seed"])
    fixture.ensure()
    description = fixture.describe()
    fixture.close()
    return description


def main(argv: Any = None) -> int:
    (result_path,) = argv or sys.argv[1:]
    spec = json.loads(sys.stdin.read())
    try:
        result = prepare(spec) if spec["action"] == "prepare" else measure(spec)
        code = 0
    except FixtureError as exc:
        result, code = {"error": str(exc)}, EXIT_FIXTURE_ERROR
    with open(result_path, "w") as handle:
        json.dump(result, handle)
    return code


if __name__ == "__main__":
    sys.exit(main())
