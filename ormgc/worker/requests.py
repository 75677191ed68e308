"""Per-request figures of a request loop, from its time stamps and the probe's collections.

Computed after the measured block: the loop only wrote time stamps into a preallocated array,
and the probe only appended ints, so nothing here adds GC-tracked objects to what is measured.
"""

from __future__ import annotations

import bisect
from typing import Any, Dict, Sequence

from ormgc.worker.probe import Probe, percentile


def request_figures(stamps: Sequence[int], probe: Probe) -> Dict[str, Any]:
    """Time per request and GC pause per request (the sum of the collections that started in
    it): median, p99 and worst; ``stamps`` holds each request's start, then the loop's end."""
    requests = len(stamps) - 1
    durations = sorted((stamps[i + 1] - stamps[i]) / 1e6 for i in range(requests))
    paused_ns = [0] * requests
    for start, pause in zip(probe.starts_ns, probe.pauses_ns):
        index = bisect.bisect_right(stamps, start) - 1
        if 0 <= index < requests:
            paused_ns[index] += pause
    paused = sorted(ns / 1e6 for ns in paused_ns)
    return {
        "requests": requests,
        "request_ms": {
            "median": percentile(durations, 0.50),
            "p99": percentile(durations, 0.99),
            "max": durations[-1] if durations else 0.0,
        },
        "request_pause_ms": {
            "median": percentile(paused, 0.50),
            "p99": percentile(paused, 0.99),
            "max": paused[-1] if paused else 0.0,
        },
        "requests_with_collections": sum(1 for ns in paused_ns if ns),
    }
