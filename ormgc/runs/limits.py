"""How many worker processes this machine can hold, for every shape that forks a pool: prefork's
workers and the served shape's gunicorn workers (``ormgc run`` and ``ormgc advise``).

A worker forked from the warmed-up parent keeps its own pages once the collector writes to
shared objects: the prefork findings (docs/findings/memory.md) measured up to ~50 MB of USS per
worker, so each is budgeted PER_WORKER_MB. Beyond a few workers per core they only queue for the
CPU (wall times then stretch with the queue, not with the GC) and a fork bomb of a warmed parent
can take the machine down. The bound is the smaller of the two; ``--allow-many-workers`` lifts
it for someone who means it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NamedTuple, Optional

from ormgc.errors import UsageError

PER_WORKER_MB = 64  # the largest USS per worker measured (50.3 MB), rounded up
WORKERS_PER_CPU = 4
MIN_CPU_BOUND = 8  # a small machine may still try a few workers per core
ALLOW_FLAG = "--allow-many-workers"


class WorkerBound(NamedTuple):
    """The most workers this machine holds, and the figures that set it."""

    workers: int
    cpus: int
    by_cpu: int
    available_mb: Optional[int]  # None: the platform does not say
    by_memory: Optional[int]

    def reason(self) -> str:
        per_cpu = f"{WORKERS_PER_CPU} per CPU x {self.cpus} CPUs, at least {MIN_CPU_BOUND}"
        by_cpu = f"{self.by_cpu} by CPU ({per_cpu})"
        if self.by_memory is None:
            return by_cpu
        return (
            f"the smaller of {by_cpu} and {self.by_memory} by memory "
            f"({self.available_mb:,} MB available / {PER_WORKER_MB} MB per worker)"
        )


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask, as a container limits it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_mb(meminfo: Path = Path("/proc/meminfo")) -> Optional[int]:
    """Memory available without swapping (Linux's MemAvailable), else free pages, else None."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (AttributeError, ValueError, OSError):
        return None


def max_workers(cpus: Optional[int] = None, memory_mb: Optional[int] = None) -> WorkerBound:
    """The most workers this machine (or the one described by ``cpus``, ``memory_mb``) holds."""
    cpus = cpus if cpus is not None else cpu_count()
    memory_mb = memory_mb if memory_mb is not None else available_mb()
    by_cpu = max(WORKERS_PER_CPU * cpus, MIN_CPU_BOUND)
    by_memory = None if memory_mb is None else memory_mb // PER_WORKER_MB
    bound = by_cpu if by_memory is None else min(by_cpu, by_memory)
    return WorkerBound(max(bound, 1), cpus, by_cpu, memory_mb, by_memory)


def add_workers_bound(parser: argparse.ArgumentParser, what: str) -> None:
    """``ALLOW_FLAG`` on a parser that has ``--workers`` (``what``: the workers it starts), and
    the bound checked right after parsing (the CLI runs ``check_arguments``), before anything
    starts."""
    parser.add_argument(
        ALLOW_FLAG,
        action="store_true",
        help=f"{what} more --workers than the CPUs and available memory hold",
    )
    parser.set_defaults(check_arguments=check_workers_argument)


def check_workers_argument(args: argparse.Namespace) -> None:
    check_workers(args.workers, args.allow_many_workers)


def check_workers(workers: int, allow_many: bool, bound: Optional[WorkerBound] = None) -> None:
    """UsageError in one line if ``workers`` is more than the machine holds and not allowed."""
    if allow_many:
        return
    bound = bound or max_workers()
    if workers > bound.workers:
        raise UsageError(
            f"--workers {workers} is more than this machine holds: at most {bound.workers}, "
            f"{bound.reason()}; add {ALLOW_FLAG} to fork them anyway"
        )
