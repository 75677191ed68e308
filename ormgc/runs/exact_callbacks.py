"""The collector's instructions without its symbol: counted between ``gc.callbacks``.

Debian's Python 3.14/3.15 are stripped, so callgrind cannot name the collector's functions
(``ormgc.runs.callgrind.gc_cost`` finds none). Every build, stripped or free-threaded, still calls
``gc.callbacks`` at each collection's "start" and "stop". So a second run of the same worker,
with ``$ORMGC_EXACT_SPLIT`` set, counts only what runs between those calls
(``ormgc.worker.exact``): the collector, plus a fixed slice of the callbacks' own calls per
collection. That slice is measured once per interpreter (the hooks called by hand, as a
collection calls them, ``CALIBRATION_PAIRS`` times, under callgrind) and subtracted:

    gc = counted between the hooks - collections x slice

The block's total instructions come from the ordinary run (no hooks), as for the symbol method.
Both runs are deterministic, and the hooks allocate nothing the collector tracks, so the second
run makes the same collections as the first: a different count stops the measurement.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, NamedTuple

from ormgc.errors import OrmGcError
from ormgc.runs.valgrind import WORKER_ARGS, ExactSetup, callgrind, fixed_environment
from ormgc.worker.exact import CALIBRATION_PAIRS, SPLIT_ENV

METHOD = "callbacks"
_SLICES: Dict[str, List[float]] = {}  # per interpreter: the hooks' slice per collection, per event


class ByCallbacks(NamedTuple):
    costs: List[int]  # the collector's, per event (callgrind's events, like Dump.totals)
    counted: int  # instructions counted between the hooks, before the subtraction
    slice_per_collection: float  # the hooks' own instructions per collection, subtracted


def _split_env(interp: Any, setup: ExactSetup) -> Dict[str, str]:
    env = fixed_environment(interp.env, setup)
    env[SPLIT_ENV] = "1"
    return env


def callbacks_slice(interp: Any, setup: ExactSetup) -> List[float]:
    """What the hooks add to one collection's count, per event (measured once per run)."""
    key = f"{interp.executable} {setup.mode}"
    if key not in _SLICES:
        env = _split_env(interp, setup)
        ran = callgrind(setup, interp.executable, ["-m", "ormgc.worker.exact", "callbacks"], env)
        if ran["returncode"] != 0:
            raise OrmGcError(f"{interp.label}: measuring the gc.callbacks hooks failed")
        _SLICES[key] = [value / CALIBRATION_PAIRS for value in ran["dump"].totals]
    return _SLICES[key]


def collector_by_callbacks(
    interp: Any, setup: ExactSetup, spec: Dict[str, Any], record: Dict[str, Any]
) -> ByCallbacks:
    """Run the worker again counting only between the hooks; the collector's costs."""
    ran = callgrind(
        setup, interp.executable, list(WORKER_ARGS), _split_env(interp, setup), json.dumps(spec)
    )
    try:
        again = json.loads(ran["stdout"].rstrip("\n").rsplit("\n", 1)[-1])
    except ValueError:
        again = {}
    if ran["returncode"] != 0 or "collections" not in again:
        raise OrmGcError(f"{interp.label}: the worker counting between gc.callbacks failed")
    if again["collections"] != record["collections"]:
        raise OrmGcError(
            f"{interp.label}: the run counting between gc.callbacks made collections "
            f"{again['collections']}, the measured run {record['collections']}: "
            "the collector's instructions cannot be told"
        )
    per = callbacks_slice(interp, setup)
    collections = record["collections_total"]
    counted = ran["dump"].totals
    costs = [max(0, value - round(collections * one)) for value, one in zip(counted, per)]
    return ByCallbacks(costs, counted[0], per[0])
