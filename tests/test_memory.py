"""The memory side: Django's request loop, rss_timeline, the trash loop, the prefork shape
(per-worker USS/PSS/shared, freeze on and off) and that no worker outlives a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List

import psutil
import pytest

from .conftest import ROOT, SMALL_ROWS, error_lines
from .conftest import ormgc as run_ormgc
from .test_django_postgres import url  # noqa: F401  (a fresh PostgreSQL database)
from .test_mongo_server import shared_envs  # noqa: F401
from .test_workloads import mongo_cache  # noqa: F401

REQUESTS, PER_REQUEST, EVERY = 20, 50, 5
SMALL_LOOP = ("--rows", str(SMALL_ROWS), "--requests", str(REQUESTS))
SMALL_LOOP += ("--per-request", str(PER_REQUEST), "--timeline-every", str(EVERY))


def _records(path: Path) -> List[Dict[str, Any]]:
    return json.loads(path.read_text())


def _check_timeline(record: Dict[str, Any]) -> None:
    timeline = record["rss_timeline"]
    assert [s["request"] for s in timeline] == list(range(0, REQUESTS + 1, EVERY))
    assert all(s["rss_mb"] > 0 and len(s["gc_count"]) >= 2 for s in timeline)
    collections = [s["collections"] for s in timeline]
    assert collections == sorted(collections)  # collections so far: never decreasing
    assert collections[-1] <= record["collections_total"]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_django_request_loop(db: str, use_shared_cache: Path, tmp_path: Path, request) -> None:
    where = request.getfixturevalue("url") if db == "postgresql" else db
    out = tmp_path / "django.json"
    done = run_ormgc(
        "run", "--orm", "django", "--db", where, "--shape", "request_loop", *SMALL_LOOP,
        "--policy", "default", "--policy", "disabled", "--json", str(out),
        cache_dir=use_shared_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    default, disabled = _records(out)
    assert default["orm"] == "django" and default["loaded"] == REQUESTS * PER_REQUEST
    assert default["collections_total"] > 0 and default["collected"] > 0  # it leaves cycles
    assert disabled["collections_total"] == 0
    for record in (default, disabled):
        _check_timeline(record)
    # With the GC off, gen0's count only grows: the garbage stays.
    counts = [s["gc_count"][0] for s in disabled["rss_timeline"]]
    assert counts == sorted(counts) and counts[-1] > counts[0] + REQUESTS * PER_REQUEST


def test_trash_loop_backlog_per_policy(use_shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "trash.json"
    done = run_ormgc(
        "run", "--shape", "trash_loop", "--rows", str(SMALL_ROWS), "--requests", "100",
        "--per-request", "100", "--timeline-every", "10", "--policy", "default",
        "--policy", "threshold:50000", "--policy", "disabled", "--repeat", "2",
        "--json", str(out), cache_dir=use_shared_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = {r["policy"]: r for r in _records(out)}
    for record in records.values():
        assert record["counts_identical"], record["runs"]  # deterministic collection counts
        assert record["loaded"] == 100 * 100
    # Two tracked lists per cycle, nothing else tracked survives a request: between two
    # samples 10 requests apart, gen0's count grows by exactly 10 * 100 * 2 with no collection
    # (the first interval may differ by one: the loop's own start).
    for policy in ("threshold:50000", "disabled"):
        timeline = records[policy]["rss_timeline"]
        assert records[policy]["collections_total"] == 0
        steps = [b["gc_count"][0] - a["gc_count"][0] for a, b in zip(timeline, timeline[1:])]
        assert set(steps[1:]) == {2_000} and abs(steps[0] - 2_000) <= 1  # (the loop's start)
        # 10,000 cycles of 1 KiB stay: the backlog shows in RSS.
        assert timeline[-1]["rss_mb"] - timeline[0]["rss_mb"] > 8
    default = records["default"]
    threshold0 = default["gc_threshold"][0]
    assert default["collections_total"] >= 20_000 // threshold0 // 2  # gen0 runs all along
    assert default["collected"] >= 20_000 - 2 * threshold0  # all but the last gen0 backlog
    assert max(s["gc_count"][0] for s in default["rss_timeline"]) <= threshold0 + 1
    assert default["rss_timeline"][-1]["rss_mb"] - default["rss_timeline"][0]["rss_mb"] < 4


def _check_prefork(record: Dict[str, Any], freeze: bool) -> None:
    assert record["shape"] == "prefork" and record["freeze"] is freeze
    assert (record["frozen_objects"] > record["warm_objects"] > 0) is freeze
    workers = record["workers"]
    assert [w["worker"] for w in workers] == [0, 1] and len({w["pid"] for w in workers}) == 2
    for worker in workers:
        assert 0 < worker["uss_mb"] <= worker["peak_uss_mb"]
        assert worker["uss_mb"] < worker["pss_mb"] and worker["shared_mb"] > 0
        assert worker["collections_total"] > 0 and worker["loaded"] == REQUESTS * PER_REQUEST
    assert record["workers_total"]["collections_total"] == record["collections_total"]
    assert record["workers_total"]["uss_mb"] == pytest.approx(sum(w["uss_mb"] for w in workers))
    assert record["parent_pss_mb"] > 0 and record["parent_end_pss_mb"] > 0
    _check_timeline(record)
    assert "pss_mb" in record["rss_timeline"][-1]


@pytest.mark.parametrize("freeze", [True, False], ids=["freeze", "no-freeze"])
def test_prefork_sql(freeze: bool, use_shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "prefork.json"
    done = run_ormgc(
        "run", "--orm", "sqlalchemy", "--orm", "django", "--shape", "prefork", *SMALL_LOOP,
        "--policy", "default", *([] if freeze else ["--no-freeze"]), "--json", str(out),
        cache_dir=use_shared_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = _records(out)
    assert [r["orm"] for r in records] == ["sqlalchemy", "django"]
    for record in records:
        _check_prefork(record, freeze)


@pytest.mark.slow
def test_prefork_mongoengine(mongo_cache: Path, tmp_path: Path) -> None:  # noqa: F811
    for freeze in (True, False):
        out = tmp_path / f"prefork-{freeze}.json"
        done = run_ormgc(
            "run", "--orm", "mongoengine", "--shape", "prefork", *SMALL_LOOP,
            "--policy", "default", *([] if freeze else ["--no-freeze"]), "--json", str(out),
            cache_dir=mongo_cache,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (record,) = _records(out)
        _check_prefork(record, freeze)


def _start_long_prefork(cache: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ormgc", "run", "--shape", "prefork", "--rows", str(SMALL_ROWS),
         "--requests", "1000000", "--per-request", "50", "--timeline-every", "100000",
         "--policy", "default"],
        env=dict(os.environ, ORMGC_CACHE_DIR=str(cache)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _workers_of(ormgc: subprocess.Popen) -> List[psutil.Process]:
    """The measuring process and its forked workers, once all are running."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert ormgc.poll() is None, ormgc.stderr.read() if ormgc.stderr else ""
        tree = psutil.Process(ormgc.pid).children(recursive=True)
        measuring = [p for p in tree if "ormgc.worker.measure" in " ".join(p.cmdline())]
        if measuring and len(measuring[0].children()) == 2:
            time.sleep(0.5)  # into their request loops
            return [measuring[0], *measuring[0].children()]
        time.sleep(0.1)
    raise AssertionError("the prefork workers never started")


def _none_survive(processes: List[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, f"still running: {[p.pid for p in alive]}"


@pytest.mark.parametrize("target", ["ormgc", "measuring parent"])
def test_ctrl_c_leaves_no_worker(target: str, use_shared_cache: Path) -> None:
    ormgc = _start_long_prefork(use_shared_cache)
    try:
        processes = _workers_of(ormgc)
        victim = ormgc.pid if target == "ormgc" else processes[0].pid
        os.kill(victim, signal.SIGINT)
        ormgc.wait(timeout=30)
        assert ormgc.returncode != 0
        _none_survive(processes)
    finally:
        if ormgc.poll() is None:
            ormgc.kill()
            ormgc.wait()


def test_crashed_worker_is_one_error_and_no_orphan(use_shared_cache: Path) -> None:
    ormgc = _start_long_prefork(use_shared_cache)
    try:
        processes = _workers_of(ormgc)
        processes[1].send_signal(signal.SIGKILL)  # a worker crashes mid-request
        _, stderr = ormgc.communicate(timeout=30)
        assert ormgc.returncode != 0
        last = error_lines(subprocess.CompletedProcess([], ormgc.returncode, "", stderr))[-1]
        assert f"(pid {processes[1].pid}) died: killed by signal 9" in last, stderr
        assert "Traceback" not in stderr
        _none_survive(processes)
    finally:
        if ormgc.poll() is None:
            ormgc.kill()
            ormgc.wait()


def test_memory_table_reads_the_committed_results() -> None:
    """scripts/memory_table.py (the findings' tables) runs on results/memory/."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "memory_table.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    prefork, _, loops = done.stdout.partition("## Memory over a long request loop")
    assert prefork.count("| sqlalchemy |") and prefork.count("| django |")
    assert prefork.count("| mongoengine |") and loops.count("| trash loop |")
    folder = ROOT / "results" / "memory"
    # Python 3.11's prefork rows recomputed from the raw records: per worker, each run's total
    # over the workers; median [min-max] over the (odd number of) runs; the saving of freeze
    prefork_records = _committed(folder.glob("prefork-3.11-*.json"))
    for orm in ("sqlalchemy", "mongoengine", "django"):
        on, off = (
            _one(prefork_records, orm=orm, policy="default", freeze=freeze)
            for freeze in (True, False)
        )
        uss_on, uss_off = _per_worker(on, "uss_mb"), _per_worker(off, "uss_mb")
        saved = 1 - _middle(uss_on) / _middle(uss_off)
        workers = len(on["workers"])
        row = (
            f"| {orm} | 3.11 | default | {_cell(uss_on)} | {_cell(uss_off)} | {saved:+.0%} | "
            f"{_cell(_per_worker(on, 'pss_mb'))} | {_cell(_per_worker(off, 'pss_mb'))} | "
            f"{_cell(_per_worker(on, 'gc_ms'), 0)} | {_cell(_per_worker(off, 'gc_ms'), 0)} | "
            f"{on['collections_total'] // workers}, {off['collections_total'] // workers} | "
            f"{len(on['runs'])}+{len(off['runs'])} |"
        )
        assert row in prefork, row
    # the timelines: growth from the first sample; under a threshold T the young count never
    # passes T + 1 (a collection empties it), without collections it only grows
    for record in _committed(folder.glob("timeline-3.11-*.json")):
        rss = [sample["rss_mb"] for sample in record["rss_timeline"]]
        young = max(sample["gc_count"][0] for sample in record["rss_timeline"])
        workload = "trash loop" if record["shape"] == "trash_loop" else record["orm"]
        row = (
            f"| 3.11 | {workload} | {record['policy']} | {rss[-1] - rss[0]:+.1f} | "
            f"{max(rss) - rss[0]:+.1f} | {record['collections_total']:,} | {young:,} |"
        )
        assert row in loops, row
        if record["policy"] == "disabled":
            assert record["collections_total"] == 0 and young > 100_000
        else:
            assert record["collections_total"] > 0 and young <= record["gc_threshold"][0] + 1


def _committed(paths: Iterable[Path]) -> List[Dict[str, Any]]:
    return [record for path in sorted(paths) for record in json.loads(path.read_text())]


def _one(records: List[Dict[str, Any]], **fields: Any) -> Dict[str, Any]:
    (found,) = [r for r in records if all(r[key] == value for key, value in fields.items())]
    return found


def _per_worker(record: Dict[str, Any], field: str) -> List[float]:
    return [run["workers_total"][field] / len(record["workers"]) for run in record["runs"]]


def _middle(values: List[float]) -> float:
    assert len(values) % 2 == 1, "an odd number of runs: the median is one of them"
    return sorted(values)[len(values) // 2]


def _cell(values: List[float], digits: int = 1) -> str:
    low, mid, high = min(values), _middle(values), max(values)
    return f"{mid:.{digits}f} [{low:.{digits}f}-{high:.{digits}f}]"
