"""A served run's record: the load generator's answers and the workers' own logs, lined up on
one clock (CLOCK_MONOTONIC) and cut to the measured window.

Client side (``loadgen.latency_figures``): throughput, latency percentiles from the due times,
errors, saturation. Server side, per worker: the settings it ran with (read back in the
worker), collections per generation and the collector's time in the window, the part of that
time that fell inside requests, CPU per request, and PSS/USS/RSS over the window.
"""

from __future__ import annotations

import statistics
from typing import Any, Dict, List, Sequence, Tuple

from ormgc.runs import loadgen
from ormgc.runs.served_config import ServedPolicy

_GENERATIONS = 3


def _in_window(log: Dict[str, List[int]], start: int, end: int) -> List[int]:
    """Indexes of a worker log's entries that started inside [start, end)."""
    return [i for i, when in enumerate(log["start"]) if start <= when < end]


def _worker(dump: Dict[str, Any], window: Tuple[int, int]) -> Dict[str, Any]:
    start, end = window
    requests, collections = dump["requests"], dump["collections"]
    served = _in_window(requests, start, end)
    ran = _in_window(collections, start, end)
    per_generation = [0] * _GENERATIONS
    for i in ran:
        per_generation[min(collections["generation"][i], _GENERATIONS - 1)] += 1
    gc_ms = sum(collections["duration"][i] for i in ran) / 1e6
    in_requests_ms = sum(requests["gc_ns"][i] for i in served) / 1e6
    cpu_ms = [requests["cpu"][i] / 1e6 for i in served]
    return {
        "pid": dump["pid"],
        "python": dump.get("python"),
        "thresholds": dump["thresholds"],
        "enabled": dump["enabled"],
        "frozen_objects": dump["frozen_objects"],
        "adaptive": dump.get("adaptive_summary"),
        "requests": len(served),
        "collections": per_generation,
        "collections_total": len(ran),
        "gc_ms": gc_ms,
        "gc_pause_max_ms": max((collections["duration"][i] for i in ran), default=0) / 1e6,
        "gc_ms_in_requests": in_requests_ms,
        "cpu_ms_per_request": statistics.median(cpu_ms) if cpu_ms else 0.0,
        "log_overflow": dump["requests_seen"] > len(requests["start"])
        or dump["collections_seen"] > len(collections["start"]),
    }


def _memory(samples: Sequence[Tuple[int, int, int, int, int]], pids: List[int], start: int):
    """Per worker: the last and the highest PSS/USS/RSS (MB) and the timeline."""
    per_worker = {}
    for pid in pids:
        mine = [s for s in samples if s[1] == pid]
        if not mine:
            continue
        per_worker[pid] = {
            "pss_mb": mine[-1][2] / 1024,
            "uss_mb": mine[-1][3] / 1024,
            "rss_mb": mine[-1][4] / 1024,
            "peak_pss_mb": max(s[2] for s in mine) / 1024,
            "timeline": [
                {"t_s": round((s[0] - start) / 1e9, 3), "pss_mb": s[2] / 1024,
                 "uss_mb": s[3] / 1024, "rss_mb": s[4] / 1024}
                for s in mine
            ],
        }  # fmt: skip
    return per_worker


def record(
    scenario: Any,
    served: ServedPolicy,
    client: loadgen.ClientRun,
    requested: int,
    dumps: List[Dict[str, Any]],
    samples: Sequence[Tuple[int, int, int, int, int]],
    window: Tuple[int, int],
) -> Dict[str, Any]:
    """The record of one served run (see docs/reference/records.md, served fields)."""
    workers = [_worker(dump, window) for dump in dumps]
    memory = _memory(samples, [worker["pid"] for worker in workers], window[0])
    for worker in workers:
        worker.update(memory.get(worker["pid"], {}))
    served_requests = sum(worker["requests"] for worker in workers)
    figures = loadgen.latency_figures(client, requested, scenario.rate)
    measured = [worker for worker in workers if "pss_mb" in worker]
    in_requests = sum(worker["gc_ms_in_requests"] for worker in workers)
    return {
        "shape": "served",
        "orm": scenario.orm,
        "policy": served.name,
        "freeze": served.freeze,
        "workers": scenario.workers,
        "rows": scenario.rows,
        "load": scenario.load,
        "per_request": scenario.per_request,
        "duration_s": scenario.duration_s,
        "warmup_s": scenario.warmup_s,
        "clients": scenario.clients,
        "connections": scenario.connections,
        "python": next((w["python"] for w in workers if w.get("python")), None),
        **figures,
        "collections": [sum(w["collections"][g] for w in workers) for g in range(_GENERATIONS)],
        "collections_total": sum(worker["collections_total"] for worker in workers),
        "gc_ms": sum(worker["gc_ms"] for worker in workers),
        "gc_pause_max_ms": max(worker["gc_pause_max_ms"] for worker in workers),
        "gc_ms_in_requests": in_requests,
        "gc_ms_per_request": in_requests / served_requests if served_requests else 0.0,
        "collections_per_request": (
            sum(w["collections_total"] for w in workers) / served_requests
            if served_requests
            else 0.0
        ),
        "cpu_ms_per_request": statistics.median([w["cpu_ms_per_request"] for w in workers]),
        "worker_pss_mb": statistics.fmean([w["pss_mb"] for w in measured]) if measured else None,
        "worker_uss_mb": statistics.fmean([w["uss_mb"] for w in measured]) if measured else None,
        "worker_rss_mb": statistics.fmean([w["rss_mb"] for w in measured]) if measured else None,
        "per_worker": workers,
    }
