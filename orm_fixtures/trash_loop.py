"""The trash loop: a reference request shape making a known amount of cyclic garbage.

No database work: each iteration makes ``per_request`` cycles of two lists, one holding a
1 KiB payload, and drops them. Only the cyclic GC can free them, so what the memory timeline
shows is the backlog each collector (and policy) leaves: none of the ORM's own noise.
"""

from __future__ import annotations

from typing import Dict

from .request_loop import RequestLoop
from .shapes import Shape, register

TRASH_SHAPES: Dict[str, Shape] = {}
PAYLOAD_BYTES = 1024  # per cycle: freed only when the collector breaks the cycle
TRACKED_PER_CYCLE = 2  # two lists (the bytes payload is not tracked by the GC)


# ``opens`` names a method every fixture has; the trash loop never calls it (no database).
@register(TRASH_SHAPES, opens="describe")
def trash_loop(loop: RequestLoop, per_request: int) -> int:
    """R iterations: M two-list cycles holding 1 KiB each, dropped (garbage only the GC frees)."""
    made = 0
    for request in range(loop.requests):
        loop.stamp(request)
        for _ in range(per_request):
            payload = [bytes(PAYLOAD_BYTES)]
            payload.append([payload])  # the cycle: payload -> holder -> payload
        made += per_request
        del payload
    loop.stamp(loop.requests)
    return made
