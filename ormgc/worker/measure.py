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
from typing import Any, Callable, Dict, Optional, Tuple

from orm_fixtures import (
    PREFORK_SHAPE,
    FixtureError,
    mask_password,
    open_fixture,
    request_shapes,
    shapes,
)
from orm_fixtures.request_loop import RequestLoop
from ormgc.worker.policies import Policy, parse_policy, prepare_heap
from ormgc.worker.prefork import run_prefork
from ormgc.worker.probe import Probe, gc_identity, interpreter_identity
from ormgc.worker.requests import request_figures
from ormgc.worker.server_cpu import ServerCpu
from ormgc.worker.timeline import DEFAULT_EVERY, Timeline
from ormgc.worker.workload import (
    WorkloadError,
    describe_error,
    describe_exit,
    library_versions,
    loaded_count,
    prepared,
)

EXIT_FIXTURE_ERROR = 3
EXIT_WORKLOAD_ERROR = 4


Stage = Callable[[str], None]
Outcome = Tuple[Dict[str, Any], Dict[str, Any], Probe, Optional[int], Dict[str, Any]]


def _run_shape(spec: Dict[str, Any], policy: Policy) -> Outcome:
    """One of our shapes on our dataset: (description, heap, probe, loaded, extra figures)."""
    fixture = open_fixture(spec["orm"], spec["db"], spec["rows"], spec["seed"])
    if fixture.count_entries() <= 0:  # the seed checked count() before querying
        raise FixtureError("the dataset is empty")
    extra: Dict[str, Any] = {}
    server = ServerCpu.locate(spec, fixture)  # before the heap is prepared: see server_cpu
    if spec["shape"] in request_shapes(spec["orm"]):
        shape = request_shapes(spec["orm"])[spec["shape"]]
        timeline = Timeline(spec["requests"], spec.get("timeline_every") or DEFAULT_EVERY)
        loop = RequestLoop(
            getattr(fixture, shape.opens),
            spec["rows"],
            spec["requests"],
            spec["per_request"],
            timeline.sample,
            timeline.every,
        )
        heap = prepare_heap(spec["freeze"])
        policy.apply()
        server.start()
        probe = Probe()
        timeline.attach(probe)
        with probe:
            count = shape.run(loop, loop.per_request)
        extra["adaptive"] = policy.finish()
        server.stop()
        timeline.close()
        extra.update(request_figures(loop.stamps, probe))
        extra.update(per_request=loop.per_request, timeline_every=timeline.every)
        extra["rss_timeline"] = timeline.records()
    else:
        shape = shapes(spec["orm"])[spec["shape"]]
        with getattr(fixture, shape.opens)() as handle:
            heap = prepare_heap(spec["freeze"])
            policy.apply()
            server.start()
            with Probe() as probe:
                loaded = shape.run(handle, spec["load"])
            extra["adaptive"] = policy.finish()
            server.stop()
            server.check_backend(handle)
            count = len(loaded)
            del loaded
    gc.enable()
    fixture.close()
    extra.update(server.result(probe.result["wall_ms"], probe.result["cpu_ms"]))
    return fixture.describe(), heap, probe, count, extra


def _run_workload(spec: Dict[str, Any], policy: Policy, stage: Stage) -> Outcome:
    """The user's workload (``--workload``): same steps, their setup and callable."""
    if spec.get("orm") == "mongoengine":  # the server ormgc started (or was given) for them
        os.environ["ORMGC_MONGODB_URL"] = spec["db"]
    stage(f"workload {spec['workload']}: its import or setup")
    with prepared(spec["workload"]) as call:
        stage(f"workload {spec['workload']}: the measured call")  # before the heap is prepared
        heap = prepare_heap(spec["freeze"])
        policy.apply()
        try:
            with Probe() as probe:
                loaded = call()
        except (Exception, SystemExit) as exc:
            policy.finish()
            gc.enable()
            how = (
                describe_exit(exc)
                if isinstance(exc, SystemExit)
                else f"raised {describe_error(exc, spec['workload'])}"
            )
            raise WorkloadError(f"workload {spec['workload']}: the measured call {how}") from None
        adaptive = policy.finish()
        count = loaded_count(loaded)
        del loaded
        gc.enable()
        stage(f"workload {spec['workload']}: its clean-up after the yield")
    stage("")
    versions = library_versions()
    description = {
        "orm": spec.get("orm") or "workload",
        "orm_version": versions.get(spec.get("orm") or "", ""),
        "libraries": versions,
        "driver": "",
        "driver_version": "",
        "backend": mask_password(spec.get("db") or ""),
        "workload": spec["workload"],
        "rows": None,  # the workload's own data: nothing of ours
        "seed": None,
    }
    return description, heap, probe, count, {"adaptive": adaptive}


def measure(spec: Dict[str, Any], stage: Stage = lambda where: None) -> Dict[str, Any]:
    """Measure one shape, or the user's workload, under one policy; return the record."""
    identity = gc_identity()  # before the policy touches anything: the interpreter's defaults
    policy = parse_policy(spec["policy"])
    if spec.get("workload"):
        description, heap, probe, count, extra = _run_workload(spec, policy, stage)
    elif spec.get("shape") == PREFORK_SHAPE:
        description, heap, probe, count, extra = run_prefork(spec, policy)
    else:
        description, heap, probe, count, extra = _run_shape(spec, policy)
    record: Dict[str, Any] = {
        "python": identity["python"],
        "python_build": identity["python_build"],
        "python_executable": sys.executable,
        **interpreter_identity(),
        "gc_generations": identity["gc_generations"],
        "gc_threshold_default": identity["gc_threshold"],
        "gc_threshold": probe.result["gc_threshold_before"],
    }
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
    record.update(description)
    record.update(heap)
    record.update(probe.result)
    record.update(extra)
    record["gc_changed_by_workload"] = _gc_changed(policy, probe)
    record.update(
        {
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus)",
            "load_average": list(os.getloadavg()),  # 1, 5, 15 min: how shared the machine was
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return record


def _gc_changed(policy: Policy, probe: Any) -> Optional[Dict[str, Any]]:
    """The GC as the measured call left it, where that is not the policy's (a workload that
    calls gc.set_threshold or gc.disable itself), else None. Prefork workers run our own
    shape and report no enabled state: None."""
    if getattr(probe, "enabled_after", None) is None:
        return None
    result = probe.result
    return policy.changed_by_workload(
        (result["gc_threshold_before"], probe.enabled_before),
        (result["gc_threshold_after"], probe.enabled_after),
    )


def prepare(spec: Dict[str, Any]) -> Dict[str, Any]:
    fixture = open_fixture(spec["orm"], spec["db"], spec["rows"], spec["seed"])
    fixture.ensure()
    description = fixture.describe()
    fixture.close()
    return description


def _stage_in(result_path: str) -> Stage:
    """Say in the result file which part of a workload runs: if it ends the process
    (``os._exit``, a signal) the runner names that part (``ormgc.runs.runner``)."""

    def stage(where: str) -> None:
        with open(result_path, "w") as handle:
            json.dump({"stage": where} if where else {}, handle)

    return stage


def main(argv: Any = None) -> int:
    (result_path,) = argv or sys.argv[1:]
    spec = json.loads(sys.stdin.read())
    try:
        if spec["action"] == "prepare":
            result = prepare(spec)
        else:
            result = measure(spec, _stage_in(result_path))
        code = 0
    except FixtureError as exc:
        result, code = {"error": str(exc)}, EXIT_FIXTURE_ERROR
    except WorkloadError as exc:
        result, code = {"error": str(exc)}, EXIT_WORKLOAD_ERROR
    with open(result_path, "w") as handle:
        json.dump(result, handle)
    return code


if __name__ == "__main__":
    sys.exit(main())
