"""SQLAlchemy on the machine's PostgreSQL through psycopg 3: datasets, shapes, faults, secrets.

Every test works in a database of its own, created here and dropped at the end, so that
manual runs and concurrent test sessions never see each other's schemas.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator, List

import psycopg
import pytest
from sqlalchemy.engine import make_url

from orm_fixtures import FixtureError, open_fixture
from orm_fixtures import _sql_postgres as pg

ROOT = Path(__file__).resolve().parent.parent
ROWS, LOAD = 2_000, 1_000
SECRET = "hunter2-not-for-logs"  # trust auth on 127.0.0.1 accepts (and ignores) any password


def _admin(dbname: str = "postgres") -> psycopg.Connection:
    conninfo = f"host=127.0.0.1 port=5432 user=postgres dbname={dbname} connect_timeout=5"
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed (./dev test starts it): {exc}")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """The name of a fresh database, dropped with every schema in it after the module."""
    name = f"ormgc_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(path))
    monkeypatch.delenv(pg.URL_ENV, raising=False)
    return path


def _url(database: str, password: str = "") -> str:
    secret = f":{password}" if password else ""
    return f"postgresql://postgres{secret}@127.0.0.1:5432/{database}"


def _schemas(database: str) -> List[str]:
    with _admin(database) as conn:
        query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ormgc%' ORDER BY 1"
        return [row[0] for row in conn.execute(query)]


def _run(db: str, out: Path, *more: str, **env: str) -> subprocess.CompletedProcess:
    """``ormgc run`` on a small dataset, as a user runs it, in a fresh process."""
    command = ["run", "--db", db, "--rows", str(ROWS), "--load", str(LOAD), "--json", str(out)]
    return subprocess.run(
        [sys.executable, "-m", "ormgc", *command, *more],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, **env), timeout=300,
    )  # fmt: skip


def _fails_in_one_line(done: subprocess.CompletedProcess, out: Path, *expected: str) -> str:
    """A fault: non-zero exit, one error line, no traceback, no file, no password anywhere."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0
    assert lines and lines[-1].startswith("ormgc: error: "), done.stderr
    assert sum(line.startswith("ormgc: error") for line in lines) == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert SECRET not in done.stderr
    assert not out.exists()
    for text in expected:
        assert text in lines[-1]
    return lines[-1]


# -- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "db, expected",
    [
        ("postgresql", pg.DEFAULT_URL),
        ("postgresql://u:pw@h:6543/bench", "postgresql+psycopg://u:pw@h:6543/bench"),
        ("postgresql+psycopg://u@h/bench", "postgresql+psycopg://u@h/bench"),
    ],
)
def test_url_forms_all_mean_psycopg_3(db: str, expected: str) -> None:
    assert pg.resolve_url(db).render_as_string(hide_password=False) == expected


def test_shortcut_takes_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pg.URL_ENV, "postgresql://me:pw@elsewhere/bench")
    url = pg.resolve_url("postgresql")
    assert (url.drivername, url.host, url.password) == ("postgresql+psycopg", "elsewhere", "pw")
    monkeypatch.setenv(pg.URL_ENV, "mysql://me:pw@elsewhere/bench")
    with pytest.raises(FixtureError, match=r"\$ORMGC_POSTGRES_URL") as error:
        pg.resolve_url("postgresql")
    assert ":pw@" not in str(error.value)


@pytest.mark.parametrize(
    "db, expected",
    [
        (f"postgres://u:{SECRET}@127.0.0.1/test", "postgresql://"),
        (f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/test", "psycopg 3"),
        (f"mysql://u:{SECRET}@127.0.0.1/test", "unsupported database"),
        (f"postgresql://u:{SECRET}@127.0.0.1:5432", "names no database"),
        (f"postgresql://u:{SECRET}@x@127.0.0.1/test", "%40"),
        (f"postgresql://u@127.0.0.1/test?password={SECRET}", "PGPASSWORD"),
    ],
)
def test_wrong_urls_fail_in_one_line(tmp_path: Path, db: str, expected: str) -> None:
    out = tmp_path / "records.json"
    _fails_in_one_line(_run(db, out), out, expected)


def test_seed_profile_sqlalchemy_says_it_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg.sqlalchemy, "__version__", "1.4.29")
    with pytest.raises(FixtureError, match="from 2.0.*--profile current"):
        open_fixture("sqlalchemy", "postgresql", ROWS).ensure()


# -- Unreachable servers, missing databases, wrong credentials -------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:  # nobody listens on it once this closes
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "where, expected",
    [
        ("u@127.0.0.1:{silent}/test", f"no answer within {pg.CONNECT_TIMEOUT_S} s"),
        ("u@127.0.0.1:{closed}/test", "Connection refused"),
        ("postgres@127.0.0.1:5432/ormgc_no_db", 'database "ormgc_no_db" does not exist'),
        ("ormgc_nobody@127.0.0.1:5432/{database}", 'role "ormgc_nobody" does not exist'),
    ],
)
def test_server_says_no(tmp_path: Path, database: str, where: str, expected: str) -> None:
    out = tmp_path / "records.json"
    with socket.socket() as silent:  # accepts TCP connections (backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        ports = {"silent": silent.getsockname()[1], "closed": _closed_port()}
        user, _, rest = where.format(database=database, **ports).partition("@")
        started = time.monotonic()
        done = _run(f"postgresql://{user}:{SECRET}@{rest}", out)
    line = _fails_in_one_line(done, out, "cannot connect to PostgreSQL", expected)
    assert f"{user}:***@" in line
    # Within the connect timeout, not TCP's minutes; generous slack for a busy machine.
    assert time.monotonic() - started < pg.CONNECT_TIMEOUT_S + 20


@contextlib.contextmanager
def _password_server(password: str) -> Iterator[int]:
    """A private PostgreSQL cluster that checks passwords (the machine's trusts everyone)."""
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        pytest.skip("initdb not found: cannot start a server with password authentication")
    pg_ctl = os.path.join(os.path.dirname(initdb[-1]), "pg_ctl")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # not root
    root = Path(tempfile.mkdtemp(prefix="ormgc-pgauth-"))
    (root / "pw").write_text(password)
    for path in (root, root / "pw") if as_postgres else ():
        shutil.chown(path, "postgres")
    port = _closed_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root}"
    try:
        for command in (
            [initdb[-1], "-U", "postgres", f"--pwfile={root}/pw", "--auth=scram-sha-256", "-N"],
            [pg_ctl, "-o", options, "-l", f"{root}/log", "-w", "start"],
        ):
            subprocess.run([*as_postgres, *command, "-D", f"{root}/data"], check=True,
                           capture_output=True)  # fmt: skip
        yield port
    finally:
        stop = [pg_ctl, "-D", f"{root}/data", "-m", "immediate", "-w", "stop"]
        subprocess.run([*as_postgres, *stop], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_password_authentication(tmp_path: Path) -> None:
    with _password_server(SECRET) as port:
        out = tmp_path / "records.json"
        wrong = _run(f"postgresql://postgres:wrong-{SECRET}@127.0.0.1:{port}/postgres", out)
        _fails_in_one_line(wrong, out, 'password authentication failed for user "postgres"')
        right = _run(
            f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/postgres", out, "--shape", "orm_all",
            "--policy", "default",
        )  # fmt: skip
        assert right.returncode == 0, right.stderr
    assert SECRET not in right.stdout + right.stderr + out.read_text()
    (record,) = json.loads(out.read_text())
    assert record["backend"] == f"postgresql+psycopg://postgres:***@127.0.0.1:{port}/postgres"
    assert record["loaded"] == LOAD


# -- Datasets: schema per (version, rows, seed), atomic builds, one builder ---------------------


def test_built_once_verified_reused(database: str, capsys: pytest.CaptureFixture) -> None:
    fixture = open_fixture("sqlalchemy", _url(database, SECRET), ROWS, seed=11)
    fixture.ensure()
    err = capsys.readouterr().err
    assert "building PostgreSQL dataset of 2000 rows" in err and SECRET not in err
    assert "ormgc_v1_r2000_s11" in _schemas(database)
    open_fixture("sqlalchemy", _url(database), ROWS, seed=11).ensure()
    assert "building" not in capsys.readouterr().err
    assert fixture.count_entries() == ROWS
    described = fixture.describe()
    fixture.close()
    assert described["backend"] == f"postgresql+psycopg://postgres:***@127.0.0.1:5432/{database}"
    assert (described["driver"], described["driver_version"]) == ("psycopg", psycopg.__version__)
    assert described["db_schema"] == "ormgc_v1_r2000_s11"
    assert described["server_version"].split(".")[0].isdigit()
    assert "_building" not in " ".join(_schemas(database))


def test_unbuilt_dataset_is_not_measured(database: str) -> None:
    fixture = open_fixture("sqlalchemy", _url(database), ROWS, seed=12)
    with pytest.raises(FixtureError, match="missing or incomplete"):
        fixture.count_entries()
    assert pg.schema_name(ROWS, 12) not in _schemas(database)


DAMAGE = {
    "rows_deleted": "DELETE FROM {schema}.entry WHERE some_random_number % 2 = 0",
    "other_dataset": "UPDATE {schema}.ormgc_meta SET value = '7' WHERE key = 'seed'",
    "table_dropped": "DROP TABLE {schema}.child",
    "meta_emptied": "DELETE FROM {schema}.ormgc_meta",
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_dataset_is_rebuilt_with_a_message(
    database: str, capsys: pytest.CaptureFixture, damage: str
) -> None:
    fixture = open_fixture("sqlalchemy", _url(database), ROWS, seed=13)
    fixture.ensure()
    schema = pg.schema_name(ROWS, 13)
    with _admin(database) as conn:
        conn.execute(DAMAGE[damage].format(schema=schema))
    capsys.readouterr()
    fixture.ensure()
    err = capsys.readouterr().err
    assert "failed verification" in err and "rebuilding" in err
    assert fixture.count_entries() == ROWS
    fixture.close()


def _builder(database: str, rows: int, seed: int) -> subprocess.Popen:
    code = "import sys; from orm_fixtures import open_fixture as f; a = sys.argv[1:]; "
    code += "f(a[0], a[1], int(a[2]), int(a[3])).ensure()"
    command = [sys.executable, "-c", code, "sqlalchemy", _url(database), str(rows), str(seed)]
    return subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def test_concurrent_builders_build_once(database: str) -> None:
    key = pg._lock_key(pg.schema_name(ROWS, 14))
    with _admin(database) as holder:  # hold the builders' lock, so that both must wait
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        builders = [_builder(database, ROWS, 14) for _ in range(2)]
        for builder in builders:
            assert "waiting for another process" in builder.stderr.readline()
        holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
    rest = [builder.communicate(timeout=120)[1] for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0]
    assert sum(err.count("building PostgreSQL dataset") for err in rest) == 1
    assert pg.schema_name(ROWS, 14) in _schemas(database)


@pytest.mark.slow
def test_killed_build_leaves_nothing(database: str) -> None:
    schema = pg.schema_name(100_000, 15)
    builder = _builder(database, 100_000, 15)
    assert "building PostgreSQL dataset" in builder.stderr.readline()
    time.sleep(0.5)  # mid-way through the inserts
    builder.send_signal(signal.SIGKILL)  # no cleanup at all: the worst interruption
    builder.wait()
    assert builder.returncode == -signal.SIGKILL, "the build should have been mid-way"
    assert not [name for name in _schemas(database) if name.startswith(schema)]  # not half
    lock = f"SELECT pg_try_advisory_lock({pg._lock_key(schema)})"
    with _admin(database) as conn:  # the server rolls back and frees the lock by itself
        deadline = time.monotonic() + 30
        while not conn.execute(lock).fetchone()[0]:
            assert time.monotonic() < deadline, "the dead builder's lock was never released"
            time.sleep(0.2)
    assert not [name for name in _schemas(database) if name.startswith(schema)]


# -- Measuring: every shape, the shortcut, identical counts, no password in results ---------------


@pytest.mark.slow
def test_all_shapes_repeat_identical_counts_and_hide_the_password(
    tmp_path: Path, database: str
) -> None:
    out = tmp_path / "records.json"
    done = _run(
        _url(database, SECRET), out, "--shape", "all", "--policy", "default", "--repeat", "3"
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr + out.read_text()
    records = json.loads(out.read_text())
    assert [r["shape"] for r in records] == [
        "seed_loop",
        "orm_all",
        "orm_yield_per",
        "orm_relationships",
        "core_rows",
        "request_loop",
        "trash_loop",
    ]  # fmt: skip ('all' is every shape, the request loop too)
    for record in records:
        # which load per request, not LOAD at once
        loads = record["shape"] not in ("request_loop", "trash_loop")
        assert (record["loaded"] == LOAD or not loads) and record["repeat"] == 3
        assert record["counts_identical"], record["runs"]
        assert record["driver"] == "psycopg" and record["db_schema"] == "ormgc_v1_r2000_s20220107"
        assert record["backend"].startswith("postgresql+psycopg://postgres:***@")
    by_shape = {r["shape"]: r["collections_total"] for r in records}
    assert by_shape["seed_loop"] > by_shape["core_rows"]  # ORM objects are what the GC chases


def test_shortcut_with_environment_variable(tmp_path: Path, database: str) -> None:
    out = tmp_path / "records.json"
    env = {pg.URL_ENV: _url(database, SECRET)}
    done = _run("postgresql", out, "--shape", "orm_all", "--policy", "default", **env)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr + out.read_text()
    (record,) = json.loads(out.read_text())
    assert make_url(record["backend"]).database == database
    assert record["collections_total"] > 0
