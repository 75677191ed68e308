"""The adaptive policy's rule variants on synthetic workloads with known answers.

Each (workload, policy) runs in a fresh process of this interpreter (``--python`` for another):
- ``live``: builds objects and keeps them all -- no garbage, as the seed's query;
- ``cycles``: rounds that each make small reference cycles and drop them -- garbage every round;
- ``sparse``: keeps most objects, but one in a thousand is part of a dropped cycle;
- ``live_then_cycles``: the first, then the second: how fast a rule comes back down.
Printed per run: collections, objects collected, garbage still uncollected at the end (what a
final ``gc.collect()`` frees: the memory a policy left lying around), the adaptive summary, peak
RSS and time. Counts are deterministic; times are one run each on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("live", "cycles", "sparse", "live_then_cycles")
POLICIES = (
    "default",
    "adaptive:700..1000000",  # the rule kept: tolerant
    "adaptive:700..1000000,halve",
    "adaptive:700..1000000,reset",
    "adaptive:700..1000000,anygen",
    "adaptive:700..1000000,proportional",
    "threshold:50000",
    "disabled",
)


class Node:
    """A small GC-tracked object; two of them pointing at each other make one cycle."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.other: Any = None


def live(objects: int) -> List[Node]:
    return [Node(i) for i in range(objects)]


def cycles(objects: int) -> int:
    made = 0
    for index in range(objects // 2):
        first, second = Node(index), Node(index)
        first.other, second.other = second, first
        made += 2
    return made


def sparse(objects: int) -> List[Node]:
    kept = []
    for index in range(objects):
        node = Node(index)
        if index % 1000:
            kept.append(node)
        else:
            node.other = node  # a cycle of one, dropped at once
    return kept


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def child(workload: str, policy: str, objects: int) -> Dict[str, Any]:
    """One run in this process: the policy on, the workload, then what the GC did."""
    from ormgc import adaptive
    from ormgc.worker.policies import parse_policy

    parsed = parse_policy(policy)
    gc.collect()
    gc.freeze()
    before = [s["collections"] for s in gc.get_stats()]
    collected_before = sum(s["collected"] for s in gc.get_stats())
    parsed.apply()
    began = time.perf_counter()
    kept = live(objects) if workload in ("live", "live_then_cycles") else []
    if workload == "sparse":
        kept = sparse(objects)
    if workload in ("cycles", "live_then_cycles"):
        cycles(objects)
    seconds = time.perf_counter() - began
    summary = parsed.finish() if parsed.bounds else None
    gc.disable()
    stats = gc.get_stats()
    result = {
        "workload": workload,
        "policy": parsed.name,
        "objects": objects,
        "collections": [s["collections"] - b for s, b in zip(stats, before)],
        "collected": sum(s["collected"] for s in stats) - collected_before,
        "left_uncollected": gc.collect(),  # cycles no collection reached during the run
        "adaptive": summary,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "ms": round(seconds * 1e3, 1),
        "installed_after": adaptive.installed() is not None,
    }
    del kept
    return result


def run_all(python: str, objects: int, policies: List[str]) -> List[Dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    results = []
    for workload in WORKLOADS:
        for policy in policies:
            done = subprocess.run(
                [python, __file__, "--child", workload, policy, "--objects", str(objects)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(json.loads(done.stdout))
    return results


def table(results: List[Dict[str, Any]]) -> str:
    head = ("workload", "policy", "collections", "collected", "left", "end/max", "MB", "ms")
    rows = [head]
    for r in results:
        summary = r["adaptive"]
        reach = f"{summary['end']}/{summary['max']}" if summary else "-"
        rows.append(
            (
                r["workload"],
                r["policy"],
                "/".join(map(str, r["collections"])),
                str(r["collected"]),
                str(r["left_uncollected"]),
                reach,
                f"{r['peak_rss_mb']:.1f}",
                f"{r['ms']:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--policy", action="append", help=f"default: {', '.join(POLICIES)}")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.objects)))
        return 0
    results = run_all(args.python, args.objects, args.policy or list(POLICIES))
    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"Python {version}, {args.objects} objects per workload, one fresh process each")
    print(table(results))
    if args.json:
        sys.path.insert(0, str(ROOT))
        from ormgc.results import write_json_atomic

        write_json_atomic(Path(args.json), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
