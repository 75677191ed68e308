"""Inside each gunicorn worker of the served shape: the collector's time, request by request.

``wrap(app)`` puts a thin WSGI layer around the app. For every request it notes the start and
end (CLOCK_MONOTONIC, as the load generator's clock), the worker's CPU time and the collections
that ran inside it (``gc.callbacks``), adds them as response headers (``X-Ormgc-Slot`` echoes
the load generator's request number, ``X-Ormgc-Gc-Us``/``-Gc-N`` the collector's time and
collections inside the request, ``X-Ormgc-Pid`` the worker) and keeps them in preallocated
arrays (untracked by the GC: recording adds nothing for the collector to scan). Every collection
is kept too, in or out of a request, so the driver can count those of its measured window.

The gunicorn config ``ormgc`` writes calls ``worker_started()`` in ``post_fork``, after the
policy is applied (it reads back what the worker really runs with), and ``dump(folder)`` in
``worker_exit``. ``GET /_ormgc/worker`` answers a live worker's settings.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import time
from array import array
from typing import Any, Callable, Dict, Iterable, List

MAX_REQUESTS = 100_000  # per worker and run: the driver bounds a run's requests below this
MAX_COLLECTIONS = 100_000
INFO_PATH = "/_ormgc/worker"

_now = time.monotonic_ns  # CLOCK_MONOTONIC: the clock of the load generator's due times
_cpu = time.thread_time_ns  # a sync worker serves one request at a time, in this thread


class _Log:
    """Fixed-size arrays of what happened, filled in order; ``count`` may pass the size (what
    did not fit is counted, not kept)."""

    def __init__(self, size: int, fields: Iterable[str]) -> None:
        self.count = 0
        self.size = size
        self.columns = {name: array("q", bytes(8 * size)) for name in fields}

    def add(self, *values: int) -> None:
        if self.count < self.size:
            for column, value in zip(self.columns.values(), values):
                column[self.count] = value
        self.count += 1

    def rows(self) -> Dict[str, List[int]]:
        kept = min(self.count, self.size)
        return {name: column[:kept].tolist() for name, column in self.columns.items()}


class _State:
    def __init__(self, requests: int = 0, collections: int = 0) -> None:
        self.requests = _Log(requests, ("start", "end", "cpu", "gc_ns", "gc_n", "slot"))
        self.collections = _Log(collections, ("start", "duration", "generation"))
        self.gc_ns = 0
        self.gc_started = 0
        self.settings: Dict[str, Any] = {}


# Until a worker starts: counts only, no arrays (the master and an importing driver need none;
# each worker allocates its own in worker_started).
_STATE = _State()


def _on_gc(phase: str, info: Dict[str, Any]) -> None:
    now = _now()
    if phase == "start":
        _STATE.gc_started = now
        return
    spent = now - _STATE.gc_started
    _STATE.gc_ns += spent
    _STATE.collections.add(_STATE.gc_started, spent, info["generation"])


def applied_settings(policy: str) -> Dict[str, Any]:
    """What this process runs with, read back from the interpreter (not from the config)."""
    from ormgc import adaptive

    return {
        "pid": os.getpid(),
        "python": platform.python_version(),
        "policy": policy,
        "thresholds": list(gc.get_threshold()),
        "enabled": gc.isenabled(),
        "frozen_objects": gc.get_freeze_count(),
        "adaptive": adaptive.installed() is not None,
    }


def worker_started(policy: str) -> None:
    """``post_fork``, after the policy: forget the master's collections, note the settings."""
    global _STATE
    _STATE = _State(MAX_REQUESTS, MAX_COLLECTIONS)
    _STATE.settings = applied_settings(policy)
    _STATE.settings["started_ns"] = _now()
    _STATE.settings["cpu_started_ns"] = time.process_time_ns()
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def dump(folder: str) -> None:
    """``worker_exit``: this worker's settings, requests and collections, as one JSON file
    (written under a temporary name, then renamed: a reader never sees half of it)."""
    state = _STATE
    answer = dict(state.settings)
    answer.update(
        stopped_ns=_now(),
        cpu_ns=time.process_time_ns() - answer.get("cpu_started_ns", 0),
        requests=state.requests.rows(),
        requests_seen=state.requests.count,
        collections=state.collections.rows(),
        collections_seen=state.collections.count,
        gc_stats=gc.get_stats(),
    )
    from ormgc import adaptive

    rule = adaptive.installed()
    answer["adaptive_summary"] = rule.summary() if rule is not None else None
    path = os.path.join(folder, f"worker-{os.getpid()}.json")
    with open(path + ".tmp", "w") as out:
        json.dump(answer, out)
    os.replace(path + ".tmp", path)


def wrap(app: Callable[..., Iterable[bytes]]) -> Callable[..., List[bytes]]:
    """The app with each request's collector time noted and sent back in headers."""

    def measured(environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        if environ.get("PATH_INFO") == INFO_PATH:
            live = dict(_STATE.settings, thresholds=list(gc.get_threshold()))
            body = json.dumps(live).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        state = _STATE
        before_n, before_ns = state.collections.count, state.gc_ns
        start, cpu = _now(), _cpu()
        answered: List[Any] = []
        result = app(environ, lambda status, headers, *_: answered.extend((status, headers)))
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        end = _now()
        gc_n, gc_ns = state.collections.count - before_n, state.gc_ns - before_ns
        query = environ.get("QUERY_STRING", "")
        slot = query[5:] if query.startswith("slot=") and query[5:].isdigit() else "-1"
        state.requests.add(start, end, _cpu() - cpu, gc_ns, gc_n, int(slot[:15]))
        status, headers = answered
        start_response(
            status,
            list(headers)
            + [
                ("X-Ormgc-Slot", slot),
                ("X-Ormgc-Gc-Us", str(gc_ns // 1000)),
                ("X-Ormgc-Gc-N", str(gc_n)),
                ("X-Ormgc-Pid", str(os.getpid())),
            ],
        )
        return [body]

    return measured


def application_from_env() -> Callable[..., List[bytes]]:
    """The wrapped app of ``$ORMGC_SERVED_SPEC`` (JSON: orm, db, rows, seed, per_request,
    load), built in gunicorn's master when it preloads ``ormgc.worker.served_wsgi``."""
    from orm_fixtures.served_app import build

    spec = json.loads(os.environ["ORMGC_SERVED_SPEC"])
    served = build(
        spec["orm"], spec["db"], spec["rows"], spec["seed"], spec["per_request"], spec["load"]
    )
    return wrap(served.wsgi)
