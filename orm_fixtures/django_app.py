"""The served shape on Django: Django's own WSGI handler, URL routes and views.

The views do what ``django_shapes.request_loop`` does per request (select_related and a
prefetch of the siblings, so child -> parent -> children -> child cycles are left behind) and
render JSON. Writes go through a writable alias of the same database, inside a transaction
that is rolled back: the write path's objects and garbage, the dataset left as it was built.
"""

from __future__ import annotations

from typing import Any, Dict, List

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse
from django.urls import path

from . import served_app
from .django_models import Child
from .shapes import check_loaded

_HANDLERS: List[Any] = []  # the one Handlers the routes serve (set by wsgi_app)


def render(child: Any) -> Dict[str, Any]:
    return served_app.render(child, len(child.parent.children.all()))


class Handlers:
    """The endpoints' work on one Django fixture (``orm_fixtures.django_fixture``)."""

    def __init__(self, fixture: Any) -> None:
        self.fixture = fixture
        self.writable = fixture.writable_alias()

    def page(self, first_row: int, count: int) -> List[Dict[str, Any]]:
        with self.fixture.database() as alias:
            children = list(
                Child.objects.using(alias)
                .select_related("parent")
                .prefetch_related("parent__children")
                .filter(id__gte=first_row + 1)
                .order_by("id")[:count]
            )
        return [render(child) for child in check_loaded(children, count)]

    def write(self, row: int) -> Dict[str, Any]:
        with transaction.atomic(using=self.writable):
            child = (
                Child.objects.using(self.writable)
                .select_related("parent")
                .prefetch_related("parent__children")
                .get(id=row + 1)
            )
            child.some_random_number += 1
            child.save(using=self.writable, update_fields=["some_random_number"])
            shown = render(child)
            transaction.set_rollback(True, using=self.writable)
        return shown


def _view(kind: str) -> Any:
    from .served_app import answer  # the routing of slots to rows, shared with Flask

    def view(request: Any) -> HttpResponse:
        status, body = answer(_HANDLERS[0], kind, request.GET.get("slot", "0"))
        return HttpResponse(body, status=status, content_type="application/json")

    view.__name__ = kind
    return view


urlpatterns = [path(f"{kind}", _view(kind)) for kind in ("list", "detail", "write")]


def wsgi_app(handlers: Handlers) -> Any:
    """Django's WSGI application over ``handlers``, this module as its URL configuration."""
    from django.core.handlers.wsgi import WSGIHandler

    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
    _HANDLERS[:] = [handlers]
    return WSGIHandler()


def close_connections() -> None:
    """Before fork: a connection must not be shared by the workers (each opens its own)."""
    connections.close_all()
