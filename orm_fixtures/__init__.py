"""Models, deterministic datasets and workload shapes for each ORM and database.

Nothing here measures: ``ormgc`` does. ORM modules are imported lazily, so a measured
interpreter needs only the libraries of the ORM it runs.
"""

from __future__ import annotations

from typing import Any, Dict

from .dataset import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED, SCHEMA_VERSION
from .errors import FixtureError
from .shapes import Shape
from .urls import mask_password

ORMS = ("sqlalchemy",)
DEFAULT_DB = {"sqlalchemy": "sqlite"}
# Shape names per ORM, heaviest abstraction first; kept here so the CLI can validate names
# without importing the ORM (tests check it matches the registries).
SHAPE_NAMES = {
    "sqlalchemy": ("seed_loop", "orm_all", "orm_yield_per", "orm_relationships", "core_rows"),
}

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_LOAD",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "FixtureError",
    "ORMS",
    "SCHEMA_VERSION",
    "SHAPE_NAMES",
    "Shape",
    "mask_password",
    "open_fixture",
    "shapes",
]


def _check_orm(orm: str) -> None:
    if orm not in ORMS:
        raise FixtureError(f"unknown ORM {orm!r}: choose from {', '.join(ORMS)}")


def open_fixture(orm: str, db: str, rows: int, seed: int = DEFAULT_SEED) -> Any:
    """The fixture of ``orm`` on ``db``: ``ensure()`` builds it, ``describe()`` says what it is."""
    _check_orm(orm)
    from .sqlalchemy_fixture import SqlAlchemyFixture

    return SqlAlchemyFixture(db, rows, seed)


def shapes(orm: str) -> Dict[str, Shape]:
    """The shapes of ``orm`` by name, heaviest abstraction first."""
    _check_orm(orm)
    from .sqlalchemy_shapes import SHAPES

    return SHAPES
