"""Models, deterministic datasets and workload shapes for each ORM and database.

Nothing here measures: ``ormgc`` does. ORM modules are imported lazily, so a measured
interpreter needs only the libraries of the ORM it runs.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, Optional

from .dataset import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED, SCHEMA_VERSION
from .errors import FixtureError
from .shapes import Shape
from .urls import mask_password

ORMS = ("sqlalchemy", "mongoengine")
DEFAULT_DB = {"sqlalchemy": "sqlite", "mongoengine": "embedded"}  # see mongo_server
# Shape names per ORM, heaviest abstraction first; kept here so the CLI can validate names
# without importing the ORM (tests check it matches the registries).
SHAPE_NAMES = {
    "sqlalchemy": ("seed_loop", "orm_all", "orm_yield_per", "orm_relationships", "core_rows"),
    "mongoengine": ("seed_loop", "documents_list", "only_fields", "as_pymongo"),
}
# Request loops (orm_fixtures.request_loop): many small loads, each leaving cyclic garbage.
REQUEST_SHAPE_NAMES = {"sqlalchemy": ("request_loop",), "mongoengine": ("request_loop",)}

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_LOAD",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "FixtureError",
    "ORMS",
    "REQUEST_SHAPE_NAMES",
    "SCHEMA_VERSION",
    "SHAPE_NAMES",
    "Shape",
    "default_db",
    "mask_password",
    "open_fixture",
    "orm_of_db",
    "request_shapes",
    "serve",
    "served_pid",
    "shapes",
]


def _check_orm(orm: str) -> None:
    if orm not in ORMS:
        raise FixtureError(f"unknown ORM {orm!r}: choose from {', '.join(ORMS)}")


def open_fixture(orm: str, db: str, rows: int, seed: int = DEFAULT_SEED) -> Any:
    """The fixture of ``orm`` on ``db``: ``ensure()`` builds it, ``describe()`` says what it is."""
    _check_orm(orm)
    if orm == "mongoengine":
        from .mongoengine_fixture import MongoEngineFixture

        return MongoEngineFixture(db, rows, seed)
    from .sqlalchemy_fixture import SqlAlchemyFixture

    return SqlAlchemyFixture(db, rows, seed)


def shapes(orm: str) -> Dict[str, Shape]:
    """The shapes of ``orm`` by name, heaviest abstraction first."""
    _check_orm(orm)
    if orm == "mongoengine":
        from .mongoengine_shapes import SHAPES as MONGOENGINE_SHAPES

        return MONGOENGINE_SHAPES
    from .sqlalchemy_shapes import SHAPES

    return SHAPES


def request_shapes(orm: str) -> Dict[str, Shape]:
    """The request-loop shapes of ``orm`` by name (see ``orm_fixtures.request_loop``)."""
    _check_orm(orm)
    if orm == "mongoengine":
        from .mongoengine_shapes import REQUEST_SHAPES as MONGOENGINE_REQUEST_SHAPES

        return MONGOENGINE_REQUEST_SHAPES
    from .sqlalchemy_shapes import REQUEST_SHAPES

    return REQUEST_SHAPES


_DB_PREFIXES = {
    "sqlalchemy": ("sqlite", "postgresql"),
    "mongoengine": ("embedded", "mongodb://", "mongodb+srv://"),
}


def orm_of_db(db: str) -> Optional[str]:
    """The ORM a ``--db`` value belongs to, by its scheme; None if it fits none."""
    for orm, prefixes in _DB_PREFIXES.items():
        if db.lower().startswith(prefixes):
            return orm
    return None


def default_db(orm: str) -> str:
    """The database used when none is given: for mongoengine, $ORMGC_MONGODB_URL if set."""
    _check_orm(orm)
    if orm == "mongoengine":
        from .mongo_server import default_db as mongodb_default

        return mongodb_default()
    return DEFAULT_DB[orm]


@contextlib.contextmanager
def serve(orm: str, db: str) -> Iterator[str]:
    """Around a whole sweep, in the parent: yield the ``db`` workers should use, starting (and
    finally stopping) a server process if ``db`` names one (mongoengine's ``embedded``)."""
    _check_orm(orm)
    if orm == "mongoengine":
        from .mongo_server import serve as serve_mongodb

        with serve_mongodb(db) as url:
            yield url
    else:
        yield db


def served_pid(db: str) -> Optional[int]:
    """The process id of the server ``serve`` started for ``db``; None if it started none."""
    from .mongo_server import SERVED_PIDS

    return SERVED_PIDS.get(db)
