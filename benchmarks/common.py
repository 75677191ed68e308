"""Shared builders of the asv suite: parameters, one prepared query, the GC activity sweep.

Each ORM module (``bench_<orm>.py``) declares its classes over these, so a new ORM joins with
a short module and its names in ``orm_fixtures`` (ORMS, SHAPE_NAMES); a new backend joins in
BACKENDS below. A combination this machine cannot run (no server, backend not supported yet)
raises NotImplementedError in ``setup``: asv shows n/a. Only appended, never changed: a changed
parameter list or method body starts a new history in asv.

Sizes shrink through ``$ORMGC_ASV_ROWS`` (quick runs, tests), never by editing this file.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

import orm_fixtures
from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED, FixtureError
from ormgc import parse_policy, prepare_heap
from ormgc.errors import OrmGcError
from ormgc.runs.envs import Interpreter
from ormgc.runs.runner import Scenario, run_sweep
from ormgc.runs.valgrind import exact_setup

ROWS_ENV = "ORMGC_ASV_ROWS"  # e.g. "2000" or "20000,100000"; default DEFAULT_ROWS
REPEAT_ENV = "ORMGC_ASV_REPEAT"  # fresh worker processes per GC sweep measurement; default 3
# Shapes whose instructions are counted under valgrind (ExactCost): about a minute per
# combination at full size, so the seed's shape only unless asked ("all" or a comma list).
EXACT_SHAPES_ENV = "ORMGC_ASV_EXACT_SHAPES"
# The policies ExactCost counts (comma list, asv spelling): every one unless asked; the
# release history (scripts/asv_releases.sh) counts default and threshold_50000 only.
EXACT_POLICIES_ENV = "ORMGC_ASV_EXACT_POLICIES"
# Each ORM's backends: asv parameter -> the database it stands for, as open_fixture() takes
# it; None means the ORM's default on this machine (mongoengine: $ORMGC_MONGODB_URL, else the
# embedded server, started per process). A machine without a server skips (n/a), not fails.
BACKENDS: Dict[str, Dict[str, Optional[str]]] = {
    "sqlalchemy": {"sqlite": "sqlite", "postgresql": "postgresql"},
    "mongoengine": {"mongodb": None},
    "django": {"sqlite": "sqlite", "postgresql": "postgresql"},
}
# The seed's two settings, the pre-3.13 default threshold named explicitly (3.13's default is
# 2000, so "default" differs across versions), and the GC off: the baseline of the GC tax.
POLICIES = ("default", "threshold_700", "threshold_50000", "adaptive", "disabled")
GENERATIONS = ("total", "gen0", "gen1", "gen2")
PARAM_NAMES = ["backend", "shape", "policy", "rows"]
SWEEP_TIMEOUT = 3600  # seconds for setup_cache's sweep of every combination at full size


def backends(orm: str) -> List[str]:
    return list(BACKENDS.get(orm) or [orm_fixtures.DEFAULT_DB[orm]])


def database(orm: str, backend: str) -> str:
    """The ``db`` that the asv parameter ``backend`` stands for on this machine."""
    choices = BACKENDS.get(orm, {})
    if backend in choices:
        return choices[backend] or orm_fixtures.default_db(orm)
    return backend


def row_counts() -> List[int]:
    """The dataset sizes to measure: $ORMGC_ASV_ROWS (comma-separated), else the seed's."""
    text = os.environ.get(ROWS_ENV, "").strip() or str(DEFAULT_ROWS)
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) >= 5 for part in parts):
        raise ValueError(f"${ROWS_ENV}={text!r}: need whole numbers >= 5, comma-separated")
    return [int(part) for part in parts]


def load_for(rows: int) -> int:
    """Objects one query loads: the seed's proportion, 20,000 of 100,000."""
    return rows * DEFAULT_LOAD // DEFAULT_ROWS


def params(orm: str) -> List[List[Any]]:
    """asv ``params`` for ``orm``, in PARAM_NAMES order."""
    return [backends(orm), list(orm_fixtures.SHAPE_NAMES[orm]), list(POLICIES), row_counts()]


_FIXTURES: Dict[Tuple[str, str, int], Any] = {}
_SERVED: Dict[Tuple[str, str], str] = {}
_SERVERS = contextlib.ExitStack()  # servers this process started (embedded MongoDB)
atexit.register(_SERVERS.close)


def _fixture(orm: str, backend: str, rows: int) -> Any:
    """The fixture, its dataset built (once per process); NotImplementedError if unavailable."""
    key = (orm, backend, rows)
    if key not in _FIXTURES:
        try:
            if (orm, backend) not in _SERVED:
                serving = orm_fixtures.serve(orm, database(orm, backend))
                _SERVED[orm, backend] = _SERVERS.enter_context(serving)
            fixture = orm_fixtures.open_fixture(orm, _SERVED[orm, backend], rows, DEFAULT_SEED)
            fixture.ensure()
        except FixtureError as exc:
            raise NotImplementedError(f"{orm} on {backend}: {exc}") from None
        _FIXTURES[key] = fixture
    return _FIXTURES[key]


class PreparedLoad:
    """One query ready to run: dataset built, fresh handle open, heap frozen, policy applied."""

    def __init__(self, orm: str, backend: str, shape: str, policy: str, rows: int) -> None:
        fixture = _fixture(orm, backend, rows)
        self.shape = orm_fixtures.shapes(orm)[shape]
        self.load = load_for(rows)
        self.policy = parse_policy(policy)
        self.loaded: Optional[List[Any]] = None
        self._gc_before = (gc.isenabled(), gc.get_threshold())
        self._stack = contextlib.ExitStack()
        self.handle = self._stack.enter_context(getattr(fixture, self.shape.opens)())
        prepare_heap(freeze=True)  # as the seed did, and as `ormgc run` does by default
        self.policy.apply()

    def run(self) -> None:
        """The measured call: load the objects with the GC on under the policy."""
        # asv times this under timeit, which switches the GC off; its work is what we measure.
        if self.policy.name != "disabled":
            gc.enable()
        self.loaded = self.shape.run(self.handle, self.load)

    def close(self) -> None:
        """Undo what setup changed, and only that."""
        # asv's timeit may have switched the GC off around us; a control run must see it off.
        self.loaded = None
        self.policy.finish()  # the adaptive callback out, before the thresholds are restored
        self._stack.close()
        enabled, threshold = self._gc_before
        gc.set_threshold(*threshold)
        if self.policy.name == "disabled" and enabled:
            gc.enable()


def measure_gc_activity(orm: str) -> Dict[str, Any]:
    """Every combination probed in fresh worker processes: summary, or why it cannot run."""
    # GC counts depend on everything a process did before, so they are measured as `ormgc run`
    # measures them, one process per load of this environment's Python, not in asv's process.
    worker = Interpreter(sys.executable, dict(os.environ), "asv environment")
    repeat_text = os.environ.get(REPEAT_ENV, "").strip() or "3"
    if not repeat_text.isdigit() or int(repeat_text) < 1:
        raise ValueError(f"${REPEAT_ENV}={repeat_text!r}: need a whole number >= 1")
    repeat = int(repeat_text)
    policies = [parse_policy(policy) for policy in POLICIES]
    activity: Dict[str, Any] = {}
    for backend in backends(orm):
        for rows in row_counts():
            shape_names = orm_fixtures.SHAPE_NAMES[orm]
            db = database(orm, backend)  # run_sweep starts the embedded server if it names one
            scenarios = [
                Scenario(orm, db, shape, rows, load_for(rows), DEFAULT_SEED)
                for shape in shape_names
            ]
            try:
                records = run_sweep(worker, scenarios, policies, repeat, progress=lambda _: None)
            except OrmGcError as exc:
                for shape in shape_names:
                    for policy in POLICIES:
                        activity[_key(backend, shape, policy, rows)] = str(exc)
                continue
            by_name = {(record["shape"], record["policy"]): record for record in records}
            for shape in shape_names:
                baseline_ms = by_name[(shape, "disabled")]["wall_ms"]
                for policy in policies:
                    record = by_name[(shape, policy.name)]
                    activity[_key(backend, shape, policy.slug, rows)] = {
                        "collections": record["collections"],
                        "collections_total": record["collections_total"],
                        "pause_total_ms": record["pause_ms"]["total"],
                        "pause_max_ms": record["pause_ms"]["max"],
                        "gc_tax": record["wall_ms"] / baseline_ms if baseline_ms else None,
                    }
    return activity


def _key(backend: str, shape: str, policy: str, rows: int) -> str:
    return f"{backend}/{shape}/{policy}/{rows}"


def lookup(activity: Dict[str, Any], backend: str, shape: str, policy: str, rows: int) -> Dict:
    """The summary of one combination; NotImplementedError (asv: n/a) if it could not run."""
    summary = activity.get(_key(backend, shape, policy, rows), "not measured")
    if isinstance(summary, str):
        raise NotImplementedError(summary)
    return summary


class _Suite:
    """Attributes every class of the suite shares; each ORM module sets ``params``."""

    param_names = PARAM_NAMES
    timeout = 600  # the first setup may build the dataset (seconds at full size)


class _LoadTime(_Suite):
    orm = ""
    number = 1  # one load per sample: each needs a fresh session, so setup re-runs
    warmup_time = 0  # a warm-up call would reuse the session and its identity map
    repeat = (3, 10, 20.0)
    rounds = 2

    def setup(self, backend: str, shape: str, policy: str, rows: int) -> None:
        self.prepared = PreparedLoad(self.orm, backend, shape, policy, rows)

    def teardown(self, *params: Any) -> None:
        prepared = getattr(self, "prepared", None)
        if prepared is not None:
            prepared.close()
            self.prepared = None

    def time_load(self, *params: Any) -> None:
        """Wall time of one query, the GC on under the policy."""
        self.prepared.run()

    def peakmem_load(self, *params: Any) -> None:
        """Peak memory of the process loading the objects under the policy."""
        self.prepared.run()


class _GcCollections(_Suite):
    param_names = PARAM_NAMES + ["generation"]

    def setup(self, activity: Dict, *combination: Any) -> None:
        *load_params, generation = combination
        counts = lookup(activity, *load_params)["collections"]
        if generation == "total":
            self.count = sum(counts)
        elif int(generation[len("gen") :]) < len(counts):
            self.count = counts[int(generation[len("gen") :])]
        else:  # 3.14's incremental GC has two generations
            raise NotImplementedError(f"this interpreter's GC has {len(counts)} generations")

    def track_collections(self, *params: Any) -> int:
        """GC collections during one query (fresh process; deterministic)."""
        return self.count

    track_collections.unit = "collections"


class _GcCost(_Suite):
    def setup(self, activity: Dict, backend: str, shape: str, policy: str, rows: int) -> None:
        self.summary = lookup(activity, backend, shape, policy, rows)

    def track_pause_total(self, *params: Any) -> float:
        """Time spent inside GC collections during one query."""
        return self.summary["pause_total_ms"]

    track_pause_total.unit = "ms"

    def track_pause_max(self, *params: Any) -> float:
        """Longest single GC pause during one query."""
        return self.summary["pause_max_ms"]

    track_pause_max.unit = "ms"

    def track_gc_tax(self, *params: Any) -> float:
        """GC tax: wall time under the policy / wall time with the GC disabled."""
        return self.summary["gc_tax"]

    track_gc_tax.unit = "ratio"


def exact_shapes(orm: str) -> List[str]:
    """The shapes ExactCost counts: $ORMGC_ASV_EXACT_SHAPES, else the seed's loop."""
    known = list(orm_fixtures.SHAPE_NAMES[orm])
    text = os.environ.get(EXACT_SHAPES_ENV, "").strip() or "seed_loop"
    if text == "all":
        return known
    return [name for name in known if name in {part.strip() for part in text.split(",")}]


def exact_params(orm: str) -> List[List[Any]]:
    return [backends(orm), exact_shapes(orm), list(POLICIES), row_counts()]


def exact_policies() -> Tuple[str, ...]:
    """The policies ExactCost counts: $ORMGC_ASV_EXACT_POLICIES, else every one (n/a for the
    others: asv shows a combination not counted as missing, not as zero)."""
    text = os.environ.get(EXACT_POLICIES_ENV, "").strip()
    if not text:
        return POLICIES
    asked = [part.strip() for part in text.split(",")]
    unknown = [name for name in asked if name not in POLICIES]
    if unknown:
        raise ValueError(f"${EXACT_POLICIES_ENV}: {', '.join(unknown)} not in {POLICIES}")
    return tuple(name for name in POLICIES if name in asked)


def measure_exact_costs(
    orm: str, only_backends: Optional[List[str]] = None, policies: Tuple[str, ...] = ()
) -> Dict[str, Any]:
    """Every ExactCost combination counted under callgrind, one fresh process each (as
    ``ormgc run --exact``); without valgrind, why not."""
    policies = policies or exact_policies()
    try:
        setup = exact_setup()
    except OrmGcError as exc:
        return {"unavailable": str(exc)}
    worker = Interpreter(sys.executable, dict(os.environ), "asv environment", exact=setup)
    parsed = [parse_policy(policy) for policy in policies]
    costs: Dict[str, Any] = {}
    for backend in only_backends or backends(orm):
        for rows in row_counts():
            db = database(orm, backend)
            scenarios = [
                Scenario(orm, db, shape, rows, load_for(rows), DEFAULT_SEED)
                for shape in exact_shapes(orm)
            ]
            try:
                records = run_sweep(worker, scenarios, parsed, 1, progress=lambda _: None)
            except OrmGcError as exc:
                for scenario in scenarios:
                    for policy in parsed:
                        costs[_key(backend, scenario.shape, policy.slug, rows)] = str(exc)
                continue
            for record in records:
                key = _key(backend, record["shape"], parse_policy(record["policy"]).slug, rows)
                costs[key] = {
                    "instructions": record["instructions"],
                    "gc_share": record["gc_share"],
                }
    return costs


class _ExactCost(_Suite):
    timeout = 600  # one combination under valgrind takes about a minute at full size

    def setup(self, costs: Dict, backend: str, shape: str, policy: str, rows: int) -> None:
        if "unavailable" in costs:
            raise NotImplementedError(costs["unavailable"])
        self.summary = lookup(costs, backend, shape, policy, rows)

    def track_instructions(self, *params: Any) -> int:
        """Instructions of one query, counted under valgrind (exact, whatever the load)."""
        return self.summary["instructions"]

    track_instructions.unit = "instructions"

    def track_gc_share(self, *params: Any) -> float:
        """Share of the query's instructions spent inside the collector (not of its time)."""
        return self.summary["gc_share"]

    track_gc_share.unit = "ratio"

    def track_gc_instructions(self, *params: Any) -> int:
        """Instructions of one query spent inside the collector (exact, as track_instructions)."""
        found = self.summary.get("gc_instructions")
        if found is None:  # instructions x share: the collector's count again, once rounded
            found = round(self.summary["instructions"] * self.summary["gc_share"])
        return found

    track_gc_instructions.unit = "instructions"
