"""``ormgc run``: its arguments and what it does (measure, print the table, write JSON)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import List, Optional

import orm_fixtures
from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED
from orm_fixtures.request_loop import DEFAULT_PER_REQUEST, DEFAULT_REQUESTS
from ormgc.cli_served import add_served_arguments, run_served_command, wants_served
from ormgc.errors import UsageError, positive_int
from ormgc.results import check_writable, write_json_atomic
from ormgc.runs.envs import CURRENT_PROFILE, interpreter, profiles
from ormgc.runs.exact_records import add_exact_argument
from ormgc.runs.limits import add_workers_bound, max_workers
from ormgc.runs.paired import DEFAULT_MAX_ROUNDS, PRECISION_START, Precision, choose_baseline
from ormgc.runs.pythons import SUPPORTED_RANGE
from ormgc.runs.runner import Scenario, databases_for, run_sweep
from ormgc.runs.valgrind import exact_interpreter
from ormgc.runs.workloads import workload_scenarios
from ormgc.views.tables.table import format_table
from ormgc.views.tables.workload_table import format_requests, format_workloads
from ormgc.views.terminal import terminal_width, use_colour
from ormgc.worker.policies import DEFAULT_SWEEP, parse_policies
from ormgc.worker.prefork import DEFAULT_WORKERS
from ormgc.worker.timeline import DEFAULT_EVERY


def row_counts(text: str) -> List[int]:
    """``100000`` or a comma-separated list of sizes, ``1000,10000,100000,1000000``."""
    sizes = [positive_int(part.strip().replace("_", "")) for part in text.split(",")]
    return list(dict.fromkeys(sizes))


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        value = math.nan
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"need a percentage above 0 and below 100, got {text!r}")
    return value


def add_precision_arguments(
    parser: argparse.ArgumentParser,
    max_rounds_help: str = "",
    first_rounds: str = f"{PRECISION_START}, or --repeat if more",
) -> None:
    """``--precision PCT`` and ``--max-rounds N``, shared by ``run`` and ``advise`` (each says
    how many rounds it measures before the first check)."""
    parser.add_argument(
        "--precision",
        type=_percent,
        metavar="PCT",
        help="add interleaved rounds until every CPU ratio's 95%% interval is within "
        f"+-PCT%% of the ratio, or --max-rounds (checked after the first rounds: {first_rounds})",
    )
    parser.add_argument(
        "--max-rounds",
        type=positive_int,
        help=max_rounds_help or f"--precision's budget of rounds (default {DEFAULT_MAX_ROUNDS})",
    )


def precision_of(args: argparse.Namespace) -> Optional[Precision]:
    """The ``--precision`` goal, or None."""
    if args.precision is None:
        return None
    return Precision(args.precision, args.max_rounds or DEFAULT_MAX_ROUNDS)


def add_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="measure GC activity while an ORM loads objects",
        description="Measure what the cyclic GC does while one query loads --load objects, "
        "each policy in fresh processes; print a table, optionally write JSON.",
    )
    run.add_argument(
        "--orm",
        action="append",
        choices=orm_fixtures.ORMS,
        help="ORM to measure (repeatable; default: sqlalchemy)",
    )
    run.add_argument(
        "--db",
        action="append",
        help="database, repeatable, each used by the ORM it fits: sqlalchemy and django (the "
        "same tables) 'sqlite' (cached "
        "file; the default), 'sqlite:///PATH', 'postgresql' ($ORMGC_POSTGRES_URL, else "
        "postgres@127.0.0.1:5432/test) or 'postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME' "
        "($PGPASSWORD keeps the password off the command line); mongoengine 'embedded' (a "
        "local nx-27017 server started for the run; the default unless $ORMGC_MONGODB_URL is "
        "set) or 'mongodb://HOST:PORT[/DB]'",
    )
    run.add_argument(
        "--rows",
        type=row_counts,
        default=[DEFAULT_ROWS],
        help=f"rows in the dataset, or a comma-separated list of sizes to measure each "
        f"(result-size scaling: 1000,10000,100000,1000000); default {DEFAULT_ROWS}",
    )
    run.add_argument(
        "--load",
        type=positive_int,
        help=f"objects the query loads (default: a fifth of --rows, as the seed's "
        f"{DEFAULT_LOAD} of {DEFAULT_ROWS})",
    )
    run.add_argument(
        "--shape",
        action="append",
        help="workload shape (repeatable, or 'all'; default seed_loop; 'prefork': W workers "
        "serving the request loop, by name only; 'served': a real gunicorn under fixed-rate "
        "load, alone); see 'ormgc shapes'",
    )
    run.add_argument(
        "--workload",
        metavar="FILE.py:NAME|MODULE:NAME",
        help="measure your own workload instead of a shape: NAME() is run first and returns "
        "the callable to measure (or yields it, then cleans up); see README",
    )
    run.add_argument(
        "--requests",
        type=positive_int,
        default=DEFAULT_REQUESTS,
        help=f"request shapes: requests per run (default {DEFAULT_REQUESTS})",
    )
    run.add_argument(
        "--per-request",
        type=positive_int,
        default=DEFAULT_PER_REQUEST,
        help=f"request shapes: objects each request loads (default {DEFAULT_PER_REQUEST})",
    )
    run.add_argument(
        "--timeline-every",
        type=positive_int,
        default=DEFAULT_EVERY,
        metavar="K",
        help=f"request shapes: sample memory and the GC's counts every K requests into the "
        f"record's rss_timeline (default {DEFAULT_EVERY})",
    )
    run.add_argument(
        "--workers",
        type=positive_int,
        default=DEFAULT_WORKERS,
        metavar="W",
        help=f"prefork shape: workers forked from the warmed-up parent (default {DEFAULT_WORKERS}; "
        f"at most what this machine holds: {max_workers().workers} here)",
    )
    add_workers_bound(run, "fork")
    run.add_argument(
        "--policy",
        action="append",
        help="GC policy: default, disabled, threshold:N, threshold:N,N1,N2, adaptive or "
        "adaptive:LO..HI (repeatable; "
        "default sweep: "
        f"{', '.join(DEFAULT_SWEEP)})",
    )
    run.add_argument(
        "--no-freeze",
        dest="freeze",
        action="store_false",
        help="skip the seed's gc.collect(2) + gc.freeze() before measuring (prefork: before "
        "forking)",
    )
    run.add_argument(
        "--python",
        help=f"measure under this Python ({SUPPORTED_RANGE}, or a path); "
        "runs in a managed venv with the profile's pins",
    )
    run.add_argument(
        "--profile",
        default=CURRENT_PROFILE,
        choices=profiles(),
        help="pinned library versions (seed-2022: SQLAlchemy 1.4.29, the seed's)",
    )
    run.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="rounds: every policy once per round, interleaved, the order rotated each round, "
        "each run a fresh process; medians and paired ratios reported (default 1)",
    )
    run.add_argument(
        "--baseline",
        metavar="POLICY",
        help="policy the others' wall and CPU times are divided by, with 95%% intervals over "
        "the rounds (default: default, when the run measures it)",
    )
    add_precision_arguments(run)
    run.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    run.add_argument("--json", type=Path, help="write the records to this JSON file")
    add_wide_argument(run)
    add_exact_argument(run)
    add_served_arguments(run)


def add_wide_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wide",
        action="store_true",
        help="print every column (thresholds, collections per generation, pauses, server and "
        "wait times, wall vs the baseline); by default the columns that answer the question, "
        "fitted to the terminal's width (80 when stdout is not a terminal); --json has them all",
    )


def table_width(args: argparse.Namespace) -> Optional[int]:
    """None with --wide (every column), else the terminal's width."""
    return None if args.wide else terminal_width()


def _shapes_for(orm: str, asked: Optional[List[str]]) -> List[str]:
    known = orm_fixtures.SHAPE_NAMES[orm] + orm_fixtures.REQUEST_SHAPE_NAMES[orm]
    if not asked:
        return ["seed_loop"]
    if "all" in asked:
        return list(known)  # not prefork: forking W workers is asked for by name
    for name in asked:
        if name not in known + (orm_fixtures.PREFORK_SHAPE,):
            raise UsageError(
                f"unknown shape {name!r} for {orm}: choose from {', '.join(known)} or all"
            )
    return list(dict.fromkeys(asked))


def _run_workload(args: argparse.Namespace) -> int:
    if args.shape:
        raise UsageError("--workload replaces --shape: give one or the other")
    policies = parse_policies(args.policy or list(DEFAULT_SWEEP))
    if args.precision is not None and choose_baseline(None, policies) is None:
        raise UsageError("--precision compares with a baseline: add --policy default")
    scenarios = workload_scenarios(
        args.workload, list(dict.fromkeys(args.orm or [])), args.db or [], args.freeze, args.profile
    )
    if args.json is not None:
        check_writable(args.json, "records")
    precision = precision_of(args)
    repeat = max(args.repeat, PRECISION_START) if precision else args.repeat
    interp = interpreter(args.python, args.profile)
    records = run_sweep(interp, scenarios, policies, repeat, precision=precision)
    print(format_workloads(records, table_width(args), use_colour()))
    if args.json is not None:
        write_json_atomic(args.json, records)
        print(f"wrote {len(records)} records to {args.json}")
    return 0


def run(args: argparse.Namespace) -> int:
    if wants_served(args):
        return run_served_command(args)
    if args.workload is not None:
        return _run_workload(args)
    orms = list(dict.fromkeys(args.orm or ["sqlalchemy"]))
    databases = databases_for(orms, args.db or [])
    shape_names = {orm: _shapes_for(orm, args.shape) for orm in orms}
    smallest = min(args.rows)
    for orm, names in shape_names.items():
        loads = set(names) - set(orm_fixtures.REQUEST_SHAPE_NAMES[orm]) - {"prefork"}
        if loads and args.load is not None and args.load > smallest:
            raise UsageError(f"--load {args.load} is more than --rows {smallest}")
        if len(loads) < len(names) and args.per_request > smallest:
            raise UsageError(f"--per-request {args.per_request} is more than --rows {smallest}")
    policies = parse_policies(args.policy or list(DEFAULT_SWEEP))
    baseline = choose_baseline(args.baseline, policies)
    precision = precision_of(args)
    if precision and baseline is None:
        raise UsageError("--precision compares with a baseline: add --policy default or --baseline")
    repeat = max(args.repeat, PRECISION_START) if precision else args.repeat
    scenarios = [
        Scenario(
            orm,
            databases[orm],
            shape,
            rows,
            args.load or max(1, rows * DEFAULT_LOAD // DEFAULT_ROWS),
            args.seed,
            args.freeze,
            args.profile,
            args.requests,
            args.per_request,
            timeline_every=args.timeline_every,
            workers=args.workers,
        )
        for orm in orms
        for rows in args.rows
        for shape in shape_names[orm]
    ]
    if args.json is not None:
        check_writable(args.json, "records")
    interp = interpreter(args.python, args.profile)
    if args.exact:  # valgrind and the marks checked before the first measurement
        interp = exact_interpreter(interp, args.exact, args.exact_gc)
    records = run_sweep(interp, scenarios, policies, repeat, baseline=baseline, precision=precision)
    print(format_table(records, table_width(args), use_colour()))
    requests = format_requests(records, table_width(args), use_colour())
    if requests:
        print("\n" + requests)
    if args.json is not None:
        write_json_atomic(args.json, records)
        print(f"wrote {len(records)} records to {args.json}")
    return 0
