"""The request loop: what a web handler does to the GC, request after request.

Each request opens a session, loads a window of objects with their relationships, touches
them, closes the session and drops everything, leaving cyclic garbage behind. Unlike the
load shapes, a request shape gets a ``RequestLoop`` (how to open a session: the fixture method
its ``opens`` names, the sizes, and a preallocated array for the time stamps) and returns how
many objects it loaded in all.
"""

from __future__ import annotations

import time
from array import array
from typing import Any, Callable, Optional

DEFAULT_REQUESTS = 200
DEFAULT_PER_REQUEST = 100


class RequestLoop:
    """Sizes and session factory for one request loop; ``stamps`` gets each request's start
    time (perf_counter_ns) and, last, the end of the loop. An ``array`` is not tracked by the
    GC and is allocated before measuring, so stamping adds no GC-tracked objects."""

    def __init__(
        self,
        open_session: Callable[[], Any],
        rows: int,
        requests: int,
        per_request: int,
        sample: Optional[Callable[[int], None]] = None,
        every: int = 0,
    ):
        if per_request > rows:
            raise ValueError(f"{per_request} objects per request, but only {rows} rows")
        self.open_session = open_session
        # Memory over time (ormgc.worker.timeline): ``sample(request)`` every ``every``
        # requests and at the end of the loop.
        self.sample, self.every = sample, every
        self.rows, self.requests, self.per_request = rows, requests, per_request
        self.stamps = array("q", bytes(8 * (requests + 1)))
        self._windows = rows - per_request + 1

    def first_row(self, request: int) -> int:
        """Where request ``request``'s window starts (0-based): consecutive windows, wrapping."""
        return (request * self.per_request) % self._windows

    def stamp(self, index: int) -> None:
        self.stamps[index] = time.perf_counter_ns()
        if self.sample is not None and (index % self.every == 0 or index == self.requests):
            self.sample(index)
