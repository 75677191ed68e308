"""MongoEngine workload shapes, from full documents down to pymongo's raw dicts.

Each takes the Entry document class (bound to the fixture's database) and the number of
objects to load, and returns them; the measurement covers only that call.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .request_loop import RequestLoop
from .shapes import Shape, check_loaded, register

SHAPES: Dict[str, Shape] = {}
REQUEST_SHAPES: Dict[str, Shape] = {}


@register(SHAPES, opens="documents")
def seed_loop(entry: Any, load: int) -> List[Any]:
    """The published loop: iterate Entry.objects(), append, break at N."""
    entries = []
    for document in entry.objects():
        entries.append(document)
        if len(entries) >= load:
            break
    return check_loaded(entries, load)


@register(SHAPES, opens="documents")
def documents_list(entry: Any, load: int) -> List[Any]:
    """Documents: list(Entry.objects()[:N])."""
    return check_loaded(list(entry.objects()[:load]), load)


@register(SHAPES, opens="documents")
def only_fields(entry: Any, load: int) -> List[Any]:
    """Documents with one field loaded: Entry.objects.only('some_random_number')[:N]."""
    return check_loaded(list(entry.objects.only("some_random_number")[:load]), load)


@register(SHAPES, opens="documents")
def as_pymongo(entry: Any, load: int) -> List[Any]:
    """Raw dicts, no documents: Entry.objects()[:N].as_pymongo()."""
    return check_loaded(list(entry.objects()[:load].as_pymongo()), load)


@register(REQUEST_SHAPES, opens="documents")
def request_loop(loop: RequestLoop, per_request: int) -> int:
    """R requests: a query each, M documents grouped by day with back-references, dropped."""
    # MongoEngine's own objects form no cycles (embedded documents point back to their parent
    # through weak proxies), so the cycles are the handler's: each document is given the
    # list of its day's documents, which holds it, as a view grouping rows would.
    total = 0
    for request in range(loop.requests):
        loop.stamp(request)
        with loop.open_session() as entry:
            query = entry.objects.order_by("id").skip(loop.first_row(request))
            documents = list(query.limit(per_request))
        days: Dict[Any, List[Any]] = {}
        touched = 0
        for document in documents:
            same_day = days.setdefault(document.created_date.date(), [])
            same_day.append(document)
            document.same_day = same_day  # the back-reference: a cycle per day
            touched += document.some_random_number
        for document in documents:
            touched += len(document.same_day)
        total += len(check_loaded(documents, per_request)) if touched else 0
        del documents, days, same_day, document
    loop.stamp(loop.requests)
    return total
