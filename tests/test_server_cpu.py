"""Where the wall time goes: the server's CPU time read with psutil around the block, for real
server processes (a busy process, the embedded MongoDB server, a PostgreSQL backend)."""

from __future__ import annotations

import gc
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from orm_fixtures import serve, served_pid
from ormgc.runs.envs import interpreter
from ormgc.runs.runner import Scenario, run_worker
from ormgc.worker.policies import parse_policies
from ormgc.worker.server_cpu import ServerCpu, cpu_seconds

from .conftest import ROOT, SMALL_LOAD, SMALL_ROWS
from .test_mongo_server import shared_envs  # noqa: F401
from .test_postgres import database  # noqa: F401

BUSY = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass"


def test_busy_process_cpu_is_read_and_the_rest_is_waiting() -> None:
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        server = ServerCpu._watch(psutil, busy.pid, f"test pid {busy.pid}")
        server.start()
        time.sleep(0.5)
        server.stop()
    finally:
        busy.kill()
        busy.wait()
    split = server.result(wall_ms=500.0, cpu_ms=1.0)
    assert split["server_cpu_source"] == f"test pid {busy.pid}"
    assert split["server_cpu_ms"] > 0  # it spun the whole time: some ticks of it are counted
    assert split["wait_ms"] == pytest.approx(500.0 - 1.0 - split["server_cpu_ms"])


def test_raw_stat_line_is_parsed_as_psutil_parses_it() -> None:
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(0.3)
        busy.send_signal(signal.SIGSTOP)  # its CPU time stands still while both read it
        time.sleep(0.05)
        server = ServerCpu._watch(psutil, busy.pid, "x")
        server.start()
        times = psutil.Process(busy.pid).cpu_times()
    finally:
        busy.kill()
        busy.wait()
    assert isinstance(server._before, bytes)  # Linux: the raw line, untracked by the GC
    assert cpu_seconds(server._before) == pytest.approx(times.user + times.system, abs=1e-9)
    assert cpu_seconds(server._before) > 0


def test_server_gone_before_or_during_the_block_is_unavailable_not_zero() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert ServerCpu._watch(psutil, gone.pid, "x").source.startswith("unavailable: cannot read")
    dying = subprocess.Popen([sys.executable, "-c", BUSY])
    server = ServerCpu._watch(psutil, dying.pid, "x")
    server.start()
    dying.kill()
    dying.wait()
    server.stop()
    split = server.result(wall_ms=10.0, cpu_ms=5.0)
    assert split["server_cpu_ms"] is None and split["wait_ms"] is None
    assert split["server_cpu_source"].startswith("unavailable: ")
    assert split["server_cpu_source"].endswith(" reading the server's CPU time")


def test_sqlite_is_in_process_and_without_psutil_unavailable(monkeypatch) -> None:
    sqlite = ServerCpu.locate({"orm": "sqlalchemy", "db": "sqlite"}, None)
    assert sqlite.result(wall_ms=10.0, cpu_ms=7.0) == {
        "server_cpu_ms": None,
        "wait_ms": pytest.approx(3.0),
        "server_cpu_source": "in-process",
    }
    monkeypatch.setitem(sys.modules, "psutil", None)  # as in the seed-2022 profile's venv
    spec = {"orm": "mongoengine", "db": "mongodb://127.0.0.1:1/", "server_pid": 1}
    split = ServerCpu.locate(spec, None).result(wall_ms=10.0, cpu_ms=7.0)
    assert split["server_cpu_source"].startswith("unavailable: psutil is not installed")
    assert split["server_cpu_ms"] is None and split["wait_ms"] is None


def test_run_splits_wall_time_for_mongodb_and_postgresql(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared_envs: Path,  # noqa: F811
    database: str,  # noqa: F811
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "envs").symlink_to(shared_envs)
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(cache))
    for name in ("ORMGC_MONGODB_URL", "ORMGC_MONGODB_PORT", "ORMGC_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "records.json"
    command = [sys.executable, "-m", "ormgc", "run", "--orm", "sqlalchemy", "--orm", "mongoengine"]
    command += ["--db", f"postgresql://postgres@127.0.0.1:5432/{database}"]
    command += ["--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD), "--policy", "default"]
    command += ["--policy", "disabled", "--repeat", "2", "--json", str(out), "--wide"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "server ms" in done.stdout and "embedded-mongodb over the block" in done.stdout
    records = {(r["orm"], r["policy"]): r for r in json.loads(out.read_text())}
    mongo_pids = set()
    for (orm, _), record in records.items():
        assert record["counts_identical"], record["runs"]
        source = record["server_cpu_source"]
        if orm == "mongoengine":
            mongo_pids.add(re.fullmatch(r"embedded-mongodb pid (\d+)", source).group(1))
        else:
            assert re.fullmatch(r"postgresql backend pid \d+", source), source
        for run in record["runs"]:
            assert run["server_cpu_ms"] >= 0
            expected = run["wall_ms"] - run["cpu_ms"] - run["server_cpu_ms"]
            assert run["wait_ms"] == pytest.approx(expected)
    assert len(mongo_pids) == 1  # one server for the whole sweep
    mongo = [run for (orm, _), r in records.items() if orm == "mongoengine" for run in r["runs"]]
    assert sum(run["server_cpu_ms"] for run in mongo) > 0  # it served 4 x 500 documents


def test_reading_the_server_leaves_the_gc_counts_unchanged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared_envs: Path,  # noqa: F811
) -> None:
    """The same measurement with the server's CPU read (psutil imported, two reads around the
    block) and without (no process id: psutil never imported) counts the same collections."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "envs").symlink_to(shared_envs)
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(cache))
    monkeypatch.delenv("ORMGC_MONGODB_PORT", raising=False)
    interp = interpreter(None)
    with serve("mongoengine", "embedded") as url:
        scenario = Scenario("mongoengine", url, "seed_loop", SMALL_ROWS, SMALL_LOAD, 1)
        run_worker(interp, scenario.spec("prepare"))
        for policy in parse_policies(["default", "threshold:100"]):
            spec = scenario.spec("measure", policy)
            read = run_worker(interp, dict(spec, server_pid=served_pid(url)))
            unread = run_worker(interp, dict(spec, server_pid=None))
            assert read["server_cpu_source"].startswith("embedded-mongodb pid")
            assert unread["server_cpu_source"].startswith("unavailable: external")
            assert read["collections"] == unread["collections"] != [0, 0, 0]
            assert read["collected"] == unread["collected"]


def test_the_reads_around_the_block_leave_no_tracked_allocation_behind(restore_gc) -> None:
    """What decides when the next collection runs is the young generation's count: the reads
    must leave it as they found it (their temporaries are freed before the block starts)."""
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        server = ServerCpu._watch(psutil, busy.pid, "x")
        gc.disable()
        gc.collect()
        first, second = gc.get_count(), gc.get_count()  # what reading the count itself costs
        server.start()
        third = gc.get_count()
        server.stop()
        fourth = gc.get_count()
    finally:
        busy.kill()
        busy.wait()
    empty = second[0] - first[0]
    assert third[0] - second[0] == empty and fourth[0] - third[0] == empty
    assert server.result(1.0, 1.0)["server_cpu_ms"] is not None
