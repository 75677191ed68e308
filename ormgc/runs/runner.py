"""Runs scenarios: one fresh worker process per measurement, K rounds of the policies
interleaved (ormgc.runs.paired), medians and paired ratios kept.

GC counts must be identical across repeats of the same scenario (same interpreter, libraries,
dataset, shape, policy); when they are not, the record says so and a warning is printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import orm_fixtures
from orm_fixtures import mask_password, serve, served_pid
from orm_fixtures.request_loop import DEFAULT_PER_REQUEST, DEFAULT_REQUESTS
from ormgc.errors import OrmGcError, UsageError
from ormgc.runs.aggregate import aggregate, counts_warning, gc_changed_warning
from ormgc.runs.envs import Interpreter
from ormgc.runs.paired import (
    DEFAULT_BASELINE,
    Precision,
    attach_ratios,
    interleaved_rounds,
    precision_fields,
    widest_half_width,
)
from ormgc.worker.policies import Policy
from ormgc.worker.prefork import DEFAULT_WORKERS
from ormgc.worker.timeline import DEFAULT_EVERY
from ormgc.worker.workload import describe_signal


class Scenario(NamedTuple):
    """What one measurement loads; the policy varies across a sweep."""

    orm: str
    db: str
    shape: str
    rows: int
    load: int
    seed: int
    freeze: bool = True
    profile: str = "current"
    requests: int = DEFAULT_REQUESTS  # request shapes only: how many requests,
    per_request: int = DEFAULT_PER_REQUEST  # and objects loaded by each
    workload: str = ""  # the user's workload (file.py:name or module:name) instead of a shape
    timeline_every: int = DEFAULT_EVERY  # request shapes: requests between memory samples
    workers: int = DEFAULT_WORKERS  # prefork: workers forked from the warmed-up parent

    def spec(self, action: str, policy: Optional[Policy] = None) -> Dict[str, Any]:
        spec = dict(self._asdict(), action=action)
        if policy is not None:
            spec["policy"] = policy.name
        return spec


def _talk(interp: Interpreter, spec: Dict[str, Any], result_path: str) -> Tuple[int, List[str]]:
    """Run the worker: the spec goes in on stdin (URLs stay out of the process list), its
    ``ormgc:`` notices (building, waiting...) are echoed live, the rest of stderr is kept."""
    worker = subprocess.Popen(
        [interp.executable, "-m", "ormgc.worker.measure", result_path],
        env=interp.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    kept = []
    try:
        worker.stdin.write(json.dumps(spec))
        worker.stdin.close()
        for line in worker.stderr:
            if line.startswith("ormgc: "):
                print(mask_password(line.rstrip()), file=sys.stderr, flush=True)
            else:
                kept.append(line.rstrip())
        return worker.wait(), kept
    except BaseException:
        worker.kill()
        worker.wait()
        raise


def run_worker(interp: Interpreter, spec: Dict[str, Any]) -> Dict[str, Any]:
    """Run one worker process and return its JSON answer; OrmGcError with one line if it fails."""
    if interp.exact is not None and spec["action"] == "measure":
        from ormgc.runs.valgrind import run_exact

        return run_exact(interp, spec)  # under callgrind; datasets are prepared natively
    handle, result_path = tempfile.mkstemp(prefix="ormgc-worker-", suffix=".json")
    os.close(handle)
    try:
        returncode, stderr = _talk(interp, spec, result_path)
        try:
            with open(result_path) as result_file:
                result = json.load(result_file)
        except ValueError:
            result = {}
    finally:
        os.unlink(result_path)
    if "error" in result:
        raise OrmGcError(mask_password(result["error"]))
    if result.get("stage"):  # the workload ended the process: ormgc.worker.measure
        how = (
            describe_signal(-returncode)
            if returncode < 0
            else f"exit code {returncode}, e.g. os._exit"
        )
        raise OrmGcError(f"{result['stage']} ended the process ({how}) before a result")
    if returncode == 0 and result:
        return result
    last = ([line for line in stderr if line.strip()] or [f"exit code {returncode}"])[-1]
    raise OrmGcError(f"{interp.label}: the {spec['action']} worker failed: {mask_password(last)}")


def databases_for(orms: List[str], dbs: List[str]) -> Dict[str, str]:
    """Which database each ORM uses: the ``--db`` that fits it, else its default.

    A SQL database fits both SQLAlchemy and Django: it goes to each of them that is asked for.
    """
    chosen: Dict[str, str] = {}
    for db in dict.fromkeys(dbs):
        fits = orm_fixtures.orms_of_db(db) or (tuple(orms) if len(orms) == 1 else ())
        if not fits:
            raise UsageError(f"--db {mask_password(db)!r}: not a database of any ORM")
        asked = [orm for orm in fits if orm in orms]
        if not asked:
            raise UsageError(
                f"--db {mask_password(db)!r} is a {' or '.join(fits)} database; add --orm {fits[0]}"
            )
        for orm in asked:
            if orm in chosen:
                raise UsageError(f"two databases for {orm}: give one --db per ORM")
            chosen[orm] = db
    return {orm: chosen.get(orm) or orm_fixtures.default_db(orm) for orm in orms}


Progress = Callable[[str], None]


def _stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_sweep(
    interp: Interpreter,
    scenarios: List[Scenario],
    policies: List[Policy],
    repeat: int = 1,
    progress: Progress = _stderr_progress,
    baseline: Optional[str] = DEFAULT_BASELINE,
    precision: Optional[Precision] = None,
) -> List[Dict[str, Any]]:
    """Measure every scenario under every policy, ``repeat`` fresh processes each, the
    policies interleaved in rounds and compared with ``baseline`` (ormgc.runs.paired);
    with ``precision``, more rounds until every CPU ratio's interval is that narrow.

    Database servers the scenarios name (mongoengine's ``embedded``) run in their own
    processes for the whole sweep; workers get their URLs.
    """
    with contextlib.ExitStack() as servers:
        urls: Dict[Tuple[str, str], str] = {}
        for scenario in scenarios:
            key = (scenario.orm, scenario.db)
            if key not in urls:  # a user's workload may name no ORM: it connects itself
                urls[key] = servers.enter_context(serve(*key)) if scenario.orm else scenario.db
        served = [scenario._replace(db=urls[scenario.orm, scenario.db]) for scenario in scenarios]
        return _measure(interp, served, policies, repeat, progress, baseline, precision)


def _measure(
    interp: Interpreter,
    scenarios: List[Scenario],
    policies: List[Policy],
    repeat: int,
    progress: Progress,
    baseline: Optional[str],
    precision: Optional[Precision] = None,
) -> List[Dict[str, Any]]:
    prepared = set()
    for scenario in scenarios:
        key = (scenario.orm, scenario.db, scenario.rows, scenario.seed)
        if key not in prepared and not scenario.workload:  # workloads bring their own data
            progress(
                f"preparing {scenario.orm} dataset on {mask_password(scenario.db)} "
                f"({scenario.rows} rows) with {interp.label}"
            )
            run_worker(interp, scenario.spec("prepare"))
            prepared.add(key)
    counter = ProgressCounter(len(scenarios) * len(policies) * repeat, progress)
    records = []
    for scenario in scenarios:
        runs = _scenario_runs(interp, scenario, policies, repeat, counter, baseline, precision)
        scenario_records = []
        for policy in policies:
            record = aggregate(runs[policy.name])
            if not record["counts_identical"]:
                progress(counts_warning(scenario.shape, policy.name, runs[policy.name]))
            if gc_changed_warning(record):
                progress(gc_changed_warning(record))
            scenario_records.append(record)
        attach_ratios(scenario_records, baseline)
        if precision is not None and baseline is not None:
            widest = widest_half_width(runs, baseline)
            for record in scenario_records:
                record.update(precision_fields(widest, precision, record["repeat"]))
        records += scenario_records
    return records


class ProgressCounter:
    """Progress lines with an ETA; ``--precision`` rounds add to the total as they start."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.total, self.done, self.progress = total, 0, progress
        self.started = time.monotonic()

    def ran(self, what: str, run: Dict[str, Any]) -> None:
        self.tick(f"{what}: {run['collections_total']} collections, {run['wall_ms']:.0f} ms")

    def tick(self, summary: str) -> None:
        """One more run done: ``[done/total] summary (ETA s)``."""
        self.done += 1
        self.total = max(self.total, self.done)
        eta = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        self.progress(f"[{self.done}/{self.total}] {summary} (ETA {eta:.0f} s)")


def _scenario_runs(
    interp: Interpreter,
    scenario: Scenario,
    policies: List[Policy],
    repeat: int,
    counter: ProgressCounter,
    baseline: Optional[str],
    precision: Optional[Precision],
) -> Dict[str, List[Dict[str, Any]]]:
    """Every policy's runs of one scenario, interleaved in rotated rounds (ormgc.runs.paired);
    with ``precision``, on until the widest CPU interval to ``baseline`` is narrow enough."""

    def measure(policy: Policy) -> Dict[str, Any]:
        spec = scenario.spec("measure", policy)
        spec["server_pid"] = served_pid(scenario.db)  # None: no server process here
        run = run_worker(interp, spec)
        counter.ran(f"{scenario.orm} {scenario.shape} {policy.name}", run)
        return run

    def enough(runs: Dict[Policy, List[Dict[str, Any]]]) -> bool:
        widest = widest_half_width(runs, base)
        counter.progress(
            f"round {len(runs[base])}: widest CPU interval +-{widest:.1f}% "
            f"(target +-{precision.target:g}%, at most {precision.max_rounds} rounds)"
        )
        if widest > precision.target:
            counter.total += len(policies)
        return widest <= precision.target

    base = next((policy for policy in policies if policy.name == baseline), None)
    checking = precision is not None and base is not None
    runs = interleaved_rounds(
        policies,
        measure,
        repeat,
        enough if checking else None,
        precision.max_rounds if checking else 0,
    )
    return {policy.name: policy_runs for policy, policy_runs in runs.items()}
