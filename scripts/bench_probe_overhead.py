"""Probe overhead on the seed query: what the probe adds must stay under 1% of what it measures.

Two views. The cost model: the probe's fixed cost (enter + exit) plus its per-collection cost
(one "start" and one "stop" callback), times the collections the query triggers, over the
query's time -- stable enough to assert: each cost is the best of several repeats, since a
busy machine only ever adds time (a busy test run once pushed a single repeat over 1%). The
A/B: the same query timed bare and inside the probe, alternating, medians -- reported, as on
a shared machine it is noisier than 1%.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Callable, List, Tuple

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, open_fixture, shapes
from ormgc import Probe

SHAPE = "seed_loop"
TARGET_OVERHEAD = 0.01
CALLBACK_CALLS = 100_000
EMPTY_PROBES = 1_000
COST_REPEATS = 5


def best_of(cost: Callable[[], float], repeats: int = COST_REPEATS) -> float:
    """The smallest of several measurements: time the machine takes away is never negative."""
    return min(cost() for _ in range(repeats))


def per_collection_cost_s() -> float:
    probe = Probe()
    start, stop = {"generation": 0}, {"generation": 0, "collected": 0, "uncollectable": 0}
    callback = probe._callback
    began = time.perf_counter()
    for _ in range(CALLBACK_CALLS):
        callback("start", start)
        callback("stop", stop)
    return (time.perf_counter() - began) / CALLBACK_CALLS


def fixed_cost_s() -> float:
    began = time.perf_counter()
    for _ in range(EMPTY_PROBES):
        with Probe():
            pass
    return (time.perf_counter() - began) / EMPTY_PROBES


def query_runs(fixture: object, load: int, rounds: int) -> Tuple[List[float], List[float], int]:
    """Alternate bare and probed runs of the shape; return both timings and the collections."""
    shape = shapes("sqlalchemy")[SHAPE]
    bare, probed, collections = [], [], 0
    for _ in range(rounds):
        for with_probe in (False, True):
            gc.collect()
            with fixture.session() as session:
                began = time.perf_counter()
                if with_probe:
                    with Probe() as probe:
                        shape.run(session, load)
                    collections = probe.result["collections_total"]
                else:
                    shape.run(session, load)
                (probed if with_probe else bare).append(time.perf_counter() - began)
    return bare, probed, collections


def main(report: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--load", type=int, default=DEFAULT_LOAD)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    fixture = open_fixture("sqlalchemy", "sqlite", args.rows)
    fixture.ensure()
    bare, probed, collections = query_runs(fixture, args.load, args.rounds)
    query_s = statistics.median(bare)
    model = (best_of(fixed_cost_s) + collections * best_of(per_collection_cost_s)) / query_s
    ab = statistics.median(probed) / query_s - 1
    report(
        f"{SHAPE} rows={args.rows} load={args.load}: query {query_s * 1e3:.1f} ms, "
        f"{collections} collections"
    )
    report(f"cost model: probe overhead {model:.3%} (target < {TARGET_OVERHEAD:.0%})")
    report(f"A/B medians of {args.rounds}: probed/bare - 1 = {ab:+.2%} (noise included)")
    return 0 if model < TARGET_OVERHEAD else 1


if __name__ == "__main__":
    raise SystemExit(main())
