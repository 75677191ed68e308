"""One record from the K repeats of a scenario and policy: counts checked equal, medians of
the timings, every run kept (``record["runs"]``) for the paired ratios.

GC counts must be identical across repeats of the same scenario (same interpreter, libraries,
dataset, shape, policy); ``counts_warning`` says which part differs when they are not.
"""

from __future__ import annotations

import statistics
from typing import Any, Dict, List

_MEDIAN_FIELDS = ("wall_ms", "cpu_ms", "peak_rss_mb", "rss_delta_mb")
_SPLIT_FIELDS = ("server_cpu_ms", "wait_ms")  # ormgc.worker.server_cpu
_PAUSE_FIELDS = ("total", "max", "p50", "p99")


def _median(values: List[float]) -> float:
    return statistics.median(values) if values else 0.0


def _median_of(runs: List[Dict[str, Any]], field: str) -> Any:
    """The median of a number, or of each entry of a dict of numbers, across runs."""
    if isinstance(runs[0][field], dict):
        return {key: _median([run[field][key] for run in runs]) for key in runs[0][field]}
    return _median([run[field] for run in runs])


def aggregate(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One record from K runs: counts from the first (checked equal), medians of the rest."""
    record = dict(runs[0])
    if "instructions" in record:  # --exact: every run's count, and whether they agree
        counts = [run["instructions"] for run in runs]
        record.update(instructions_runs=counts, instructions_identical=len(set(counts)) == 1)
    for field in _MEDIAN_FIELDS:
        record[field] = _median([run[field] for run in runs])
    record["pause_ms"] = {
        key: _median([run["pause_ms"][key] for run in runs]) for key in _PAUSE_FIELDS
    }
    for field in ("rss_end_mb", "request_ms", "request_pause_ms"):  # request loops: medians too
        if field in record:
            record[field] = _median_of(runs, field)
    for field in _SPLIT_FIELDS:  # None where the server's CPU could not be read
        known = [run[field] for run in runs if run.get(field) is not None]
        record[field] = _median(known) if len(known) == len(runs) else None
    counts = [(run["collections"], run["collected"]) for run in runs]
    record["repeat"] = len(runs)
    record["counts_identical"] = all(count == counts[0] for count in counts)
    record["runs"] = [
        {
            "wall_ms": run["wall_ms"],
            "cpu_ms": run["cpu_ms"],
            **{field: run.get(field) for field in _SPLIT_FIELDS},
            "collections": run["collections"],
            "collected": run["collected"],
            "load_average": run.get("load_average"),
            **({"workers_total": run["workers_total"]} if "workers_total" in run else {}),
        }
        for run in runs
    ]
    return record


def counts_warning(shape: str, policy: str, runs: List[Dict[str, Any]]) -> str:
    """Which of the counts differ: the collections, or only the objects they collected."""
    collections = [run["collections"] for run in runs]
    if all(count == collections[0] for count in collections):
        collected = [run["collected"] for run in runs]
        return (
            f"warning: objects collected differ across repeats of {shape} {policy}: "
            f"{collected} (collections identical: {collections[0]})"
        )
    return f"warning: GC counts differ across repeats of {shape} {policy}: {collections}"


def gc_changed_warning(record: Dict[str, Any]) -> str:
    """A record whose workload changed the GC during the measured call (its
    ``gc_changed_by_workload``): one warning line, else ''. Its figures are the workload's own
    GC setting, not the policy's, and must not be read as the policy's."""
    changed = record.get("gc_changed_by_workload")
    if not changed:
        return ""
    state = "enabled" if changed["enabled"] else "disabled"
    thresholds = "/".join(map(str, changed["thresholds"]))
    policy = record["policy"]
    return (
        f"warning: {record['shape']} {policy}: the measured call itself left the GC {state} "
        f"at thresholds {thresholds}: these figures are not {policy}'s"
    )
