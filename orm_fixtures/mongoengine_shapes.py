"""MongoEngine workload shapes, from full documents down to pymongo's raw dicts.

Each takes the Entry document class (bound to the fixture's database) and the number of
objects to load, and returns them; the measurement covers only that call.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .shapes import Shape, check_loaded, register

SHAPES: Dict[str, Shape] = {}


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
