"""The probe on synthetic workloads whose GC behaviour is known in advance."""

from __future__ import annotations

import gc
import time

import pytest

from ormgc import Probe, ProbeMismatch, gc_identity
from ormgc.worker import probe as probe_module


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic GC can free it


def test_disabled_gc_collects_nothing(restore_gc: None) -> None:
    gc.disable()
    with Probe() as probe:
        kept = [[] for _ in range(100_000)]
    assert len(kept) == 100_000
    assert probe.result["collections_total"] == 0
    assert probe.result["pause_ms"] == {"total": 0.0, "max": 0.0, "p50": 0.0, "p99": 0.0}


def test_dropped_cycles_are_counted_as_collected(restore_gc: None) -> None:
    gc.collect()
    cycles = 5_000
    with Probe() as probe:
        for _ in range(cycles):
            Node()
        gc.collect()
    assert probe.result["collected"] >= cycles
    assert probe.result["uncollectable"] == 0
    assert probe.result["collections"][-1] >= 1  # the explicit full collection


@pytest.mark.parametrize("threshold", [500, 2_000])
def test_allocations_trigger_about_m_over_t_collections(restore_gc: None, threshold: int) -> None:
    containers = 200_000
    gc.collect()
    gc.freeze()  # only what the block allocates counts towards the threshold
    gc.set_threshold(threshold, 10, 10)
    try:
        with Probe() as probe:
            kept = [[] for _ in range(containers)]
    finally:
        gc.unfreeze()
    assert len(kept) == containers
    expected = containers / threshold
    assert 0.9 * expected <= probe.result["collections_total"] <= 1.1 * expected + 2
    assert probe.result["collected"] == 0  # nothing was garbage
    generations = probe.result["collections"]
    assert len(generations) == len(gc.get_stats())
    assert generations[0] > generations[1]


def test_pause_statistics_are_consistent(restore_gc: None) -> None:
    gc.set_threshold(100, 10, 10)
    with Probe() as probe:
        kept = [[] for _ in range(50_000)]
    assert kept
    pauses = probe.result["pause_ms"]
    assert probe.result["collections_total"] > 100
    assert 0 < pauses["p50"] <= pauses["p99"] <= pauses["max"] <= pauses["total"]


def test_collection_hidden_from_callbacks_is_a_mismatch(restore_gc: None) -> None:
    with pytest.raises(ProbeMismatch, match="gc.get_stats"), Probe() as probe:
        gc.callbacks.remove(probe._callback)
        gc.collect()
        gc.callbacks.append(probe._callback)


def test_times_and_thresholds_are_recorded(restore_gc: None) -> None:
    gc.set_threshold(1234, 5, 6)
    outer = time.perf_counter()
    with Probe() as busy:  # at least 60 ms of CPU, by another clock than the probe's
        start = time.thread_time()
        while time.thread_time() - start < 0.06:
            pass
    with Probe() as idle:  # 100 ms of wall time with next to no CPU
        time.sleep(0.1)
    outer_ms = (time.perf_counter() - outer) * 1e3
    assert 60 <= busy.result["cpu_ms"] <= busy.result["wall_ms"] + 5
    assert idle.result["wall_ms"] >= 100 and idle.result["cpu_ms"] < 20
    assert busy.result["wall_ms"] + idle.result["wall_ms"] <= outer_ms
    result = busy.result
    assert result["gc_threshold_before"] == [1234, 5, 6]
    assert result["gc_threshold_after"] == [1234, 5, 6]
    assert gc.callbacks.count(busy._callback) == 0


@pytest.mark.parametrize("method", ["vmhwm-reset", "ru_maxrss-process"])
def test_peak_rss_is_the_block_s_own_peak(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """200 MB touched then freed inside the block: its peak is 200 MB above the RSS the block
    started with, by either method. A later idle block's peak tells the two apart: the reset
    high-water mark forgets the 200 MB, the process's ru_maxrss cannot."""
    if method == "ru_maxrss-process":  # where /proc/self/clear_refs cannot be written
        monkeypatch.setattr(probe_module, "_CLEAR_REFS", "/nonexistent/clear_refs")
    with Probe() as busy:
        block = bytearray(200 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        del block
    with Probe() as idle:
        pass
    assert busy.result["peak_rss_method"] == idle.result["peak_rss_method"] == method
    started_mb = busy.result["rss_end_mb"] - busy.result["rss_delta_mb"]
    assert busy.result["peak_rss_mb"] - started_mb > 190
    assert abs(busy.result["rss_delta_mb"]) < 20  # freed again before the block ended
    if method == "vmhwm-reset":
        assert 0 <= idle.result["peak_rss_mb"] - idle.result["rss_end_mb"] < 10
    else:
        assert idle.result["peak_rss_mb"] >= busy.result["peak_rss_mb"]


def test_gc_identity_reports_what_the_interpreter_says() -> None:
    identity = gc_identity()
    assert identity["gc_generations"] == len(gc.get_stats())
    assert identity["gc_threshold"] == list(gc.get_threshold())
    assert identity["python_build"] in ("default", "free-threaded")
