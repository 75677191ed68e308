"""``ormgc pyperf --rounds N``: the matrix's timings as paired rounds, written as pyperf files.

pyperf's own workers time each benchmark on its own (2 processes x 3 values, a warmup each:
about 20 s per benchmark with the embedded MongoDB server). Paired rounds time every policy of
a scenario once per round, each in a fresh process, the order rotated (``ormgc.runs.paired``,
what ``ormgc run --repeat`` does), so a slow spell of the machine hits every policy of the round
alike and the ratio to ``default`` gets a 95% interval from N pairs. The fresh-process runs are
the probe's own, so GC counts come from the same processes as the times.

The result is still a pyperf file, one run of one value per round, so ``ormgc compare``, ``pyperf
compare_to`` and the report read it as before; the paired ratio travels in the metadata.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import pyperf

from ormgc.errors import UsageError

# pyperf's options for its own workers: they mean nothing to paired rounds.
PYPERF_WORKER_OPTIONS = (
    "-p", "--processes", "-n", "--values", "-w", "--warmups", "-l", "--loops",
    "--rigorous", "--fast", "--min-time", "--worker-task",
)  # fmt: skip


def check_no_worker_options(argv: Sequence[str], rounds: int) -> None:
    """With paired rounds, pyperf's worker options are an error, not silently ignored."""
    if not rounds:
        return
    given = [arg.split("=")[0] for arg in argv if arg.split("=")[0] in PYPERF_WORKER_OPTIONS]
    if given:
        raise UsageError(
            f"{given[0]} sets pyperf's own workers, which paired rounds do not use: "
            "add --rounds 0 to time with pyperf's workers, or set the rounds with --rounds N"
        )


def gc_metadata(record: Dict[str, Any]) -> Dict[str, Any]:
    """The GC numbers of the rounds' fresh processes, under the keys pyperf's loops use."""
    totals = [sum(run["collections"]) for run in record["runs"]]
    return {
        "gc_collections": record["collections_total"],
        "gc_collections_min": min(totals),
        "gc_collections_max": max(totals),
        "gc_collections_per_generation": "/".join(map(str, record["collections"])),
        "gc_collected": record["collected"],
        "gc_pause_ms_total": round(record["pause_ms"]["total"], 3),
        "gc_pause_ms_max": round(record["pause_ms"]["max"], 3),
        "peak_rss_mb": round(record["peak_rss_mb"], 1),
        "gc_loops_measured": len(record["runs"]),
    }


def ratio_metadata(record: Dict[str, Any], timer: str) -> Dict[str, Any]:
    """The paired ratio to the baseline policy and its 95% interval (none with one round)."""
    versus = record.get(f"{timer}_vs_baseline")
    if not versus:
        return {}
    fields = {"ormgc_paired_baseline": versus["baseline"], "ormgc_paired_ratio": versus["ratio"]}
    if versus.get("ci95"):
        fields["ormgc_paired_ci95_low"], fields["ormgc_paired_ci95_high"] = versus["ci95"]
    return fields


def paired_benchmark(
    name: str, record: Dict[str, Any], timer: str, metadata: Dict[str, Any]
) -> pyperf.Benchmark:
    """One pyperf benchmark from a record's rounds: a run of one value (seconds) per round."""
    runs: List[pyperf.Run] = []
    for run in record["runs"]:
        meta = {**metadata, "name": name, "loops": 1, "ormgc_rounds": len(record["runs"])}
        runs.append(pyperf.Run([run[f"{timer}_ms"] / 1000], metadata=meta))
    bench = pyperf.Benchmark(runs)
    bench.update_metadata(ratio_metadata(record, timer))
    return bench
