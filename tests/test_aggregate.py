"""Records of K repeats: medians, counts checked equal, and a warning that says what differs."""

from __future__ import annotations

from typing import Any, Dict, List

from ormgc.runs.aggregate import aggregate, counts_warning


def _run(cpu_ms: float, collections: List[int], collected: int) -> Dict[str, Any]:
    return {
        "wall_ms": cpu_ms + 1,
        "cpu_ms": cpu_ms,
        "peak_rss_mb": 50.0,
        "rss_delta_mb": 5.0,
        "pause_ms": {"total": 1.0, "max": 0.5, "p50": 0.1, "p99": 0.4},
        "collections": collections,
        "collected": collected,
    }


def test_medians_and_identical_counts() -> None:
    runs = [_run(10, [5, 1, 0], 3), _run(30, [5, 1, 0], 3), _run(20, [5, 1, 0], 3)]
    record = aggregate(runs)
    assert record["cpu_ms"] == 20 and record["repeat"] == 3
    assert record["counts_identical"] is True
    assert [run["cpu_ms"] for run in record["runs"]] == [10, 30, 20]


def test_warning_names_the_collections_when_they_differ() -> None:
    runs = [_run(10, [5, 1, 0], 3), _run(10, [6, 1, 0], 3)]
    assert aggregate(runs)["counts_identical"] is False
    text = counts_warning("seed_loop", "default", runs)
    assert (
        text
        == "warning: GC counts differ across repeats of seed_loop default: [[5, 1, 0], [6, 1, 0]]"
    )


def test_warning_names_the_collected_objects_when_only_they_differ() -> None:
    # pymongo's threads can change what a collection finds, not how many collections run;
    # the warning once printed three identical lists as "differ"
    runs = [_run(10, [550, 50, 0], 382), _run(10, [550, 50, 0], 379)]
    assert aggregate(runs)["counts_identical"] is False
    text = counts_warning("prefork", "default", runs)
    assert "objects collected differ" in text and "[382, 379]" in text
    assert "collections identical: [550, 50, 0]" in text
