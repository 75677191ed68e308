"""Every SQLAlchemy shape loads exactly N objects of the kind it promises."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Row

import orm_fixtures
from orm_fixtures import open_fixture, shapes
from orm_fixtures.shapes import check_loaded
from orm_fixtures.sqlalchemy_models import Child, Entry

from .conftest import SMALL_LOAD, SMALL_ROWS

KINDS = {
    "seed_loop": Entry,
    "orm_all": Entry,
    "orm_yield_per": Entry,
    "orm_relationships": Child,
    "core_rows": Row,
}


@pytest.fixture
def fixture(use_shared_cache: Path):
    fixture = open_fixture("sqlalchemy", "sqlite", SMALL_ROWS)
    fixture.ensure()
    yield fixture
    fixture.close()


def test_registry_matches_the_declared_names() -> None:
    registry = shapes("sqlalchemy")
    assert tuple(registry) == orm_fixtures.SHAPE_NAMES["sqlalchemy"] == tuple(KINDS)
    assert all(shape.doc and "\n" not in shape.doc for shape in registry.values())


@pytest.mark.parametrize("name", list(KINDS))
def test_shape_loads_exactly_n(fixture, name: str) -> None:
    shape = shapes("sqlalchemy")[name]
    with getattr(fixture, shape.opens)() as handle:
        loaded = shape.run(handle, SMALL_LOAD)
        assert len(loaded) == SMALL_LOAD
        assert all(isinstance(item, KINDS[name]) for item in loaded)


def test_relationships_are_cycles(fixture) -> None:
    with fixture.session() as session:
        children = shapes("sqlalchemy")["orm_relationships"].run(session, 100)
        assert all(child in child.parent.children for child in children)


def test_seed_loop_loads_the_whole_table_first(fixture) -> None:
    # The published loop breaks at N, but Query without yield_per has fetched every row by then.
    loaded = []

    def count(target: Entry, context: object) -> None:
        loaded.append(target)

    event.listen(Entry, "load", count)
    try:
        with fixture.session() as session:
            assert len(shapes("sqlalchemy")["seed_loop"].run(session, 10)) == 10
    finally:
        event.remove(Entry, "load", count)
    assert len(loaded) == SMALL_ROWS


def test_check_loaded_rejects_a_short_load() -> None:
    with pytest.raises(AssertionError, match="loaded 2 objects, expected 3"):
        check_loaded([1, 2], 3)
