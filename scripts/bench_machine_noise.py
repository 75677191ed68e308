"""The machine's own timing noise: a fixed CPU-bound workload timed exactly as the matrix is.

    .venv/bin/python scripts/bench_machine_noise.py -o /tmp/noise.json

The workload does the same work every time and touches neither the GC (it is disabled while
timed) nor a database, so its spread is the floor no benchmark on this machine can go under.
It is timed with pyperf as ``ormgc pyperf`` times a query in full mode: the same processes,
values, warmup and loops (``FULL_PYPERF``), the same timer (process CPU time) and a value of
about the same length. ``tools/matrix_cost.py`` runs it beside the matrix and reports both.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import pyperf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ormgc.runs.pyperf_plan import FULL_PYPERF  # noqa: E402

ROUNDS = 7_500_000  # about half a second on this machine kind, like the 20k-object query
NAME = "machine_noise/cpu_loop"


def _workload(rounds: int) -> int:
    table = {}
    for number in range(rounds):
        table[number & 1023] = number * 3 + 1
    return len(table)


def timed(loops: int, rounds: int = ROUNDS) -> float:
    """pyperf's time function: process CPU time of ``loops`` workloads, GC off while timed."""
    total = 0.0
    for _ in range(loops):
        gc.disable()
        began = time.process_time()
        size = _workload(rounds)
        total += time.process_time() - began
        gc.enable()
        assert size == 1024  # the work happened
    return total


def main() -> None:
    runner = pyperf.Runner(**FULL_PYPERF)
    runner.metadata["ormgc_timer"] = "cpu"
    runner.metadata["noise_rounds"] = ROUNDS
    runner.bench_time_func(NAME, timed)


if __name__ == "__main__":
    main()
