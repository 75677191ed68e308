"""Django's ORM on the SQL dataset: the fixture, every shape on SQLite, the CLI, bad input.

PostgreSQL runs are in test_django_postgres.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import django
import pytest
from django.db import DatabaseError
from django.db.models.signals import post_init

import orm_fixtures
from orm_fixtures import FixtureError, open_fixture, shapes
from orm_fixtures.django_models import Child, Entry
from orm_fixtures.sqlalchemy_fixture import verify_sqlite

from .conftest import SMALL_LOAD, SMALL_ROWS, error_lines, ormgc

KINDS = {
    "seed_loop": Entry,
    "list_slice": Entry,
    "iterator": Entry,
    "select_related": Child,
    "values": dict,
    "values_list": tuple,
}
SMALL = ("--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD))


@pytest.fixture
def fixture(use_shared_cache: Path):
    fixture = open_fixture("django", "sqlite", SMALL_ROWS)
    fixture.ensure()
    yield fixture
    fixture.close()


def entry_values(fixture) -> list:
    """Every entry as (id, created_date, some_random_number), in id order."""
    with fixture.database() as alias:
        return list(Entry.objects.using(alias).order_by("id").values_list())


def test_registry_matches_the_declared_names() -> None:
    registry = shapes("django")
    assert tuple(registry) == orm_fixtures.SHAPE_NAMES["django"] == tuple(KINDS)
    assert all(shape.doc and "\n" not in shape.doc for shape in registry.values())


@pytest.mark.parametrize("name", list(KINDS))
def test_shape_loads_exactly_n(fixture, name: str) -> None:
    shape = shapes("django")[name]
    with getattr(fixture, shape.opens)() as handle:
        loaded = shape.run(handle, SMALL_LOAD)
    assert len(loaded) == SMALL_LOAD
    assert all(isinstance(item, KINDS[name]) for item in loaded)


def test_reads_the_rows_sqlalchemy_built(fixture) -> None:
    """Same file, same values: the SQLAlchemy fixture's cached SQLite dataset, read by Django."""
    from sqlalchemy import select

    from orm_fixtures.sqlalchemy_models import Entry as SqlEntry

    sql = open_fixture("sqlalchemy", "sqlite", SMALL_ROWS)
    assert sql.path == fixture.path and verify_sqlite(fixture.path, SMALL_ROWS, 20220107) is None
    with sql.session() as session:
        rows = session.execute(select(SqlEntry).order_by(SqlEntry.id)).scalars()
        expected = [(e.id, e.created_date, e.some_random_number) for e in rows]
    sql.close()
    assert entry_values(fixture) == expected and len(expected) == SMALL_ROWS


def test_opens_the_dataset_read_only(fixture) -> None:
    with fixture.database() as alias, pytest.raises(DatabaseError, match="readonly"):
        Entry.objects.using(alias).filter(some_random_number__gt=0).update(some_random_number=0)


def test_select_related_makes_reference_cycles(fixture) -> None:
    with fixture.database() as alias:
        children = shapes("django")["select_related"].run(alias, 100)
    parents = {id(child.parent): child.parent for child in children}.values()
    back = [c for p in parents for c in p.children.all() if c.parent is p]  # child->parent->child
    assert back and all(child.parent_id == child.parent.id for child in children)


def test_seed_loop_fills_the_whole_result_cache_first(fixture) -> None:
    # The published loop breaks at N, but a QuerySet builds every row's instance before that.
    built = []

    def count(sender: type, instance: Entry, **kwargs: object) -> None:
        built.append(instance)

    post_init.connect(count, sender=Entry)
    try:
        with fixture.database() as alias:
            assert len(shapes("django")["seed_loop"].run(alias, 10)) == 10
    finally:
        post_init.disconnect(count, sender=Entry)
    assert len(built) == SMALL_ROWS


def test_describe_says_django_and_the_file(fixture) -> None:
    description = fixture.describe()
    assert description["orm"] == "django" and description["orm_version"] == django.__version__
    assert description["driver"] == "sqlite3" and str(fixture.path) in description["backend"]


def test_missing_dataset_is_one_error_and_creates_no_file(cache: Path) -> None:
    fixture = open_fixture("django", "sqlite", SMALL_ROWS)
    with pytest.raises(FixtureError, match="is missing; run 'ormgc run' to build it"):
        fixture.count_entries()
    assert fixture.path is not None and not fixture.path.exists()


def test_incomplete_dataset_is_refused(cache: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    built = open_fixture("django", f"sqlite:///{other}", SMALL_ROWS)
    built.ensure()
    wrong_size = open_fixture("django", f"sqlite:///{other}", SMALL_ROWS + 1)
    with pytest.raises(FixtureError, match="missing or incomplete .holds another dataset"):
        wrong_size.count_entries()


def test_unsupported_database_names_the_choices() -> None:
    with pytest.raises(FixtureError, match="unsupported database 'mysql://x' for django"):
        open_fixture("django", "mysql://x", SMALL_ROWS)


def test_a_profile_without_django_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "django", None)  # import django now raises ImportError
    with pytest.raises(FixtureError, match="Django is not installed in the measured environment"):
        open_fixture("django", "sqlite", SMALL_ROWS)


def test_run_prints_every_shape_and_records_django(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    policies = ("--policy", "default", "--policy", "threshold:50000")
    done = ormgc("run", "--orm", "django", *SMALL, "--shape", "all", *policies,
                 "--json", str(out), cache_dir=shared_cache)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"django {django.__version__}, sqlite3" in done.stdout
    records = json.loads(out.read_text())
    assert [(r["shape"], r["policy"]) for r in records] == [
        (shape, policy)
        for shape in (*KINDS, "request_loop", "trash_loop")  # all: loading shapes, then loops
        for policy in ("default", "threshold:50000")
    ]
    assert {r["orm"] for r in records} == {"django"}
    assert {r["orm_version"] for r in records} == {django.__version__}
    assert all(r["loaded"] == SMALL_LOAD for r in records if r["shape"] in KINDS)
    by_policy = {(r["shape"], r["policy"]): r["collections_total"] for r in records}
    assert by_policy["seed_loop", "default"] > by_policy["seed_loop", "threshold:50000"]


def test_counts_are_identical_over_five_fresh_runs(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    done = ormgc("run", "--orm", "django", *SMALL, "--policy", "default", "--repeat", "5",
                 "--json", str(out), cache_dir=shared_cache)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(out.read_text())
    assert record["repeat"] == 5 and record["counts_identical"] is True
    assert len({json.dumps(run["collections"]) for run in record["runs"]}) == 1
    assert record["collections_total"] > 0


def test_a_sql_database_goes_to_both_sql_orms(shared_cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "both.sqlite3"
    done = ormgc("run", "--orm", "sqlalchemy", "--orm", "django", "--db", f"sqlite:///{path}",
                 *SMALL, "--policy", "default", "--wide", cache_dir=shared_cache)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(f"at sqlite:///{path}") == 2  # one table per ORM, one file (--wide)


BAD_INPUT = [
    (["--shape", "orm_all"], "unknown shape 'orm_all' for django"),
    (["--db", "mongodb://u:tiger@127.0.0.1:1/x"], "is a mongoengine database; add --orm mongo"),
    (["--db", "oracle://scott:tiger@db/x"], "unsupported database 'oracle://scott:***@db/x'"),
    (["--db", "postgres://u:tiger@127.0.0.1/x"], "unsupported PostgreSQL URL"),
    (["--db", "postgresql://u:tiger@127.0.0.1:1/x"], "cannot connect to PostgreSQL"),
    (["--db", "postgresql://u:tiger@127.0.0.1:1/"], "names no database"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_is_one_line_and_writes_nothing(
    shared_cache: Path, tmp_path: Path, args: list, message: str
) -> None:
    out = tmp_path / "out.json"
    done = ormgc("run", "--orm", "django", *SMALL, *args, "--json", str(out),
                 cache_dir=shared_cache)  # fmt: skip
    assert done.returncode != 0
    errors = [line for line in error_lines(done) if not line.startswith(("preparing", "ormgc: b"))]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("ormgc: error: ") and message in errors[0], errors[0]
    assert "Traceback" not in done.stderr and "tiger" not in done.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", list(KINDS))
def test_asv_module_times_every_shape(use_shared_cache: Path, monkeypatch, name: str) -> None:
    """benchmarks/bench_django.py: the same classes as the other ORMs', on the same dataset."""
    import importlib

    monkeypatch.setenv("ORMGC_ASV_ROWS", str(SMALL_ROWS))
    common = importlib.reload(importlib.import_module("benchmarks.common"))
    bench = importlib.reload(importlib.import_module("benchmarks.bench_django"))
    assert bench.LoadTime.params == common.params("django") and bench.GcCost.params
    load_time = bench.LoadTime()
    load_time.setup("sqlite", name, "threshold_700", SMALL_ROWS)
    try:
        load_time.time_load()
        assert len(load_time.prepared.loaded) == common.load_for(SMALL_ROWS)
    finally:
        load_time.teardown()
