"""Where the wall time goes: the server's CPU time read with psutil around the block, for real
server processes (a busy process, the embedded MongoDB server, a PostgreSQL backend)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ormgc.worker.server_cpu import ServerCpu

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
    assert split["server_cpu_source"] == "unavailable: NoSuchProcess reading the server's CPU time"


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
    command += ["--policy", "disabled", "--repeat", "2", "--json", str(out)]
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
