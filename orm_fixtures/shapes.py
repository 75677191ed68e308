"""The registry of workload shapes: a query to measure, and how to open what it needs."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, NamedTuple, Sequence

ShapeFunc = Callable[[Any, int], Sequence[Any]]


class Shape(NamedTuple):
    """A measured query. ``opens`` names the fixture method giving its argument (a session...)."""

    name: str
    doc: str
    opens: str
    run: ShapeFunc


def register(registry: Dict[str, Shape], opens: str) -> Callable[[ShapeFunc], ShapeFunc]:
    """Add a shape to ``registry``, in declaration order (heaviest abstraction first)."""

    def add(func: ShapeFunc) -> ShapeFunc:
        doc = (func.__doc__ or "").strip().splitlines()[0]
        registry[func.__name__] = Shape(func.__name__, doc, opens, func)
        return func

    return add


def check_loaded(loaded: Sequence[Any], load: int) -> List[Any]:
    """Every shape proves it did the work: exactly ``load`` objects came back."""
    if len(loaded) != load:
        raise AssertionError(f"loaded {len(loaded)} objects, expected {load}")
    return list(loaded) if not isinstance(loaded, list) else loaded
