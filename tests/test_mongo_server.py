"""The embedded MongoDB server: its own venv, started and always stopped, faults in one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator, List

import pytest
from pymongo import MongoClient

import orm_fixtures
from orm_fixtures import FixtureError, mongo_server
from orm_fixtures import _server_env as server_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_envs(shared_cache: Path) -> Path:
    """The server's venv, installed once per test run (pip takes a while)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORMGC_CACHE_DIR", str(shared_cache))
        server_env.server_venv()
    return shared_cache / "envs"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_envs: Path) -> Path:
    """A fresh cache folder (own data, logs, pid file) sharing the session's server venv."""
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "envs").symlink_to(shared_envs)
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(folder))
    for name in (mongo_server.URL_ENV, mongo_server.PORT_ENV):
        monkeypatch.delenv(name, raising=False)
    return folder


def processes_mentioning(text: str) -> List[int]:
    """Pids of live processes whose command line contains ``text`` (orphan detection)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        time.sleep(0.1)
    return False


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_server_python_can_run_nx_27017() -> None:
    python = server_env.server_python()
    version = server_env._version(python)
    assert version is not None
    assert tuple(map(int, version.split(".")[:2])) >= (3, 10)


def test_server_venv_is_reused_and_complete(cache: Path) -> None:
    root = server_env.server_venv()
    assert (root / ".complete").read_text() == server_env.REQUIREMENTS.read_text()
    assert (root / "bin" / "nx-27017").exists()
    assert server_env.server_venv() == root


@pytest.mark.slow
def test_incomplete_venv_is_rebuilt_and_failed_install_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(tmp_path / "cache"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing to install\n")
    monkeypatch.setattr(server_env, "REQUIREMENTS", requirements)
    root = server_env.venv_root(server_env.server_python())
    root.mkdir(parents=True)
    (root / "leftover").write_text("an install interrupted before its marker")
    assert server_env.server_venv() == root
    assert (root / ".complete").exists() and not (root / "leftover").exists()

    requirements.write_text("this is not a requirement ===\n")  # fails locally, no download
    with pytest.raises(FixtureError, match="could not install the embedded MongoDB server"):
        server_env.server_venv()
    venvs = [path for path in (tmp_path / "cache" / "envs").glob("nx-27017-*") if path.is_dir()]
    assert venvs == [root]  # the failed one was removed


def test_embedded_server_answers_then_stops(cache: Path) -> None:
    with orm_fixtures.serve("mongoengine", "embedded") as url:
        assert url.startswith("mongodb://127.0.0.1:")
        with MongoClient(url, serverSelectionTimeoutMS=3000) as client:
            assert client.admin.command("hello")["ok"] == 1
            info = client.admin.command("buildInfo")
        pid_file = cache / "mongodb" / "nx-27017.pid"
        pid = int(pid_file.read_text())
        assert info["pid"] == pid
        assert processes_mentioning(str(cache)) == [pid]
    assert wait_gone(pid)
    assert not pid_file.exists()
    assert (cache / "mongodb" / "nx-27017.log").read_text()  # it logged to its file


def test_url_and_sqlalchemy_pass_through_without_a_server(cache: Path) -> None:
    with orm_fixtures.serve("mongoengine", "mongodb://u:pw@127.0.0.1:1/x") as url:
        assert url == "mongodb://u:pw@127.0.0.1:1/x"
        assert processes_mentioning(str(cache)) == []
    with orm_fixtures.serve("sqlalchemy", "sqlite") as db:
        assert db == "sqlite"


def test_unsupported_db_is_one_masked_line(cache: Path) -> None:
    with pytest.raises(FixtureError) as error, orm_fixtures.serve("mongoengine", "redis://u:pw@h/"):
        pass
    assert "unsupported database 'redis://u:***@h/'" in str(error.value)
    assert "\n" not in str(error.value)


def test_default_db_is_the_env_url_else_embedded(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert orm_fixtures.default_db("mongoengine") == "embedded"
    assert orm_fixtures.default_db("sqlalchemy") == "sqlite"
    monkeypatch.setenv(mongo_server.URL_ENV, "mongodb://db.example:27017/")
    assert orm_fixtures.default_db("mongoengine") == "mongodb://db.example:27017/"


def test_pinned_port_in_use_is_one_line(
    cache: Path, monkeypatch: pytest.MonkeyPatch, busy_port: int
) -> None:
    monkeypatch.setenv(mongo_server.PORT_ENV, str(busy_port))
    with pytest.raises(FixtureError) as error, orm_fixtures.serve("mongoengine", "embedded"):
        pass
    assert f"127.0.0.1:{busy_port} is already in use (set by ORMGC_MONGODB_PORT)" in str(
        error.value
    )
    assert processes_mentioning(str(cache)) == []


def test_free_port_taken_meanwhile_is_retried(
    cache: Path, monkeypatch: pytest.MonkeyPatch, busy_port: int
) -> None:
    ports = iter([busy_port])
    real_free_port = mongo_server._free_port
    monkeypatch.setattr(mongo_server, "_free_port", lambda: next(ports, None) or real_free_port())
    with orm_fixtures.serve("mongoengine", "embedded") as url:
        assert f":{busy_port}/" not in url
        with MongoClient(url, serverSelectionTimeoutMS=3000) as client:
            assert client.admin.command("ping")["ok"] == 1
    assert processes_mentioning(str(cache)) == []


def _fake_server_venv(tmp_path: Path, script: str) -> Path:
    """A server venv whose nx-27017 is ``script`` (its probe Python is the real one)."""
    root = tmp_path / "fake-venv"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").symlink_to(server_env.server_venv() / "bin" / "python")
    fake = root / "bin" / "nx-27017"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return root


def test_server_that_fails_to_start_is_one_line(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _fake_server_venv(tmp_path, "echo 'sqlite3.OperationalError: unable to open'; exit 1")
    monkeypatch.setattr(mongo_server, "server_venv", lambda: root)
    with pytest.raises(FixtureError) as error, orm_fixtures.serve("mongoengine", "embedded"):
        pass
    message = str(error.value)
    assert message.startswith("the embedded MongoDB server failed to start: sqlite3.Operational")
    assert "\n" not in message


def test_server_that_never_answers_is_stopped(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "fake.pid"
    root = _fake_server_venv(tmp_path, f"echo $$ > {pid_file}; exec sleep 600\n")
    monkeypatch.setattr(mongo_server, "server_venv", lambda: root)
    monkeypatch.setattr(mongo_server, "START_TIMEOUT_S", 2.0)
    never_answers = pytest.raises(FixtureError, match="did not answer within 2 s")
    with never_answers, orm_fixtures.serve("mongoengine", "embedded"):
        pass
    assert wait_gone(int(pid_file.read_text()), 5)


def test_error_inside_stops_server(cache: Path) -> None:
    failing = pytest.raises(RuntimeError, match="worker failed")
    with failing, orm_fixtures.serve("mongoengine", "embedded"):
        pid = int((cache / "mongodb" / "nx-27017.pid").read_text())
        raise RuntimeError("worker failed")
    assert wait_gone(pid)


def test_server_death_mid_run_is_named_as_the_cause(cache: Path) -> None:
    with pytest.raises(FixtureError) as error, orm_fixtures.serve("mongoengine", "embedded"):
        pid = int((cache / "mongodb" / "nx-27017.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid)
        raise RuntimeError("the measure worker failed: connection refused")
    assert "the embedded MongoDB server stopped unexpectedly (exit code -9)" in str(error.value)


_HOLD_SERVER = textwrap.dedent(
    """
    import sys, time
    import orm_fixtures
    with orm_fixtures.serve("mongoengine", "embedded") as url:
        print(url, flush=True)
        time.sleep(600)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_parent_signalled_leaves_no_server(cache: Path, signum: int) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _HOLD_SERVER],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().startswith("mongodb://127.0.0.1:")
        pid = int((cache / "mongodb" / "nx-27017.pid").read_text())
        parent.send_signal(signum)
        code = parent.wait(30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert code == {signal.SIGTERM: 143, signal.SIGINT: -2, signal.SIGKILL: -9}[signum]
    assert wait_gone(pid)  # SIGKILL: the kernel's parent-death signal stops it
    assert processes_mentioning(str(cache)) == []
