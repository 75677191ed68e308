"""The adaptive policy's own cost: its callback per collection, times the collections, over the run.

The callback runs twice per collection ("start": returns at once; "stop": may move the
threshold). Its cost is timed on its paths -- no change, and moving the threshold -- by calling
it directly many times. The cost model, as for the probe (scripts/bench_probe_overhead.py):
that cost times the collections a workload triggers under the policy, over the workload's time.
The worst case is steady cyclic garbage (``cycles``): the threshold stays at its lower bound, so
the callback runs on every small collection and keeps moving it. Also printed, for scale: the
median of those small collections' own pauses, which the callback is not small against.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ormgc import Probe, adaptive  # noqa: E402

TARGET = 0.01


def callback_cost_ns(calls: int) -> Dict[str, float]:
    """ns per collection (a "start" and a "stop" call) on each path of the rule."""
    state = adaptive.AdaptiveThreshold(700, 1_000_000)
    callback = state.callback
    start = {"generation": 0}
    empty = {"generation": 0, "collected": 0, "uncollectable": 0}
    garbage = {"generation": 0, "collected": 10**6, "uncollectable": 0}
    saved = gc.get_threshold()

    def timed(stops: List[Dict[str, Any]]) -> float:
        began = time.perf_counter_ns()
        for _ in range(calls // len(stops)):
            for stop in stops:
                callback("start", start)
                callback("stop", stop)
        return (time.perf_counter_ns() - began) / (calls // len(stops) * len(stops))

    def empty_loop() -> float:  # the loop's own cost, taken off the others
        began = time.perf_counter_ns()
        for _ in range(calls // 2):
            for _stop in (empty, garbage):
                pass
        return (time.perf_counter_ns() - began) / (calls // 2 * 2)

    try:
        loop = empty_loop()
        state._step = state._top  # at the bound: an empty collection changes nothing
        unchanged = timed([empty])
        moving = timed([empty, garbage])  # alternately up a step and down again
    finally:
        gc.set_threshold(*saved)
    return {"unchanged": unchanged - loop, "moving": moving - loop}


def cycles_under_adaptive(objects: int) -> Dict[str, float]:
    """The worst case: pairs of objects pointing at each other, dropped at once, under adaptive."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_adaptive_rules import cycles

    gc.collect()
    adaptive.install(700, 1_000_000)
    try:
        with Probe() as probe:
            cycles(objects)
    finally:
        summary = adaptive.remove()
    return {
        "collections": probe.result["collections_total"],
        "wall_ns": probe.result["wall_ms"] * 1e6,
        "pause_ns": statistics.median(probe.pauses_ns) if probe.pauses_ns else float("nan"),
        "changes": summary["changes"] if summary else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--objects", type=int, default=1_000_000)
    args = parser.parse_args()
    costs = [callback_cost_ns(args.calls) for _ in range(5)]
    per_collection = {path: min([cost[path] for cost in costs]) for path in costs[0]}
    run = cycles_under_adaptive(args.objects)
    share = run["collections"] * per_collection["moving"] / run["wall_ns"]
    print(f"Python {sys.version.split()[0]}, default threshold {gc.get_threshold()}")
    print(
        f"callback per collection: {per_collection['unchanged']:.0f} ns unchanged, "
        f"{per_collection['moving']:.0f} ns moving the threshold (best of 5)"
    )
    print(
        f"cycles of {args.objects} objects under adaptive:700..1000000: "
        f"{run['collections']} collections ({run['changes']} threshold changes) in "
        f"{run['wall_ns'] / 1e6:.0f} ms; median collection {run['pause_ns'] / 1e3:.1f} us"
    )
    print(f"overhead={share:.3%} target<{TARGET:.0%} {'ok' if share < TARGET else 'OVER'}")
    return 0 if share < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
