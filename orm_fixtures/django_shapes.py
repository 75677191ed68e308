"""Django workload shapes, from a QuerySet's model instances down to plain tuples.

Each takes the database alias of the fixture (``DjangoFixture.database``) and the number of
objects to load, and returns them; the measurement covers only that call.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .django_models import Child, Entry
from .request_loop import RequestLoop
from .shapes import Shape, check_loaded, register

SHAPES: Dict[str, Shape] = {}
REQUEST_SHAPES: Dict[str, Shape] = {}
CHUNK_SIZE = 1_000  # rows per fetch for the streaming shape, as SQLAlchemy's yield_per


@register(SHAPES, opens="database")
def seed_loop(alias: str, load: int) -> List[Any]:
    """The published loop: iterate Entry.objects.all(), append, break at N."""
    # Iterating a QuerySet fills its whole result cache (every row, as model instances)
    # before the first one is handed out: the seed's loop does that, so this shape keeps it.
    entries = []
    for entry in Entry.objects.using(alias).all():
        entries.append(entry)
        if len(entries) >= load:
            break
    return check_loaded(entries, load)


@register(SHAPES, opens="database")
def list_slice(alias: str, load: int) -> List[Any]:
    """Model instances: list(Entry.objects.all()[:N])."""
    return check_loaded(list(Entry.objects.using(alias).all()[:load]), load)


@register(SHAPES, opens="database")
def iterator(alias: str, load: int) -> List[Any]:
    """Model instances streamed: Entry.objects.all()[:N].iterator(chunk_size=1000)."""
    queryset = Entry.objects.using(alias).all()[:load]
    return check_loaded(list(queryset.iterator(chunk_size=CHUNK_SIZE)), load)


@register(SHAPES, opens="database")
def select_related(alias: str, load: int) -> List[Any]:
    """Children with their parent, parent.children prefetched back (reference cycles)."""
    # select_related gives each child its own Parent instance (Django has no identity map);
    # prefetching parent__children caches each parent's children on it, and Django points
    # every prefetched child back at that parent: child -> parent -> children -> child.
    queryset = (
        Child.objects.using(alias)
        .select_related("parent")
        .prefetch_related("parent__children")
        .order_by("id")[:load]
    )
    return check_loaded(list(queryset), load)


@register(SHAPES, opens="database")
def values(alias: str, load: int) -> List[Any]:
    """Dicts, no model instances: Entry.objects.values()[:N]."""
    return check_loaded(list(Entry.objects.using(alias).values()[:load]), load)


@register(SHAPES, opens="database")
def values_list(alias: str, load: int) -> List[Any]:
    """Tuples, no model instances: Entry.objects.values_list()[:N]."""
    return check_loaded(list(Entry.objects.using(alias).values_list()[:load]), load)


@register(REQUEST_SHAPES, opens="database")
def request_loop(loop: RequestLoop, per_request: int) -> int:
    """R requests: M children each, parent and its children prefetched, touched, dropped."""
    # As select_related above: each child's Parent points back at its prefetched children,
    # so every request leaves child -> parent -> children -> child cycles behind.
    total = 0
    for request in range(loop.requests):
        loop.stamp(request)
        first_id = loop.first_row(request) + 1  # child ids start at 1
        with loop.open_session() as alias:
            children = list(
                Child.objects.using(alias)
                .select_related("parent")
                .prefetch_related("parent__children")
                .filter(id__gte=first_id)
                .order_by("id")[:per_request]
            )
        touched = 0
        for child in children:  # what a handler renders: fields and relationships
            touched += child.some_random_number + child.created_date.day
            touched += len(child.parent.name) + len(child.parent.children.all())
        total += len(check_loaded(children, per_request)) if touched else 0
        del children, child
    loop.stamp(loop.requests)
    return total
