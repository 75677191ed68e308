"""The SQLite dataset cache: built once, verified, rebuilt when broken, never half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orm_fixtures import FixtureError, open_fixture
from orm_fixtures.sqlalchemy_fixture import verify_sqlite

from .conftest import ROOT, SMALL_ROWS

BUILD = (
    "from orm_fixtures import open_fixture; open_fixture('sqlalchemy', 'sqlite', {rows}).ensure()"
)


def _build_process(cache: Path, rows: int) -> subprocess.Popen:
    env = dict(os.environ, ORMGC_CACHE_DIR=str(cache))
    return subprocess.Popen(
        [sys.executable, "-c", BUILD.format(rows=rows)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_built_once_then_reused(cache: Path, capsys: pytest.CaptureFixture) -> None:
    fixture = open_fixture("sqlalchemy", "sqlite", SMALL_ROWS)
    fixture.ensure()
    assert "building" in capsys.readouterr().err
    stamp = fixture.path.stat().st_mtime_ns
    open_fixture("sqlalchemy", "sqlite", SMALL_ROWS).ensure()
    assert "building" not in capsys.readouterr().err
    assert fixture.path.stat().st_mtime_ns == stamp
    assert fixture.count_entries() == SMALL_ROWS
    assert verify_sqlite(fixture.path, SMALL_ROWS, fixture.seed) is None


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_rows", "empty"])
def test_broken_cache_is_rebuilt_with_a_message(
    cache: Path, capsys: pytest.CaptureFixture, damage: str
) -> None:
    fixture = open_fixture("sqlalchemy", "sqlite", SMALL_ROWS)
    fixture.ensure()
    data = fixture.path.read_bytes()
    if damage == "garbage":
        fixture.path.write_bytes(b"not a database at all" * 100)
    elif damage == "truncated":
        fixture.path.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        fixture.path.write_bytes(b"")
    else:
        import sqlite3

        with sqlite3.connect(fixture.path) as conn:
            conn.execute("DELETE FROM entry WHERE rowid % 2 = 0")
    capsys.readouterr()
    assert verify_sqlite(fixture.path, SMALL_ROWS, fixture.seed) is not None
    open_fixture("sqlalchemy", "sqlite", SMALL_ROWS).ensure()
    err = capsys.readouterr().err
    assert "failed verification" in err and "rebuilding" in err
    assert verify_sqlite(fixture.path, SMALL_ROWS, fixture.seed) is None


def test_concurrent_builders_build_once(cache: Path) -> None:
    builders = [_build_process(cache, 30_000) for _ in range(3)]
    outputs = [builder.communicate(timeout=300)[1] for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0, 0]
    assert sum(out.count("ormgc: building SQLite dataset") for out in outputs) == 1
    assert sum(out.count("waiting for another process") for out in outputs) >= 1
    path = open_fixture("sqlalchemy", "sqlite", 30_000).path
    assert verify_sqlite(path, 30_000, open_fixture("sqlalchemy", "sqlite", 30_000).seed) is None


def test_interrupted_build_is_never_reused(cache: Path) -> None:
    rows = 400_000
    fixture = open_fixture("sqlalchemy", "sqlite", rows)
    builder = _build_process(cache, rows)
    deadline = time.monotonic() + 60
    while not list(fixture.path.parent.glob("*.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    builder.send_signal(signal.SIGKILL)  # no cleanup at all: the worst interruption
    builder.wait()
    assert list(fixture.path.parent.glob("*.tmp-*")), "the build should have been mid-way"
    assert not fixture.path.exists()
    with pytest.raises(FixtureError, match="missing or incomplete"):
        fixture.count_entries()


def test_stale_temp_files_are_cleared_by_the_next_build(cache: Path) -> None:
    fixture = open_fixture("sqlalchemy", "sqlite", SMALL_ROWS)
    fixture.path.parent.mkdir(parents=True)
    stale = fixture.path.with_name(fixture.path.name + ".tmp-99999")
    stale.write_bytes(b"half a database")
    fixture.ensure()
    assert not stale.exists()
    assert fixture.count_entries() == SMALL_ROWS


def test_explicit_sqlite_path(tmp_path: Path, cache: Path) -> None:
    target = tmp_path / "mine.sqlite3"
    fixture = open_fixture("sqlalchemy", f"sqlite:///{target}", SMALL_ROWS)
    fixture.ensure()
    assert verify_sqlite(target, SMALL_ROWS, fixture.seed) is None
    assert fixture.describe()["backend"] == f"sqlite:///{target}"


@pytest.mark.parametrize("db", ["mysql://u:secret@host/db", "sqlite:///", "nonsense"])
def test_unsupported_databases_are_fixture_errors(cache: Path, db: str) -> None:
    with pytest.raises(FixtureError) as error:
        open_fixture("sqlalchemy", db, SMALL_ROWS)
    assert "secret" not in str(error.value)
