"""Django: one query loading the seed's share of rows, per backend, shape and GC policy."""

from __future__ import annotations

from typing import Any, Dict

import orm_fixtures

from . import common
from .common import _ExactCost, _GcCollections, _GcCost, _LoadTime

ORM = "django"


def _gc_activity() -> Dict[str, Any]:
    """Every combination probed once, shared by this module's GC classes (asv setup_cache)."""
    return common.measure_gc_activity(ORM)


_gc_activity.timeout = common.SWEEP_TIMEOUT


def _exact_costs() -> Dict[str, Any]:
    """Every ExactCost combination counted once under valgrind (asv setup_cache)."""
    return common.measure_exact_costs(ORM)


_exact_costs.timeout = common.SWEEP_TIMEOUT

# Commits before the Django fixture have nothing to measure here; without this guard the
# whole suite would fail to import when asv measures them.
if ORM in orm_fixtures.ORMS:

    class LoadTime(_LoadTime):
        """Time and memory of one query, measured in asv's own process."""

        orm = ORM
        params = common.params(ORM)

    class GcCollections(_GcCollections):
        """Cyclic GC collections during one query, in total and per generation."""

        params = common.params(ORM) + [list(common.GENERATIONS)]
        setup_cache = staticmethod(_gc_activity)

    class GcCost(_GcCost):
        """What the collections cost one query: pauses and the GC tax."""

        params = common.params(ORM)
        setup_cache = staticmethod(_gc_activity)

    class ExactCost(_ExactCost):
        """Instructions of one query under valgrind, and the collector's share of them."""

        params = common.exact_params(ORM)
        setup_cache = staticmethod(_exact_costs)
