"""MongoEngine fixture, shapes and ``ormgc run --orm mongoengine`` against real server processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import bson
import pytest

import orm_fixtures
from orm_fixtures import FixtureError, dataset, open_fixture
from orm_fixtures.mongoengine_fixture import META_COLLECTION, entry_documents

from .test_mongo_server import ROOT, processes_mentioning, shared_envs, wait_gone  # noqa: F401

ROWS, LOAD = 2_000, 500


@pytest.fixture(scope="module")
def mongo_url(tmp_path_factory: pytest.TempPathFactory, shared_envs: Path) -> Iterator[str]:  # noqa: F811
    """One embedded server for the fixture tests of this module, in its own cache folder."""
    cache = tmp_path_factory.mktemp("mongo-cache")
    (cache / "envs").symlink_to(shared_envs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORMGC_CACHE_DIR", str(cache))
        with orm_fixtures.serve("mongoengine", "embedded") as url:
            yield url


@contextlib.contextmanager
def opened(db: str, rows: int = ROWS) -> Iterator[Any]:
    fixture = open_fixture("mongoengine", db, rows)
    try:
        yield fixture
    finally:
        fixture.close()


class AuthRejectingServer:
    """A stub speaking just enough of MongoDB's wire protocol to refuse every login."""

    HELLO = {
        "ok": 1.0,
        "isWritablePrimary": True,
        "ismaster": True,
        "maxBsonObjectSize": 16 * 1024 * 1024,
        "maxMessageSizeBytes": 48_000_000,
        "maxWriteBatchSize": 100_000,
        "minWireVersion": 0,
        "maxWireVersion": 21,
        "connectionId": 1,
        "saslSupportedMechs": ["SCRAM-SHA-256", "SCRAM-SHA-1"],
    }
    REFUSED = {"ok": 0.0, "errmsg": "Authentication failed.", "code": 18}

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.commands: List[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _answer(self, command: Dict[str, Any]) -> Dict[str, Any]:
        name = next(iter(command))
        self.commands.append(name)
        return self.HELLO if name.lower() in ("hello", "ismaster") else self.REFUSED

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while True:
                header = conn.recv(16, socket.MSG_WAITALL)
                if len(header) < 16:
                    return
                length, request_id, _, opcode = struct.unpack("<iiii", header)
                body = conn.recv(length - 16, socket.MSG_WAITALL)
                if opcode == 2004:  # OP_QUERY: the legacy first hello
                    start = body.index(b"\0", 4) + 9
                    answer = self._answer(bson.decode(body[start:]))
                    payload, reply_opcode = struct.pack("<iqii", 0, 0, 0, 1), 1
                else:  # OP_MSG, one body section
                    answer = self._answer(bson.decode(body[5:]))
                    payload, reply_opcode = struct.pack("<iB", 0, 0), 2013
                payload += bson.encode(answer)
                conn.sendall(struct.pack("<iiii", 16 + len(payload), 1, request_id, reply_opcode))
                conn.sendall(payload)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def auth_server() -> Iterator[AuthRejectingServer]:
    server = AuthRejectingServer()
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_shape_registry_matches_names_heaviest_first() -> None:
    registry = orm_fixtures.shapes("mongoengine")
    assert tuple(registry) == orm_fixtures.SHAPE_NAMES["mongoengine"]
    assert all(shape.doc and shape.opens == "documents" for shape in registry.values())


def test_documents_hold_the_sql_dataset_values_with_deterministic_ids() -> None:
    rows = list(dataset.entry_rows(20_000))
    documents = list(entry_documents(20_000, dataset.DEFAULT_SEED))
    assert documents == list(entry_documents(20_000, dataset.DEFAULT_SEED))
    assert len({document["_id"] for document in documents}) == len(rows)
    for row, document in zip(rows[:100], documents):
        assert document["created_date"] == row.created_date
        assert document["some_random_number"] == row.some_random_number
        assert document["_id"].generation_time.replace(tzinfo=None) == row.created_date


def test_dataset_is_built_once_then_reused(mongo_url: str, capfd: pytest.CaptureFixture) -> None:
    with opened(mongo_url + "built_once") as fixture:
        fixture.ensure()
        assert "building MongoDB dataset of 2000 documents" in capfd.readouterr().err
        assert fixture.verify() is None
        assert fixture.count_entries() == ROWS
    with opened(mongo_url + "built_once") as fixture:
        fixture.ensure()
        assert capfd.readouterr().err == ""


def test_url_without_database_gets_one_per_dataset(mongo_url: str) -> None:
    with opened(mongo_url, rows=300) as fixture:
        assert fixture.database == f"ormgc_v{dataset.SCHEMA_VERSION}_r300_s{dataset.DEFAULT_SEED}"
        fixture.ensure()
        assert fixture.count_entries() == 300


def test_wrong_or_incomplete_dataset_is_rebuilt_with_a_message(
    mongo_url: str, capfd: pytest.CaptureFixture
) -> None:
    with opened(mongo_url + "reused_db", rows=300) as fixture:
        fixture.ensure()
    capfd.readouterr()
    with opened(mongo_url + "reused_db", rows=ROWS) as fixture:
        assert (
            fixture.verify()
            == "another dataset ({'schema_version': 1, 'rows': 300, 'seed': 20220107})"
        )
        fixture.ensure()
        assert "holds another dataset" in capfd.readouterr().err
        assert fixture.count_entries() == ROWS
        fixture._db()[META_COLLECTION].drop()  # as if a build had been interrupted
        assert fixture.verify() == f"an incomplete build ({ROWS} documents)"
        fixture.ensure()
        assert "holds an incomplete build" in capfd.readouterr().err
        assert fixture.verify() is None


_ENSURE = (
    "import sys, orm_fixtures; orm_fixtures.open_fixture('mongoengine', sys.argv[1], 3000).ensure()"
)


def test_concurrent_builders_build_once(mongo_url: str) -> None:
    builders = [
        subprocess.Popen(
            [sys.executable, "-c", _ENSURE, mongo_url + "raced"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    messages = [builder.communicate(timeout=120)[1] for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0], messages
    assert sum("ormgc: building" in message for message in messages) == 1, messages
    with opened(mongo_url + "raced", rows=3000) as fixture:
        assert fixture.verify() is None


@pytest.mark.parametrize("name", orm_fixtures.SHAPE_NAMES["mongoengine"])
def test_every_shape_loads_exactly_n(mongo_url: str, name: str) -> None:
    shape = orm_fixtures.shapes("mongoengine")[name]
    with opened(mongo_url + "shapes") as fixture:
        fixture.ensure()
        with fixture.documents() as entry:
            loaded = shape.run(entry, LOAD)
    assert len(loaded) == LOAD
    first = loaded[0]
    if name == "as_pymongo":
        assert set(first) == {"_id", "created_date", "some_random_number"}
    else:
        assert isinstance(first, entry)
        assert first.some_random_number is not None
        assert (first.created_date is None) == (name == "only_fields")


def test_describe_names_driver_and_server(mongo_url: str) -> None:
    with opened(mongo_url + "shapes") as fixture:
        described = fixture.describe()
    assert described["orm"] == "mongoengine" and described["orm_version"] == "0.29.3"
    assert described["driver"] == "pymongo" and described["driver_version"]
    assert described["backend"] == mongo_url + "shapes"
    assert described["server"] == "nx_27017" and described["server_version"]


def test_not_a_url_is_refused() -> None:
    with pytest.raises(FixtureError, match="give a mongodb:// URL"):
        open_fixture("mongoengine", "embedded", ROWS)


def test_unreachable_url_fails_within_seconds() -> None:
    port = closed_port()
    started = time.monotonic()
    with (
        pytest.raises(FixtureError) as error,
        opened(f"mongodb://u:hunter2@127.0.0.1:{port}/x") as f,
    ):
        f.ensure()
    assert time.monotonic() - started < 15  # pymongo's own default would wait 30 s
    message = str(error.value)
    assert message.startswith(f"cannot reach MongoDB at mongodb://u:***@127.0.0.1:{port}/x: ")
    assert "hunter2" not in message and "\n" not in message


def test_wrong_credentials_are_one_masked_line(auth_server: AuthRejectingServer) -> None:
    url = f"mongodb://bob:hunter2@127.0.0.1:{auth_server.port}/x"
    with pytest.raises(FixtureError) as error, opened(url) as fixture:
        fixture.ensure()
    assert str(error.value) == (
        f"MongoDB at mongodb://bob:***@127.0.0.1:{auth_server.port}/x: connecting: "
        "authentication failed (wrong user name or password?)"
    )
    assert "saslStart" in auth_server.commands  # the login really was attempted and refused


def test_credentials_on_the_embedded_server_are_one_line(mongo_url: str) -> None:
    """nx-27017 has no authentication: it garbles the login; we say so, password masked."""
    url = mongo_url.replace("127.0.0.1", "bob:hunter2@127.0.0.1") + "x"
    with pytest.raises(FixtureError) as error, opened(url) as fixture:
        fixture.ensure()
    assert "does it support authentication?" in str(error.value)
    assert "hunter2" not in str(error.value)


# --- ormgc run, as a user runs it -----------------------------------------------------------


@pytest.fixture
def cli_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_envs: Path) -> Path:  # noqa: F811
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "envs").symlink_to(shared_envs)
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(folder))
    monkeypatch.delenv("ORMGC_MONGODB_URL", raising=False)
    monkeypatch.delenv("ORMGC_MONGODB_PORT", raising=False)
    return folder


def ormgc(*args: str) -> List[str]:
    return [sys.executable, "-m", "ormgc", "run", "--orm", "mongoengine", *args]


def run_ormgc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(ormgc(*args), cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_run_embedded_counts_identical_over_five_fresh_runs(
    cli_cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "records.json"
    sweep = ("--policy", "default", "--policy", "threshold:50000", "--repeat", "5")
    done = run_ormgc("--rows", "5000", "--load", "2000", *sweep, "--json", str(out), "--wide")
    assert done.returncode == 0, done.stderr
    assert "mongoengine  seed_loop  default" in done.stdout  # --wide: the orm column too
    records = {record["policy"]: record for record in json.loads(out.read_text())}
    for record in records.values():
        assert record["repeat"] == 5 and record["counts_identical"], record["runs"]
        assert record["server"] == "nx_27017" and record["loaded"] == 2000
    assert records["default"]["collections_total"] > records["threshold:50000"]["collections_total"]
    assert processes_mentioning(str(cli_cache)) == []  # the server stopped with the run
    assert not (cli_cache / "mongodb" / "nx-27017.pid").exists()


def test_run_unreachable_url_is_one_line(cli_cache: Path, tmp_path: Path) -> None:
    port = closed_port()
    out = tmp_path / "records.json"
    done = run_ormgc("--db", f"mongodb://u:hunter2@127.0.0.1:{port}/", "--json", str(out))
    assert done.returncode == 1
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("ormgc: error")]
    assert error_lines == [
        f"ormgc: error: cannot reach MongoDB at mongodb://u:***@127.0.0.1:{port}/: "
        f"127.0.0.1:{port}: [Errno 111] Connection refused"
    ]
    assert "hunter2" not in done.stdout + done.stderr
    assert not out.exists()


def test_run_wrong_credentials_never_shows_the_password(
    cli_cache: Path, auth_server: AuthRejectingServer
) -> None:
    done = run_ormgc("--db", f"mongodb://bob:hunter2@127.0.0.1:{auth_server.port}/")
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("authentication failed (wrong user name or password?)")
    )
    assert "hunter2" not in done.stdout + done.stderr


def _start_long_run(cache: Path) -> subprocess.Popen:
    """An ``ormgc run`` that would take minutes, returned once its first measurement is done."""
    args = ormgc("--rows", "3000", "--load", "1000", "--policy", "default", "--repeat", "100")
    run = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert run.stderr is not None
    for line in run.stderr:
        if line.startswith("[1/100]"):
            return run
    run.wait()
    raise AssertionError(f"ormgc run ended before measuring (exit code {run.returncode})")


@pytest.mark.slow
def test_run_interrupted_leaves_no_server(cli_cache: Path) -> None:
    run = _start_long_run(cli_cache)
    try:
        pid = int((cli_cache / "mongodb" / "nx-27017.pid").read_text())
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130
    assert "ormgc: interrupted; no result written" in stderr
    assert wait_gone(pid)
    assert processes_mentioning(str(cli_cache)) == []


@pytest.mark.slow
def test_run_server_dying_mid_run_is_one_line(cli_cache: Path) -> None:
    run = _start_long_run(cli_cache)
    try:
        os.kill(int((cli_cache / "mongodb" / "nx-27017.pid").read_text()), signal.SIGKILL)
        stdout, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("ormgc: error: the embedded MongoDB server stopped unexpectedly (exit code -9)")
    )
    assert processes_mentioning(str(cli_cache)) == []
