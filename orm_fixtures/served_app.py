"""The served shape's web app: a real WSGI app per ORM over the suite's datasets.

Three endpoints, each given the load generator's ``slot`` (its request number) so that every
request maps to rows deterministically and its answer can be matched to its send time:
- ``GET /list?slot=K``: a page of ``per_request`` children (parents and siblings loaded);
- ``GET /detail?slot=K``: one child with its parent and siblings;
- ``POST /write?slot=K``: an UPDATE through the ORM's unit of work, rolled back.
The load generator sends them in the stated ``MIX``. SQLAlchemy is served by Flask (the usual
pairing; Flask-SQLAlchemy only adds the session handling done here by hand), Django by its own
WSGI handler. ``build`` runs in gunicorn's master (``--preload``): the app, the models and a
warm set of loaded objects, as real apps keep caches, exist before the workers are forked.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, NamedTuple, Tuple

from . import open_fixture, shapes

SERVED_ORMS = ("sqlalchemy", "django")  # mongoengine: not served yet (no Flask app for it)
# Endpoint per slot, repeating: 7 list pages, 2 detail pages, 1 write in every 10 requests.
MIX = ("list",) * 7 + ("detail",) * 2 + ("write",)
WARM_SHAPE = "seed_loop"  # the warm set: the seed's query, kept alive in the master
WARM_SET: List[Any] = []


def render(child: Any, siblings: int) -> Dict[str, Any]:
    """What a page shows of one child: its fields, its parent and how many siblings it has."""
    return {
        "id": child.id,
        "number": child.some_random_number,
        "created": child.created_date.isoformat(),
        "parent": child.parent.name,
        "siblings": siblings,
    }


class ServedApp(NamedTuple):
    wsgi: Any
    handlers: Any
    fixture: Any


def row_of(kind: str, slot: int, rows: int, per_request: int) -> Tuple[int, int]:
    """(first row, count) that request ``slot`` of endpoint ``kind`` reads: consecutive
    windows for list pages, wrapping; one row for a detail page or a write."""
    if kind == "list":
        windows = rows - per_request + 1
        return (slot * per_request) % windows, per_request
    return (slot * 7919) % rows, 1  # a prime stride: rows spread over the table


_SIZES: List[int] = []  # rows, per_request of the app this process serves


def answer(handlers: Any, kind: str, slot_text: str) -> Tuple[int, bytes]:
    """(status, JSON body) of one request; a bad slot is a 400, not a traceback."""
    if not slot_text.isdigit() or len(slot_text) > 12:
        return 400, b'{"error": "slot must be a whole number"}'
    rows, per_request = _SIZES
    first, count = row_of(kind, int(slot_text), rows, per_request)
    if kind == "write":
        return 200, json.dumps(handlers.write(first)).encode()
    return 200, json.dumps(handlers.page(first, count)).encode()


def _flask(handlers: Any) -> Any:
    from flask import Flask, Response, request

    app = Flask("ormgc_served")

    def endpoint(kind: str) -> Any:
        def view() -> Response:
            status, body = answer(handlers, kind, request.args.get("slot", "0"))
            return Response(body, status=status, mimetype="application/json")

        view.__name__ = kind
        return view

    app.add_url_rule("/list", view_func=endpoint("list"))
    app.add_url_rule("/detail", view_func=endpoint("detail"))
    app.add_url_rule("/write", view_func=endpoint("write"), methods=["POST"])
    return app


def build(orm: str, db: str, rows: int, seed: int, per_request: int, load: int) -> ServedApp:
    """The app for ``orm`` on ``db`` (already prepared), with its warm set loaded."""
    if orm not in SERVED_ORMS:
        raise ValueError(f"the served shape runs {' and '.join(SERVED_ORMS)}, not {orm}")
    if per_request > rows:
        raise ValueError(f"{per_request} objects per request, but only {rows} rows")
    _SIZES[:] = [rows, per_request]
    fixture = open_fixture(orm, db, rows, seed)
    warm = shapes(orm)[WARM_SHAPE]
    with getattr(fixture, warm.opens)() as opened:
        WARM_SET[:] = warm.run(opened, load)
    if orm == "django":
        from . import django_app

        handlers = django_app.Handlers(fixture)
        wsgi = django_app.wsgi_app(handlers)
        django_app.close_connections()  # each worker connects on its own after the fork
    else:
        from .sqlalchemy_app import Handlers

        handlers = Handlers(fixture)
        wsgi = _flask(handlers)
        fixture.engine.dispose()  # the pool's connections are not shared across the fork
    return ServedApp(wsgi, handlers, fixture)
