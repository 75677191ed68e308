"""The user's own workloads: checking ``--workload`` in the parent, and ``ormgc.measure``."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import orm_fixtures
from orm_fixtures import DEFAULT_SEED
from ormgc.errors import UsageError
from ormgc.runs.envs import CURRENT_PROFILE, interpreter
from ormgc.runs.runner import Scenario, databases_for, run_sweep
from ormgc.worker.policies import DEFAULT_SWEEP, Policy, parse_policies
from ormgc.worker.workload import is_file_target

Workload = Union[str, Callable[[], Any]]


def resolve_workload(workload: Workload) -> str:
    """``file.py:name`` (made absolute, checked to exist) or ``package.module:name``; a function
    defined in a file stands for ``that_file.py:its_name``. UsageError in one line otherwise."""
    if callable(workload):
        source = inspect.getsourcefile(workload)
        if not source or "<" in workload.__qualname__:
            raise UsageError(f"workload {workload!r}: give a top-level function of a .py file")
        workload = f"{source}:{workload.__name__}"
    where, _, name = workload.rpartition(":")
    if not where or not name.isidentifier():
        raise UsageError(f"workload {workload!r}: use path/to/file.py:name or package.module:name")
    if is_file_target(where):
        try:
            path = Path(where).expanduser().resolve()
        except (RuntimeError, ValueError, OSError) as exc:  # ~nobody/, a NUL byte, a loop
            raise UsageError(f"workload file {where!r}: {exc}") from None
        if not path.is_file():
            shown = where if where.isprintable() else repr(where)  # one line, whatever it holds
            raise UsageError(f"workload file {shown} not found")
        return f"{path}:{name}"
    if not all(part.isidentifier() for part in where.split(".")):
        raise UsageError(f"workload {workload!r}: {where!r} is neither a .py file nor a module")
    return workload


def workload_scenarios(
    workload: Workload,
    orms: Sequence[str] = (),
    dbs: Sequence[str] = (),
    freeze: bool = True,
    profile: str = CURRENT_PROFILE,
) -> List[Scenario]:
    """The scenario measuring ``workload``; with an ORM named, its database is served (the
    embedded MongoDB server by default) and handed over in $ORMGC_MONGODB_URL."""
    target = resolve_workload(workload)
    if len(orms) > 1:
        raise UsageError("a workload runs with at most one --orm (whose database it is given)")
    orm = orms[0] if orms else ""
    if dbs and not orm:
        raise UsageError("--db with --workload needs --orm (which database is it?)")
    db = databases_for([orm], list(dbs))[orm] if orm else ""
    shape = target if not is_file_target(target.rpartition(":")[0]) else _short(target)
    return [Scenario(orm, db, shape, 0, 0, DEFAULT_SEED, freeze, profile, workload=target)]


def _short(target: str) -> str:
    """``file.py:name`` for tables (the record's ``workload`` keeps the full path)."""
    where, _, name = target.rpartition(":")
    return f"{Path(where).name}:{name}"


def measure(
    workload: Workload,
    policies: Optional[Sequence[Union[str, Policy]]] = None,
    repeat: int = 1,
    python: Optional[str] = None,
    freeze: bool = True,
    orm: Optional[str] = None,
    db: Optional[str] = None,
    profile: str = CURRENT_PROFILE,
    progress: Callable[[str], None] = lambda message: None,
) -> List[Dict[str, Any]]:
    """Measure ``workload`` under each policy, ``repeat`` fresh processes each, on ``python``
    (None: this interpreter; "3.9": a managed venv with the profile's pins); one record per
    policy, as ``ormgc run --workload ... --json`` writes them."""
    if repeat < 1:
        raise UsageError(f"repeat must be at least 1, got {repeat}")
    if orm is not None and orm not in orm_fixtures.ORMS:
        raise UsageError(f"unknown ORM {orm!r}: choose from {', '.join(orm_fixtures.ORMS)}")
    texts = [p.name if isinstance(p, Policy) else p for p in (policies or DEFAULT_SWEEP)]
    scenarios = workload_scenarios(
        workload, [orm] if orm else [], [db] if db else [], freeze, profile
    )
    return run_sweep(
        interpreter(python, profile), scenarios, parse_policies(texts), repeat, progress
    )
