"""Models, deterministic datasets and workload shapes for each ORM and database.

Nothing here measures: ``ormgc`` does. ORM modules are imported lazily, so a measured
interpreter needs only the libraries of the ORM it runs.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, Optional, Tuple

from .dataset import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED, SCHEMA_VERSION
from .errors import FixtureError
from .shapes import Shape
from .urls import mask_password

ORMS = ("sqlalchemy", "mongoengine", "django")
# mongoengine's "embedded": see mongo_server
DEFAULT_DB = {"sqlalchemy": "sqlite", "mongoengine": "embedded", "django": "sqlite"}
# Shape names per ORM, heaviest abstraction first; kept here so the CLI can validate names
# without importing the ORM (tests check it matches the registries).
SHAPE_NAMES = {
    "sqlalchemy": ("seed_loop", "orm_all", "orm_yield_per", "orm_relationships", "core_rows"),
    "mongoengine": ("seed_loop", "documents_list", "only_fields", "as_pymongo"),
    "django": ("seed_loop", "list_slice", "iterator", "select_related", "values", "values_list"),
}
# Request loops (orm_fixtures.request_loop): many small loads, each leaving cyclic garbage.
# trash_loop (orm_fixtures.trash_loop) is the reference: known garbage, no database work.
REQUEST_SHAPE_NAMES = {
    "sqlalchemy": ("request_loop", "trash_loop"),
    "mongoengine": ("request_loop", "trash_loop"),
    "django": ("request_loop", "trash_loop"),
}
# Pre-forked workers serving each ORM's request loop (ormgc.worker.prefork); not in "all".
PREFORK_SHAPE = "prefork"

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_LOAD",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "FixtureError",
    "ORMS",
    "PREFORK_SHAPE",
    "REQUEST_SHAPE_NAMES",
    "SCHEMA_VERSION",
    "SHAPE_NAMES",
    "Shape",
    "default_db",
    "mask_password",
    "open_fixture",
    "orm_of_db",
    "request_shapes",
    "orms_of_db",
    "serve",
    "served_pid",
    "shapes",
]


def _check_orm(orm: str) -> None:
    if orm not in ORMS:
        raise FixtureError(f"unknown ORM {orm!r}: choose from {', '.join(ORMS)}")


def _check_django() -> None:
    """A profile without Django (seed-2022) fails in one line, not with an ImportError."""
    try:
        import django  # noqa: F401
    except ImportError:
        raise FixtureError(
            "Django is not installed in the measured environment (it is pinned in "
            "ormgc/profiles/current.txt)"
        ) from None


def _require_mongoengine() -> None:
    try:
        import mongoengine  # noqa: F401
    except ImportError:
        raise FixtureError(
            "MongoEngine is not installed in the measured environment: "
            "pip install 'orm-gc-bench[mongoengine]' (or measure with --python 3.X, whose "
            "managed environment has every pin)"
        ) from None


def open_fixture(orm: str, db: str, rows: int, seed: int = DEFAULT_SEED) -> Any:
    """The fixture of ``orm`` on ``db``: ``ensure()`` builds it, ``describe()`` says what it is."""
    _check_orm(orm)
    if orm == "mongoengine":
        _require_mongoengine()
        from .mongoengine_fixture import MongoEngineFixture

        return MongoEngineFixture(db, rows, seed)
    if orm == "django":
        _check_django()
        from .django_fixture import DjangoFixture

        return DjangoFixture(db, rows, seed)
    from .sqlalchemy_fixture import SqlAlchemyFixture

    return SqlAlchemyFixture(db, rows, seed)


def shapes(orm: str) -> Dict[str, Shape]:
    """The shapes of ``orm`` by name, heaviest abstraction first."""
    _check_orm(orm)
    if orm == "mongoengine":
        _require_mongoengine()
        from .mongoengine_shapes import SHAPES as MONGOENGINE_SHAPES

        return MONGOENGINE_SHAPES
    if orm == "django":
        _check_django()
        from .django_shapes import SHAPES as DJANGO_SHAPES

        return DJANGO_SHAPES
    from .sqlalchemy_shapes import SHAPES

    return SHAPES


def request_shapes(orm: str) -> Dict[str, Shape]:
    """The request-loop shapes of ``orm`` by name (see ``orm_fixtures.request_loop``)."""
    from .trash_loop import TRASH_SHAPES

    return {**_orm_request_shapes(orm), **TRASH_SHAPES}


def _orm_request_shapes(orm: str) -> Dict[str, Shape]:
    _check_orm(orm)
    if orm == "mongoengine":
        from .mongoengine_shapes import REQUEST_SHAPES as MONGOENGINE_REQUEST_SHAPES

        return MONGOENGINE_REQUEST_SHAPES
    if orm == "django":  # a Django worker must not load SQLAlchemy (see django_fixture)
        from .django_shapes import REQUEST_SHAPES as DJANGO_REQUEST_SHAPES

        return DJANGO_REQUEST_SHAPES
    from .sqlalchemy_shapes import REQUEST_SHAPES

    return REQUEST_SHAPES


_DB_PREFIXES = {
    "sqlalchemy": ("sqlite", "postgresql"),
    "mongoengine": ("embedded", "mongodb://", "mongodb+srv://"),
    "django": ("sqlite", "postgresql"),
}


def orms_of_db(db: str) -> Tuple[str, ...]:
    """Every ORM a ``--db`` value fits, by its scheme (SQL databases fit two)."""
    return tuple(orm for orm, prefixes in _DB_PREFIXES.items() if db.lower().startswith(prefixes))


def orm_of_db(db: str) -> Optional[str]:
    """The first ORM a ``--db`` value fits, by its scheme; None if it fits none."""
    fits = orms_of_db(db)
    return fits[0] if fits else None


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
