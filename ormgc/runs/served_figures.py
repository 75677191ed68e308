"""A served run's record (the load generator's answers and the workers' own logs, lined up on
one clock, CLOCK_MONOTONIC, and cut to the measured window), and a policy's rounds folded into
one record with paired ratios to the baseline.

Client side (``loadgen.latency_figures``): throughput, latency percentiles from the due times,
errors, saturation. Server side, per worker: the settings it ran with (read back in the
worker), collections per generation and the collector's time in the window, the part of that
time that fell inside requests, CPU per request, and PSS/USS/RSS over the window.
"""

from __future__ import annotations

import os
import platform
import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ormgc.runs import loadgen
from ormgc.runs.served_config import ServedPolicy
from ormgc.views.stats import paired_ratio, versus

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
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus)",
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


# Figures folded across rounds (medians) and compared with the baseline's (paired ratios).
_MEDIANS = (
    "throughput_rps", "client_cpu_pct", "collections_total", "gc_ms", "gc_pause_max_ms",
    "gc_ms_in_requests",
    "gc_ms_per_request", "collections_per_request", "cpu_ms_per_request", "worker_pss_mb",
    "worker_uss_mb", "worker_rss_mb", "slow_with_gc_share", "requests_with_gc_share",
)  # fmt: skip
RATIOS = (("p99", "p99_vs_baseline"), ("throughput_rps", "throughput_vs_baseline"),
          ("worker_pss_mb", "pss_vs_baseline"))  # fmt: skip


def _round_figures(run: Dict[str, Any]) -> Dict[str, Any]:
    kept = {field: run[field] for field in _MEDIANS}
    kept.update(p99=run["latency_ms"]["p99"], latency_ms=run["latency_ms"])
    kept.update(errors_total=run["errors_total"], saturated=run["saturated"])
    kept.update(collections=run["collections"], load_average=run.get("load_average"))
    return kept


def fold(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One record from a policy's rounds: the first run's description, medians of the
    figures, every round kept (``runs``) for the paired ratios."""
    record = {key: value for key, value in runs[0].items() if key != "per_worker"}
    record["per_worker"] = runs[-1]["per_worker"]  # the last round's workers, timelines and all
    rounds = [_round_figures(run) for run in runs]
    for field in _MEDIANS:
        values = [value for value in (r[field] for r in rounds) if value is not None]
        record[field] = statistics.median(values) if values else None
    record["latency_ms"] = {
        key: statistics.median(r["latency_ms"][key] for r in rounds)
        for key in rounds[0]["latency_ms"]
    }
    record["errors_total"] = sum(r["errors_total"] for r in rounds)
    saturated = [
        r["saturated"] for r in rounds if r["saturated"]["server"] or r["saturated"]["client"]
    ]
    record["saturated_rounds"] = len(saturated)
    record["saturated"] = {  # over every round: whether any saturated, and why
        "server": any(s["server"] for s in saturated),
        "client": any(s["client"] for s in saturated),
        "why": list(dict.fromkeys(why for s in saturated for why in s["why"])),
    }
    record["repeat"] = len(runs)
    record["runs"] = rounds
    return record


def attach_ratios(records: List[Dict[str, Any]], baseline: Optional[str]) -> None:
    """p99, throughput and worker PSS of each policy over the baseline's, paired by round."""
    base = next((record for record in records if record["policy"] == baseline), None)
    if base is None:
        return
    for record in records:
        for field, key in RATIOS:
            mine = [run[field] for run in record["runs"]]
            theirs = [run[field] for run in base["runs"]]
            if None in mine or None in theirs:
                continue
            record[key] = versus(baseline, *paired_ratio(mine, theirs))
