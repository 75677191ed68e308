"""``ormgc advise``'s sweep: a grid of GC settings x freeze on/off, every cell in fresh processes,
the cells interleaved in rounds with the order rotated (as ``ormgc run --repeat``), each
cell's times paired round by round with ``default`` and with ``disabled`` of the same freeze
setting.

All cells of a round run before the next round starts, freeze on and off alike, so that a slow
spell of the shared machine hits every setting; ``ormgc run`` interleaves the policies of one
scenario the same way, which is what lets its paired ratios reproduce the advice's.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from orm_fixtures import mask_password, serve, served_pid
from ormgc.errors import UsageError
from ormgc.runs.aggregate import aggregate, gc_changed_warning
from ormgc.runs.envs import Interpreter
from ormgc.runs.paired import attach_ratios, interleaved_rounds
from ormgc.runs.runner import Progress, Scenario, run_worker
from ormgc.views.stats import paired_ratio, versus
from ormgc.worker.policies import Policy, parse_policies

# The first threshold on a geometric grid from the interpreter's old default up to 10^6, the
# three-threshold settings seen in the wild, the floor (disabled) and the baseline (default).
FIRST_THRESHOLDS = (700, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000)
TRIPLES = ("threshold:50000,500,1000", "threshold:200000,30,30")
QUICK_THRESHOLDS = (2000, 50000, 1000000)
QUICK_TRIPLES = ("threshold:50000,500,1000",)
DEFAULT_REPEAT = 5
QUICK_REPEAT = 3
# The budget of rounds for a significant choice (``--max-rounds``): a round of the full grid
# is one fresh process per setting and freeze state (28: 14 settings, freeze on and off).
DEFAULT_MAX_ROUNDS = 12
QUICK_MAX_ROUNDS = 10
FREEZE_CHOICES = {"both": (True, False), "on": (True,), "off": (False,)}


class Cell(NamedTuple):
    """One setting of the grid: a policy, with or without the seed's collect(2) + freeze()."""

    freeze: bool
    policy: Policy

    @property
    def label(self) -> str:
        return f"{self.policy.name} freeze={'on' if self.freeze else 'off'}"


def grid_policies(quick: bool, extra: Sequence[str] = ()) -> List[Policy]:
    """default first (the baseline), the thresholds, the triples, any ``--policy`` extras
    (an ``adaptive`` policy, a threshold of the user's), disabled last (the floor)."""
    firsts = QUICK_THRESHOLDS if quick else FIRST_THRESHOLDS
    triples = QUICK_TRIPLES if quick else TRIPLES
    texts = ["default", *(f"threshold:{n}" for n in firsts), *triples, *extra, "disabled"]
    return parse_policies(texts)  # validates the extras: one line for an unknown setting


def grid_cells(policies: Sequence[Policy], freeze: str) -> List[Cell]:
    if freeze not in FREEZE_CHOICES:
        raise UsageError(f"--freeze {freeze!r}: choose from {', '.join(FREEZE_CHOICES)}")
    return [Cell(on, policy) for on in FREEZE_CHOICES[freeze] for policy in policies]


def _versus_disabled(records: List[Dict[str, Any]]) -> None:
    """``cpu_vs_disabled``: each record's CPU time paired with the floor's, round by round."""
    floor = next((record for record in records if record["policy"] == "disabled"), None)
    if floor is None:
        return
    for record in records:
        ratio, ci95 = paired_ratio(
            [run["cpu_ms"] for run in record["runs"]], [run["cpu_ms"] for run in floor["runs"]]
        )
        record["cpu_vs_disabled"] = versus("disabled", ratio, ci95)


Judge = Callable[[List[Dict[str, Any]]], bool]


def sweep(
    interp: Interpreter,
    scenario: Scenario,
    cells: List[Cell],
    repeat: int,
    progress: Progress,
    exact: Optional[Interpreter] = None,
    enough: Optional[Judge] = None,
    max_rounds: int = 0,
) -> List[Dict[str, Any]]:
    """Measure every cell ``repeat`` times, interleaved in rotated rounds, then more rounds
    until ``enough(records)`` (the advice is significant, --precision is met) or ``max_rounds``;
    one record per cell (medians, counts checked identical, ratios to default and disabled of
    its freeze setting).

    ``exact``: an interpreter set up for valgrind (ormgc.runs.valgrind); each cell is first run
    once under callgrind, whose instruction counts and GC share are deterministic.
    """
    with contextlib.ExitStack() as servers:
        db = scenario.db
        if scenario.orm:  # the embedded MongoDB server runs for the whole sweep
            db = servers.enter_context(serve(scenario.orm, scenario.db))
        served = scenario._replace(db=db)
        if not served.workload:
            progress(
                f"preparing {served.orm} dataset on {mask_password(served.db)} "
                f"({served.rows} rows) with {interp.label}"
            )
            run_worker(interp, served.spec("prepare"))
        counts = _exact_counts(exact, served, cells, progress) if exact else {}
        measure = _measurer(interp, served, len(cells) * repeat, progress)

        def judged(runs: Dict[Cell, List[Dict[str, Any]]]) -> bool:
            return enough(records_of(cells, runs, counts, lambda message: None))

        runs = interleaved_rounds(cells, measure, repeat, judged if enough else None, max_rounds)
        return records_of(cells, runs, counts, progress)


def records_of(
    cells: List[Cell],
    runs: Dict[Cell, List[Dict[str, Any]]],
    counts: Dict[Cell, Dict[str, Any]],
    progress: Progress,
) -> List[Dict[str, Any]]:
    """One record per cell from its runs so far, with its ratios and exact counts."""
    records = []
    for cell in cells:
        record = aggregate(runs[cell])
        if not record["counts_identical"]:
            progress(f"warning: GC counts differ across rounds of {cell.label}")
        if gc_changed_warning(record):  # the workload's own GC setting, not the cell's
            progress(gc_changed_warning(record))
        record.update(counts.get(cell, {}))
        records.append(record)
    for on in dict.fromkeys(cell.freeze for cell in cells):
        group = [record for record in records if record["freeze"] is on]
        attach_ratios(group, "default")
        _versus_disabled(group)
    return records


def _measurer(
    interp: Interpreter, scenario: Scenario, planned: int, progress: Progress
) -> Callable[[Cell], Dict[str, Any]]:
    """One fresh worker run of a cell, with a progress line (rounds past ``planned`` extend it)."""
    done, started = 0, time.monotonic()

    def measure(cell: Cell) -> Dict[str, Any]:
        nonlocal done
        spec = scenario._replace(freeze=cell.freeze).spec("measure", cell.policy)
        spec["server_pid"] = served_pid(scenario.db)
        run = run_worker(interp, spec)
        done += 1
        total = max(planned, done)
        eta = (time.monotonic() - started) / done * (total - done)
        progress(
            f"[{done}/{total}] {cell.label}: {run['collections_total']} collections, "
            f"{run['cpu_ms']:.0f} ms CPU (ETA {eta:.0f} s)"
        )
        return run

    return measure


_EXACT_FIELDS = ("instructions", "gc_instructions", "gc_share")


def _exact_counts(
    exact: Interpreter, scenario: Scenario, cells: List[Cell], progress: Progress
) -> Dict[Cell, Dict[str, Any]]:
    """One callgrind run per cell: its instruction counts, to join the cell's record."""
    counts = {}
    for index, cell in enumerate(cells, 1):
        spec = scenario._replace(freeze=cell.freeze).spec("measure", cell.policy)
        spec["server_pid"] = served_pid(scenario.db)
        progress(f"[exact {index}/{len(cells)}] {cell.label} under valgrind")
        run = run_worker(exact, spec)
        counts[cell] = {field: run.get(field) for field in _EXACT_FIELDS}
    return counts


def exact_interpreter(
    interp: Interpreter, mode: Optional[str], gc_method: str = "auto"
) -> Optional[Interpreter]:
    """``interp`` set up for valgrind when ``--exact`` was given (and exact mode exists)."""
    if not mode:
        return None
    from ormgc.runs.valgrind import exact_interpreter as checked  # exact mode: ormgc run --exact

    return checked(interp, mode, gc_method)


def split_by_freeze(
    records: List[Dict[str, Any]],
) -> List[Tuple[bool, List[Dict[str, Any]]]]:
    """The records per freeze setting, in the order measured."""
    groups: Dict[bool, List[Dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["freeze"], []).append(record)
    return list(groups.items())
