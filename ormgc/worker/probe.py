"""The probe: what CPython's cyclic GC did while one block of code ran.

Collections are counted from ``gc.callbacks`` ("start" events) and cross-checked against the
``gc.get_stats()`` deltas; a disagreement raises, because every chart depends on these counts.
Pauses are timed start→stop per collection. The probe allocates nothing tracked by the GC while
the block runs: the callback only appends ints (untracked) to lists.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import re
import resource
import sys
import sysconfig
import time
from typing import Any, Dict, List, Optional

from ormgc.worker.exact import MARKER

_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"


class ProbeMismatch(RuntimeError):
    """gc.callbacks and gc.get_stats() disagree: the measurement cannot be trusted."""


def _status_kb(field: str) -> Optional[int]:
    if MARKER.active:  # under callgrind: its varying text would move the heap (ormgc.worker.exact)
        return None
    try:
        with open(_STATUS) as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> str:
    """Reset the kernel's RSS high-water mark if allowed; say which peak the probe will report."""
    if MARKER.active:
        return "not-read-under-valgrind"
    try:
        with open(_CLEAR_REFS, "w") as clear_refs:
            clear_refs.write("5")  # 5: reset the peak RSS (VmHWM) to the current RSS
        if _status_kb("VmHWM") is not None:
            return "vmhwm-reset"
    except OSError:
        pass
    return "ru_maxrss-process"  # peak of the whole process so far, not of the block


def _peak_rss_kb(method: str) -> int:
    if method == "vmhwm-reset":
        return _status_kb("VmHWM") or 0
    if MARKER.active:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def percentile(sorted_values: List[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(1, math.ceil(fraction * len(sorted_values))) - 1]


ORIGIN_FILE = "ormgc-origin.txt"  # written beside usr/ by ormgc.runs.debian_python


def distribution(prefix: str) -> str:
    """Who built the interpreter installed at ``prefix`` (its sys.base_prefix): compilers and
    flags differ between a pyenv build, Debian's, uv's and a system package."""
    origin = os.path.join(os.path.dirname(prefix), ORIGIN_FILE)
    if os.path.exists(origin):
        with open(origin) as described:
            return described.read().strip()
    for marker, name in (
        ("/.pyenv/versions/", "pyenv build"),
        ("/uv/python/", "uv (python-build-standalone)"),
        ("/hostedtoolcache/", "GitHub setup-python"),
    ):
        if marker in prefix + "/":
            return name
    if re.match(r"cpython-3\.\d+\.\d+.*-(linux|macos|windows)-", os.path.basename(prefix)):
        return "uv (python-build-standalone)"  # uv's folder names, wherever it keeps them
    return f"system ({prefix})" if prefix in ("/usr", "/usr/local") else f"other ({prefix})"


def interpreter_identity() -> Dict[str, Any]:
    """Where this interpreter comes from and what compiled it (the GCC/Clang part of
    sys.version)."""
    return {
        "python_distribution": distribution(sys.base_prefix),
        "python_compiler": platform.python_compiler(),
    }


def gc_identity() -> Dict[str, Any]:
    """What this interpreter says about its GC; never assumes three generations."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "python_implementation": sys.implementation.name,
        "python_build": "free-threaded" if free_threaded else "default",
        "gc_generations": len(gc.get_stats()),
        "gc_threshold": list(gc.get_threshold()),
        "gc_enabled": gc.isenabled(),
    }


def _reported_stats() -> Optional[Dict[str, float]]:
    """3.15+: the sums over generations of gc.get_stats()' duration (s) and candidates."""
    stats = gc.get_stats()
    if "duration" not in stats[0]:
        return None
    return {key: sum(s[key] for s in stats) for key in ("duration", "candidates")}


class Probe:
    """Context manager measuring one block; ``result`` holds the numbers afterwards."""

    def __init__(self) -> None:
        self.result: Dict[str, Any] = {}
        self.starts_ns: List[int] = []  # perf_counter_ns at each collection's start
        self._stops_ns: List[int] = []  # and at its stop
        self.pauses_ns: List[int] = []  # durations, in the same order (after the block)
        self._generations: List[int] = []
        self._collected = 0
        self._uncollectable = 0
        # 3.15+ reports each collection's own duration (s) and candidates: kept when present
        self._reported = "duration" in gc.get_stats()[0]
        self._durations: List[float] = []  # floats and ints: untracked by the GC
        self._candidates: List[int] = []
        # gc.isenabled() as the block began and ended: a workload may switch it itself
        self.enabled_before: Optional[bool] = None
        self.enabled_after: Optional[bool] = None
        if self._reported:
            self._callback = self._callback_reported  # type: ignore[method-assign]

    def _callback(self, phase: str, info: Dict[str, Any]) -> None:
        now = time.perf_counter_ns()
        if phase == "start":
            self.starts_ns.append(now)
            self._generations.append(info["generation"])
        else:
            self._stops_ns.append(now)  # subtracted later: an int's cost depends on its value
            self._collected += info["collected"]
            self._uncollectable += info["uncollectable"]

    @property
    def has_candidates(self) -> bool:
        """Whether this interpreter's callbacks say how many objects each collection examined."""
        return self._reported

    @property
    def candidates(self) -> int:
        """Objects examined by the collections so far (3.15+; 0 where not reported)."""
        return sum(self._candidates)

    def _callback_reported(self, phase: str, info: Dict[str, Any]) -> None:
        Probe._callback(self, phase, info)
        if phase == "stop":
            self._durations.append(info["duration"])
            self._candidates.append(info["candidates"])

    def __enter__(self) -> Probe:
        was_enabled = gc.isenabled()
        gc.disable()  # no collection may fall between reading the stats and hooking the callback
        self._was_enabled = self.enabled_before = was_enabled
        self._threshold_before = list(gc.get_threshold())
        self._stats_before = [s["collections"] for s in gc.get_stats()]
        self._reported_before = _reported_stats()
        self._rss_method = _reset_peak_rss()
        self._rss_before_kb = _status_kb("VmRSS") or 0
        gc.callbacks.append(self._callback)
        MARKER.hook()  # --exact without symbols: around every other callback
        self._wall0 = time.perf_counter_ns()
        self._cpu0 = time.process_time_ns()
        if was_enabled:
            gc.enable()
        MARKER.start()  # --exact: callgrind counts from here (ormgc.worker.exact)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        MARKER.stop()
        enabled_during = self.enabled_after = gc.isenabled()
        gc.disable()
        wall_ns = time.perf_counter_ns() - self._wall0
        cpu_ns = time.process_time_ns() - self._cpu0
        gc.callbacks.remove(self._callback)
        MARKER.unhook()
        stats_after = [s["collections"] for s in gc.get_stats()]
        reported_after = _reported_stats()
        peak_kb = _peak_rss_kb(self._rss_method)
        rss_after_kb = _status_kb("VmRSS") or 0
        if enabled_during:
            gc.enable()
        if exc_info[0] is not None:
            return
        self.result = self._summarise(wall_ns, cpu_ns, stats_after, peak_kb, rss_after_kb)
        if self._reported:
            self.result["gc_reported"] = self._reported_figures(reported_after)

    def _summarise(
        self, wall_ns: int, cpu_ns: int, stats_after: List[int], peak_kb: int, rss_after_kb: int
    ) -> Dict[str, Any]:
        # As many generations as the interpreter reports (2 on 3.14.0-3.14.4's incremental
        # GC, 3 elsewhere), or as the callbacks name, should those ever disagree.
        generations = max(len(stats_after), max(self._generations, default=-1) + 1)
        per_generation = [0] * generations
        for generation in self._generations:
            per_generation[generation] += 1
        from_stats = [after - before for before, after in zip(self._stats_before, stats_after)]
        from_stats += [0] * (generations - len(from_stats))
        if from_stats != per_generation:
            raise ProbeMismatch(
                f"gc.callbacks saw {per_generation} collections per generation, "
                f"gc.get_stats() says {from_stats}"
            )
        self.pauses_ns = [stop - start for start, stop in zip(self.starts_ns, self._stops_ns)]
        pauses_ms = sorted(ns / 1e6 for ns in self.pauses_ns)
        return {
            "collections": per_generation,
            "collections_total": sum(per_generation),
            "collected": self._collected,
            "uncollectable": self._uncollectable,
            "pause_ms": {
                "total": sum(pauses_ms),
                "max": pauses_ms[-1] if pauses_ms else 0.0,
                "p50": percentile(pauses_ms, 0.50),
                "p99": percentile(pauses_ms, 0.99),
            },
            "wall_ms": wall_ns / 1e6,
            "cpu_ms": cpu_ns / 1e6,
            "peak_rss_mb": peak_kb / 1024,
            "rss_delta_mb": (rss_after_kb - self._rss_before_kb) / 1024,
            "rss_end_mb": rss_after_kb / 1024,
            "peak_rss_method": self._rss_method,
            "gc_threshold_before": self._threshold_before,
            "gc_threshold_after": list(gc.get_threshold()),
        }

    def _reported_figures(self, stats_after: Optional[Dict[str, float]]) -> Dict[str, Any]:
        """3.15+: the collector's own duration and candidates, beside the probe's pauses."""
        durations = sorted(seconds * 1e3 for seconds in self._durations)
        paused_ms = sum(self.pauses_ns) / 1e6
        before, after = self._reported_before or {}, stats_after or {}
        return {
            "duration_ms": {
                "total": sum(durations),
                "max": durations[-1] if durations else 0.0,
                "p50": percentile(durations, 0.50),
                "p99": percentile(durations, 0.99),
            },
            "candidates": sum(self._candidates),
            "stats_duration_ms": (after.get("duration", 0) - before.get("duration", 0)) * 1e3,
            "stats_candidates": after.get("candidates", 0) - before.get("candidates", 0),
            # The probe's pause runs from the "start" to the "stop" callback, so it holds the
            # collector's own duration and the callbacks between: the ratio is <= 1.
            "duration_over_pause": sum(durations) / paused_ms if paused_ms else None,
        }
