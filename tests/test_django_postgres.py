"""Django on the machine's PostgreSQL: the schema SQLAlchemy built, every shape, faults.

The module works in a database of its own, created here and dropped at the end.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from orm_fixtures import FixtureError, open_fixture, shapes
from orm_fixtures import _sql_shared as sql
from orm_fixtures.django_models import Entry

from .conftest import SMALL_LOAD, SMALL_ROWS, ormgc
from .test_django import KINDS

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The URL of a fresh database, dropped with every schema in it after the module."""
    name = f"ormgc_django_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed (./dev test starts it): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fixture(url: str, cache: Path):
    fixture = open_fixture("django", url, SMALL_ROWS)
    fixture.ensure()  # builds the schema through the SQLAlchemy fixture
    yield fixture
    fixture.close()


@pytest.mark.parametrize("name", list(KINDS))
def test_shape_loads_exactly_n(fixture, name: str) -> None:
    shape = shapes("django")[name]
    with getattr(fixture, shape.opens)() as handle:
        loaded = shape.run(handle, SMALL_LOAD)
    assert len(loaded) == SMALL_LOAD
    assert all(isinstance(item, KINDS[name]) for item in loaded)


def test_same_rows_as_on_sqlite(fixture, use_shared_cache: Path) -> None:
    on_sqlite = open_fixture("django", "sqlite", SMALL_ROWS)
    on_sqlite.ensure()
    values = []
    for each in (fixture, on_sqlite):
        with each.database() as alias:
            values.append(list(Entry.objects.using(alias).order_by("id").values_list()))
    on_sqlite.close()
    assert values[0] == values[1] and len(values[0]) == SMALL_ROWS


def test_describe_names_the_schema_and_driver(fixture) -> None:
    description = fixture.describe()
    assert description["db_schema"] == sql.schema_name(SMALL_ROWS, fixture.seed)
    assert description["driver"] == "psycopg" and description["server"] == "postgresql"
    assert description["server_version"][0].isdigit()


def test_missing_schema_is_one_error(url: str) -> None:
    fixture = open_fixture("django", url, SMALL_ROWS + 7)  # never built
    with pytest.raises(FixtureError, match=r"schema ormgc_v1_r2007_\S+ .* missing or incomplete"):
        fixture.count_entries()


def test_password_stays_out_of_errors_and_records(url: str, tmp_path: Path) -> None:
    secret_url = url.replace("postgres@", "postgres:hunter2-django@")
    fixture = open_fixture("django", secret_url.replace(":5432/", ":1/"), SMALL_ROWS)
    with pytest.raises(FixtureError) as caught:
        fixture.count_entries()
    assert "cannot connect to PostgreSQL" in str(caught.value)
    assert "hunter2" not in str(caught.value) and "***" in str(caught.value)


def test_run_every_shape_on_postgresql(url: str, cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    done = ormgc("run", "--orm", "django", "--db", url, "--rows", str(SMALL_ROWS),
                 "--load", str(SMALL_LOAD), "--shape", "all", "--policy", "default",
                 "--json", str(out), cache_dir=cache)  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = json.loads(out.read_text())
    assert [record["shape"] for record in records] == [*KINDS, "request_loop", "trash_loop"]
    assert {record["driver"] for record in records} == {"psycopg"}
    assert {record["db_schema"] for record in records} == {sql.schema_name(SMALL_ROWS, 20220107)}
    assert all(record["loaded"] == SMALL_LOAD for record in records if record["shape"] in KINDS)
