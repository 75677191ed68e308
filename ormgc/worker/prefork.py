"""The prefork shape: a parent that warms the app up, then W forked workers serving requests.

As gunicorn, uWSGI or Celery run an app: the parent imports the ORM, builds its models and keeps
a warm working set alive at module level (``WARM_SET``), applies the policy, optionally runs the
freeze recipe (``gc.collect()``, ``gc.freeze()``, then fork: objects a collection never touches
keep their pages shared copy-on-write), and forks. Each worker serves the ORM's request loop under
a probe and a timeline that also reads its PSS, USS and shared memory, and sends its figures back
through a pipe. Workers are always reaped: they die with the parent (PR_SET_PDEATHSIG), the
parent kills and waits for the rest when one fails or it is interrupted.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import select
import signal
import time
from typing import Any, Dict, List, NamedTuple, Tuple

from orm_fixtures import FixtureError, open_fixture, request_shapes, shapes
from orm_fixtures.request_loop import RequestLoop
from ormgc.worker.policies import Policy, prepare_heap
from ormgc.worker.probe import Probe, percentile
from ormgc.worker.requests import request_figures
from ormgc.worker.timeline import DEFAULT_EVERY, Timeline, read_smaps_kb
from ormgc.worker.workload import describe_signal

PREFORK_DOC = "W workers forked from a warmed-up parent, each serving request_loop (--workers)"
DEFAULT_WORKERS = 2  # fits the 2 cores of the machines this suite runs on
WARM_SHAPE = "seed_loop"  # every ORM has it: the working set the parent keeps (LOAD objects)
WARM_SET: List[Any] = []  # module-level state, as real apps keep caches and loaded config
_PR_SET_PDEATHSIG = 1


class Pipes(NamedTuple):
    """A worker's ends: where it writes its figures, and the release it waits for."""

    out: int
    release_read: int
    release_write: int  # the parent's end: each worker closes its copy at once


PARENT_AT_END: Dict[str, float] = {}  # the parent's memory while every worker is still alive


class Outcome(NamedTuple):
    """What ``measure`` needs from a run: ``result`` holds the probe-like figures."""

    result: Dict[str, Any]


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies, however it dies (Linux)."""
    # Not Linux: no prctl; the parent's own clean-up still reaps on errors and Ctrl-C.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the prctl: nobody will read us
        os._exit(1)


def _mb(kb: int) -> float:
    return kb / 1024


def _serve(spec: Dict[str, Any], fixture: Any, index: int) -> Dict[str, Any]:
    """One worker's request loop, measured; its figures as a dict (no timeline objects)."""
    shape = request_shapes(spec["orm"])["request_loop"]
    timeline = Timeline(spec["requests"], spec.get("timeline_every") or DEFAULT_EVERY, shared=True)
    loop = RequestLoop(
        getattr(fixture, shape.opens),
        spec["rows"],
        spec["requests"],
        spec["per_request"],
        timeline.sample,
        timeline.every,
    )
    probe = Probe()
    timeline.attach(probe)
    with probe:
        loaded = shape.run(loop, loop.per_request)
    timeline.close()
    pss, uss, shared = read_smaps_kb()
    samples = timeline.records()
    result = probe.result
    figures = {
        "worker": index,
        "pid": os.getpid(),
        "uss_mb": _mb(uss),
        "pss_mb": _mb(pss),
        "shared_mb": _mb(shared),
        "peak_uss_mb": max([_mb(uss)] + [s["uss_mb"] for s in samples]),
        "peak_pss_mb": max([_mb(pss)] + [s["pss_mb"] for s in samples]),
        "collections": result["collections"],
        "collections_total": result["collections_total"],
        "collected": result["collected"],
        "uncollectable": result["uncollectable"],
        "gc_ms": result["pause_ms"]["total"],
        "pause_ms": result["pause_ms"],
        "pauses_ms": [ns / 1e6 for ns in probe.pauses_ns],
        "wall_ms": result["wall_ms"],
        "cpu_ms": result["cpu_ms"],
        "peak_rss_mb": result["peak_rss_mb"],
        "rss_end_mb": result["rss_end_mb"],
        "loaded": loaded,
        "rss_timeline": samples,
    }
    figures.update(request_figures(loop.stamps, probe))
    return figures


def _worker(spec: Dict[str, Any], fixture: Any, index: int, parent: int, pipes: Pipes) -> None:
    """The forked child: serve, write the figures (or one error line), wait for the release
    (so every worker's end figures see its siblings alive), exit."""
    code = 1
    os.close(pipes.release_write)
    try:
        _die_with_parent(parent)
        answer = _serve(spec, fixture, index)
        code = 0
    except BaseException as exc:  # Ctrl-C included: the parent reports, the worker just ends
        answer = {"error": f"worker {index}: {type(exc).__name__}: {exc}".rstrip(": ")}
    try:
        data = json.dumps(answer).encode()
        while data:
            data = data[os.write(pipes.out, data) :]
        os.close(pipes.out)
        os.read(pipes.release_read, 1)  # EOF when the parent has every answer (or dies)
    finally:
        os._exit(code)  # never back into the parent's code (its finally blocks, atexit)


def _gather(running: Dict[int, int]) -> Dict[int, bytes]:
    """Every worker's answer, read as it comes (select): a worker that dies early is seen at
    once, whichever it is, not after its siblings' long loops."""
    chunks: Dict[int, List[bytes]] = {pid: [] for pid in running}
    open_ends = {read_end: pid for pid, read_end in running.items()}
    while open_ends:
        ready, _, _ = select.select(list(open_ends), [], [])
        for read_end in ready:
            chunk = os.read(read_end, 1 << 16)
            pid = open_ends[read_end]
            if chunk:
                chunks[pid].append(chunk)
                continue
            del open_ends[read_end]  # EOF: that worker has answered, or died
            if not chunks[pid]:
                return {pid: b""}
    return {pid: b"".join(parts) for pid, parts in chunks.items()}


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)} ({describe_signal(os.WTERMSIG(status))})"
    return f"exit code {os.WEXITSTATUS(status)}"


def fork_workers(spec: Dict[str, Any], fixture: Any, count: int) -> List[Dict[str, Any]]:
    """Fork ``count`` workers, collect their figures; kill and reap them all on any failure.
    The parent's memory with every worker alive goes into ``PARENT_AT_END``."""
    running: Dict[int, int] = {}  # pid -> read end of its pipe
    parent = os.getpid()
    release_read, release_write = os.pipe()
    try:
        for index in range(count):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                _worker(spec, fixture, index, parent, Pipes(write_end, release_read, release_write))
            os.close(write_end)
            running[pid] = read_end
        answers = []
        indexes = {pid: index for index, pid in enumerate(running)}
        for pid, data in _gather(running).items():
            answer = json.loads(data) if data else {}
            if "error" in answer:
                raise FixtureError(answer["error"])
            if not answer:
                _, status = os.waitpid(pid, 0)
                os.close(running.pop(pid))
                raise FixtureError(
                    f"prefork worker {indexes[pid]} (pid {pid}) died: {_status(status)}"
                )
            answers.append(answer)
        PARENT_AT_END.update(_memory("parent_end_"))
        os.close(release_write)
        release_write = -1
        for pid in list(running):
            _, status = os.waitpid(pid, 0)
            os.close(running.pop(pid))
            if status != 0:
                raise FixtureError(
                    f"prefork worker {indexes[pid]} (pid {pid}) failed: {_status(status)}"
                )
        return answers
    finally:
        for pid, read_end in running.items():  # what is left failed or was interrupted
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
        for fd in (release_read, release_write):
            if fd >= 0:
                os.close(fd)


def _totals(workers: List[Dict[str, Any]]) -> Dict[str, Any]:
    keys = ("uss_mb", "pss_mb", "shared_mb", "peak_uss_mb", "peak_pss_mb", "gc_ms", "cpu_ms")
    totals: Dict[str, Any] = {key: sum(w[key] for w in workers) for key in keys}
    totals["collections_total"] = sum(w["collections_total"] for w in workers)
    return totals


def _memory(prefix: str = "") -> Dict[str, float]:
    pss, uss, shared = read_smaps_kb()
    return {
        f"{prefix}pss_mb": _mb(pss),
        f"{prefix}uss_mb": _mb(uss),
        f"{prefix}shared_mb": _mb(shared),
    }


def run_prefork(
    spec: Dict[str, Any], policy: Policy
) -> Tuple[Dict[str, Any], Dict[str, Any], Outcome, int, Dict[str, Any]]:
    """The parent's side: warm up, policy, freeze or not, fork, gather; measure's Outcome."""
    fixture = open_fixture(spec["orm"], spec["db"], spec["rows"], spec["seed"])
    if fixture.count_entries() <= 0:
        raise FixtureError("the dataset is empty")
    warm = shapes(spec["orm"])[WARM_SHAPE]
    with getattr(fixture, warm.opens)() as handle:
        WARM_SET[:] = warm.run(handle, spec["load"])
    description = fixture.describe()
    fixture.close()  # no database connection crosses the fork: each worker opens its own
    policy.apply()
    heap = prepare_heap(spec["freeze"])  # the recipe: collect, freeze, then fork
    parent = _memory("parent_")
    parent_collections = [s["collections"] for s in gc.get_stats()]
    wall0 = time.perf_counter_ns()
    workers = fork_workers(spec, fixture, spec.get("workers") or DEFAULT_WORKERS)
    wall_ms = (time.perf_counter_ns() - wall0) / 1e6
    after = [s["collections"] for s in gc.get_stats()]
    extra = {"adaptive": policy.finish(), "workers": workers, "workers_total": _totals(workers)}
    extra.update(parent, warm_objects=len(WARM_SET), per_request=spec["per_request"])
    extra.update(PARENT_AT_END)
    extra["parent_collections_total"] = sum(a - b for a, b in zip(after, parent_collections))
    extra["timeline_every"] = spec.get("timeline_every") or DEFAULT_EVERY
    extra["rss_timeline"] = workers[0]["rss_timeline"]  # worker 0's, as the request loop's
    for field in ("requests", "request_ms", "request_pause_ms", "requests_with_collections"):
        extra[field] = workers[0][field]
    gc.enable()
    loaded = sum(w["loaded"] for w in workers)
    summary = _summary(workers, wall_ms)
    for worker in workers:
        del worker["pauses_ms"]  # summarised: the record keeps percentiles, not every pause
    return description, heap, Outcome(summary), loaded, extra


def _summary(workers: List[Dict[str, Any]], wall_ms: float) -> Dict[str, Any]:
    """The probe fields of the record, over all workers: counts summed per generation."""
    collections = [sum(counts) for counts in zip(*(w["collections"] for w in workers))]
    pauses = sorted(p for w in workers for p in w["pauses_ms"])
    return {
        "collections": collections,
        "collections_total": sum(collections),
        "collected": sum(w["collected"] for w in workers),
        "uncollectable": sum(w["uncollectable"] for w in workers),
        "pause_ms": {
            "total": sum(pauses),
            "max": pauses[-1] if pauses else 0.0,
            "p50": percentile(pauses, 0.50),
            "p99": percentile(pauses, 0.99),
        },
        "wall_ms": wall_ms,
        "cpu_ms": sum(w["cpu_ms"] for w in workers),
        "peak_rss_mb": max(w["peak_rss_mb"] for w in workers),
        "rss_delta_mb": 0.0,
        "rss_end_mb": max(w["rss_end_mb"] for w in workers),
        "peak_rss_method": "per-worker VmHWM (max)",
        "gc_threshold_before": list(gc.get_threshold()),
        "gc_threshold_after": list(gc.get_threshold()),
    }
