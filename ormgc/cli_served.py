"""``ormgc run --shape served``: its own options (rate, duration, clients...) and the run.

The served shape measures a real gunicorn under real load (``ormgc.runs.served``), so it runs
alone: one ORM at a time, policies written ``[freeze+]POLICY`` (``ormgc.runs.served_config``).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, Dict, List, Optional

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS
from orm_fixtures.served_app import SERVED_ORMS
from ormgc.errors import UsageError, bounded_int, positive_int
from ormgc.results import check_writable, write_json_atomic
from ormgc.runs.envs import interpreter
from ormgc.runs.limits import add_workers_bound
from ormgc.runs.paired import DEFAULT_BASELINE
from ormgc.runs.runner import databases_for
from ormgc.runs.served import ServedScenario, free_port, run_served
from ormgc.runs.served_config import SERVED_SWEEP, parse_served_policies
from ormgc.views.advice.served import ServedBounds, format_served_advice, served_advice
from ormgc.views.tables.served import format_served
from ormgc.views.terminal import terminal_width, use_colour
from ormgc.worker.prefork import DEFAULT_WORKERS

SERVED_SHAPE = "served"
DEFAULT_RATE = 50.0  # requests per second: well below what 2 workers on 2 cores serve
DEFAULT_DURATION_S = 10.0
DEFAULT_WARMUP_S = 2.0
MAX_RATE = 2000.0
MAX_DURATION_S = 600.0
MAX_REQUESTS = 50_000  # per run (rate x duration): the workers' logs hold 100,000 each
MAX_CLIENTS = 8
MAX_CONNECTIONS = 256
SERVED_ADVICE_ROUNDS = 3  # the fewest with a useful t-interval (t = 4.3 on 2 degrees)


def _bounded_number(low: float, high: float, zero: bool = False) -> Any:
    """argparse type: a number above ``low`` (or equal, with ``zero``) and at most ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (low <= value if zero else low < value) or not value <= high:
            lowest = f"from {low:g} to" if zero else f"above {low:g} and at most"
            raise argparse.ArgumentTypeError(f"need a number {lowest} {high:g}, got {text!r}")
        return value

    return parse


def add_served_arguments(run: argparse.ArgumentParser, workers: bool = False) -> None:
    """The served shape's options; ``workers``: add --workers too (ormgc run has it already,
    for prefork)."""
    served = run.add_argument_group(
        "served shape (--shape served)", "a real gunicorn under a fixed-rate load from wrk"
    )
    if workers:
        served.add_argument(
            "--workers",
            type=positive_int,
            default=DEFAULT_WORKERS,
            metavar="W",
            help=f"gunicorn workers (default {DEFAULT_WORKERS})",
        )
        add_workers_bound(run, "start")
    served.add_argument(
        "--rate",
        type=_bounded_number(0, MAX_RATE),
        default=DEFAULT_RATE,
        help=f"requests per second, fixed (open model; default {DEFAULT_RATE:g})",
    )
    served.add_argument(
        "--duration",
        type=_bounded_number(0, MAX_DURATION_S),
        default=DEFAULT_DURATION_S,
        metavar="SECONDS",
        help=f"measured seconds per run (default {DEFAULT_DURATION_S:g})",
    )
    served.add_argument(
        "--warmup",
        type=_bounded_number(0, 120, zero=True),
        default=DEFAULT_WARMUP_S,
        metavar="SECONDS",
        help=f"seconds of load before measuring, not counted (default {DEFAULT_WARMUP_S:g})",
    )
    served.add_argument(
        "--clients",
        type=bounded_int(1, MAX_CLIENTS),
        default=1,
        metavar="N",
        help=f"wrk processes sharing the schedule (1-{MAX_CLIENTS}; default 1)",
    )
    served.add_argument(
        "--connections",
        type=bounded_int(1, MAX_CONNECTIONS),
        default=16,
        metavar="N",
        help=f"connections in all (1-{MAX_CONNECTIONS}; default 16)",
    )
    served.add_argument("--port", type=bounded_int(1024, 65535), metavar="PORT",
                        help="port on 127.0.0.1, 1024-65535 (default: a free one)")  # fmt: skip


def wants_served(args: argparse.Namespace) -> bool:
    return bool(args.shape) and SERVED_SHAPE in args.shape


def served_scenario(args: argparse.Namespace, orm: str, db: str, rows: int) -> ServedScenario:
    """The scenario of ``ormgc run`` or ``ormgc advise`` options (UsageError if they clash)."""
    if args.per_request > rows:
        raise UsageError(f"--per-request {args.per_request} is more than --rows {rows}")
    if args.rate * args.duration > MAX_REQUESTS:
        raise UsageError(
            f"--rate {args.rate:g} x --duration {args.duration:g} is over {MAX_REQUESTS:,} "
            "requests per run: lower one of them"
        )
    if args.connections < args.clients:
        raise UsageError(f"--connections {args.connections} is fewer than --clients {args.clients}")
    if args.port is not None:
        free_port(args.port)  # in use: refused before any work
    return ServedScenario(
        orm, db, rows, args.seed, args.load or max(1, rows * DEFAULT_LOAD // DEFAULT_ROWS),
        args.per_request, args.workers, args.rate, args.duration, args.warmup, args.clients,
        args.connections, args.port,
    )  # fmt: skip


def _check_orm(orm: str) -> None:
    if orm not in SERVED_ORMS:
        raise UsageError(f"--shape served runs {' and '.join(SERVED_ORMS)}, not {orm}")


def run_served_command(args: argparse.Namespace) -> int:
    if args.shape != [SERVED_SHAPE]:
        raise UsageError("--shape served runs alone: give no other --shape")
    if len(args.rows) > 1:
        raise UsageError("--shape served takes one --rows size")
    if args.exact or args.precision is not None or args.workload:
        raise UsageError("--shape served does not take --exact, --precision or --workload")
    orms = list(dict.fromkeys(args.orm or ["sqlalchemy"]))
    for orm in orms:
        _check_orm(orm)
    policies = parse_served_policies(args.policy or list(SERVED_SWEEP))
    baseline = args.baseline or DEFAULT_BASELINE
    if baseline not in [policy.name for policy in policies]:
        baseline = None
    databases = databases_for(orms, args.db or [])
    scenarios = [served_scenario(args, orm, databases[orm], args.rows[0]) for orm in orms]
    if not args.freeze:
        raise UsageError(
            "--no-freeze is for the other shapes: in the served shape freezing is a policy of "
            "its own (freeze+POLICY), off unless asked for"
        )
    if args.json is not None:
        check_writable(args.json, "records")
    interp = interpreter(args.python, args.profile)
    records: List[Dict[str, Any]] = []
    for scenario in scenarios:
        records += run_served(interp, scenario, policies, args.repeat, baseline, _progress)
    print(format_served(records, _width(args), use_colour()))
    if args.json is not None:
        write_json_atomic(args.json, records)
        print(f"wrote {len(records)} records to {args.json}")
    return 0


def run_served_advice(args: argparse.Namespace) -> int:
    """``ormgc advise --shape served``: the sweep, the table, the advice and its gunicorn block."""
    if args.workload or args.records_from is not None:
        raise UsageError("--shape served measures the suite's app: no --workload or --from")
    if args.precision is not None or getattr(args, "exact", None):
        raise UsageError("--shape served does not take --precision or --exact")
    orm = args.orm or "sqlalchemy"
    _check_orm(orm)
    policies = parse_served_policies([DEFAULT_BASELINE] + (args.policy or list(SERVED_SWEEP)))
    db = databases_for([orm], [args.db] if args.db else [])[orm]
    scenario = served_scenario(args, orm, db, args.rows)
    if args.json is not None:
        check_writable(args.json, "advice")
    interp = interpreter(args.python, args.profile)
    rounds = args.repeat or SERVED_ADVICE_ROUNDS
    records = run_served(interp, scenario, policies, rounds, DEFAULT_BASELINE, _progress)
    bounds = ServedBounds(args.max_memory_growth, args.allow_disabled)
    advice = served_advice(records, DEFAULT_BASELINE, bounds)
    table = format_served(records, _width(args), use_colour())
    print(table + "\n\n" + format_served_advice(advice))
    if args.json is not None:
        write_json_atomic(args.json, {"advice": advice, "records": records})
        print(f"wrote the advice and {len(records)} records to {args.json}")
    return 0


def _width(args: argparse.Namespace) -> Optional[int]:
    """None with --wide (every column), else the terminal's width (as ``ormgc run``'s table)."""
    return None if getattr(args, "wide", False) else terminal_width()


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
