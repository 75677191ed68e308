"""``ormgc advise``: its options, and the command (sweep: ormgc.runs.advise; verdict and table:
ormgc.views.advice.rule)."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import Optional

import orm_fixtures
from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED
from orm_fixtures.request_loop import DEFAULT_PER_REQUEST, DEFAULT_REQUESTS
from ormgc.cli_run import add_precision_arguments, add_wide_argument, table_width
from ormgc.cli_served import SERVED_SHAPE, add_served_arguments, run_served_advice
from ormgc.errors import UsageError, positive_int
from ormgc.results import check_writable, write_json_atomic
from ormgc.runs import advise
from ormgc.runs.envs import CURRENT_PROFILE, interpreter, profiles
from ormgc.runs.pythons import SUPPORTED_RANGE
from ormgc.runs.runner import Scenario, databases_for
from ormgc.runs.workloads import workload_scenarios
from ormgc.views.advice.document import build_advice, enough
from ormgc.views.advice.file import read_advice_file
from ormgc.views.advice.rule import Bounds
from ormgc.views.advice.table import format_advice
from ormgc.views.terminal import use_colour

try:  # exact mode (valgrind: ormgc run --exact), once it is merged
    from ormgc.runs.exact_records import add_exact_argument
except ImportError:  # pragma: no cover
    add_exact_argument = None


def _percent(low: float, high: float):  # type: ignore[no-untyped-def]
    def parse(text: str) -> float:
        try:
            value = float(text.rstrip("%"))
        except ValueError:
            value = math.nan
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"need a percentage from {low:g} to {high:g}, got {text!r}"
            )
        return value / 100

    return parse


def _pause(text: str) -> Optional[float]:
    if text == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"need milliseconds above 0 or 'none', got {text!r}")
    return value


MIN_WIN = 0.90  # --min-win: the share of disabled's saving a setting must win back
MAX_MEMORY_GROWTH = 0.10  # --max-memory-growth over default's peak RSS


def add_advise(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "advise",
        help="which GC setting should I use? sweep the settings, recommend one",
        description="Sweep GC settings (first threshold "
        f"{advise.FIRST_THRESHOLDS[0]:,} ... {advise.FIRST_THRESHOLDS[-1]:,}, three-threshold "
        "settings, disabled; freeze on and off) over one workload, interleaved in fresh "
        "processes, and recommend the smallest setting that wins back --min-win of the CPU "
        "time disabled saves within the memory and pause bounds.",
    )
    parser.add_argument("--orm", choices=orm_fixtures.ORMS, help="ORM (default sqlalchemy)")
    parser.add_argument("--db", help="database, as for ormgc run (default: the ORM's)")
    parser.add_argument(
        "--shape",
        default="seed_loop",
        help="built-in workload (default seed_loop; request_loop; served: a real gunicorn under "
        "load, advice for gunicorn.conf.py)",
    )
    parser.add_argument("--workload", metavar="FILE.py:NAME|MODULE:NAME", help="your workload")
    parser.add_argument("--rows", type=positive_int, default=DEFAULT_ROWS, help="dataset rows")
    parser.add_argument("--load", type=positive_int, default=DEFAULT_LOAD, help="objects loaded")
    parser.add_argument(
        "--requests", type=positive_int, default=DEFAULT_REQUESTS, help="request loop: requests"
    )
    parser.add_argument(
        "--per-request", type=positive_int, default=DEFAULT_PER_REQUEST, help="objects per request"
    )
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        help="another setting to sweep besides the grid (repeatable)",
    )
    parser.add_argument(
        "--freeze",
        default="both",
        choices=sorted(advise.FREEZE_CHOICES),
        help="sweep with the seed's gc.collect(2) + gc.freeze(), without, or both (default)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a small grid: default, {len(advise.QUICK_THRESHOLDS)} first thresholds, "
        f"{' and '.join(advise.QUICK_TRIPLES)}, disabled; {advise.QUICK_REPEAT} rounds",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        help=f"rounds (default {advise.DEFAULT_REPEAT}; --quick {advise.QUICK_REPEAT})",
    )
    parser.add_argument(
        "--min-win",
        type=_percent(0, 100),
        default=MIN_WIN,
        metavar="PERCENT",
        help=f"share of disabled's CPU saving to win back (default {MIN_WIN * 100:.0f})",
    )
    parser.add_argument(
        "--max-memory-growth",
        type=_percent(0, 1000),
        default=MAX_MEMORY_GROWTH,
        metavar="PERCENT",
        help=f"peak RSS growth over default allowed (default {MAX_MEMORY_GROWTH * 100:.0f})",
    )
    parser.add_argument(
        "--max-pause",
        type=_pause,
        default=None,
        metavar="MS|none",
        help="worst GC pause allowed (wall-clock), per request for request loops (default none)",
    )
    parser.add_argument(
        "--allow-disabled",
        action="store_true",
        help="let the advice be gc.disable() (disabled is otherwise only the floor to compare "
        "with: no reference cycle the program makes would ever be freed)",
    )
    add_precision_arguments(
        parser,
        f"rounds to spend at most on a significant choice (and --precision): default "
        f"{advise.DEFAULT_MAX_ROUNDS}, --quick {advise.QUICK_MAX_ROUNDS}",
        f"--repeat, default {advise.DEFAULT_REPEAT}, --quick {advise.QUICK_REPEAT}",
    )
    parser.add_argument(
        "--from",
        dest="records_from",
        type=Path,
        metavar="ADVICE.json",
        help="judge the records of an earlier --json again (other bounds), measuring nothing",
    )
    parser.add_argument("--python", help=f"advise for this Python ({SUPPORTED_RANGE}, or a path)")
    parser.add_argument("--profile", default=CURRENT_PROFILE, choices=profiles())
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    parser.add_argument("--json", type=Path, help="write the advice and table (JSON)")
    add_wide_argument(parser)
    if add_exact_argument is not None:
        add_exact_argument(parser)
    add_served_arguments(parser, workers=True)


def _scenario(args: argparse.Namespace) -> Scenario:
    orm = args.orm or ("" if args.workload else "sqlalchemy")
    if args.workload is not None:
        if args.shape != "seed_loop":
            raise UsageError("--workload replaces --shape: give one or the other")
        orms = [orm] if orm else []
        return workload_scenarios(
            args.workload, orms, [args.db] if args.db else [], True, args.profile
        )[0]
    known = orm_fixtures.SHAPE_NAMES[orm] + orm_fixtures.REQUEST_SHAPE_NAMES[orm]
    if args.shape not in known:
        raise UsageError(f"unknown shape {args.shape!r} for {orm}: choose from {', '.join(known)}")
    requests = args.shape in orm_fixtures.REQUEST_SHAPE_NAMES[orm]
    needed = args.per_request if requests else args.load
    if needed > args.rows:
        option = "--per-request" if requests else "--load"
        raise UsageError(f"{option} {needed} is more than --rows {args.rows}")
    db = databases_for([orm], [args.db] if args.db else [])[orm]
    return Scenario(
        orm, db, args.shape, args.rows, args.load, args.seed, True, args.profile,
        args.requests, args.per_request,
    )  # fmt: skip


def run_advise(args: argparse.Namespace) -> int:
    if args.shape == SERVED_SHAPE:
        return run_served_advice(args)
    bounds = Bounds(args.min_win, args.max_memory_growth, args.max_pause, args.allow_disabled)
    if args.records_from is not None:
        return _judge_again(args, bounds)
    cells = advise.grid_cells(advise.grid_policies(args.quick, args.policy), args.freeze)
    scenario = _scenario(args)
    repeat = args.repeat or (advise.QUICK_REPEAT if args.quick else advise.DEFAULT_REPEAT)
    if args.json is not None:
        check_writable(args.json, "advice")
    interp = interpreter(args.python, args.profile)
    exact = advise.exact_interpreter(
        interp, getattr(args, "exact", None), getattr(args, "exact_gc", "auto")
    )
    budget = args.max_rounds or (
        advise.QUICK_MAX_ROUNDS if args.quick else advise.DEFAULT_MAX_ROUNDS
    )
    stop = enough(bounds, args.precision)
    records = advise.sweep(interp, scenario, cells, repeat, _progress, exact, stop, budget)
    advice = build_advice(records, bounds, records[0]["repeat"], budget, args.precision)
    advice["recommended"]["run"] += _run_options(args, advice["repeat"])
    print(format_advice(advice, table_width(args), use_colour()))
    if args.json is not None:
        write_json_atomic(args.json, advice)
        print(f"wrote the advice and {len(records)} records to {args.json}")
    return 0


def _judge_again(args: argparse.Namespace, bounds: Bounds) -> int:
    """``--from``: the advice on an earlier sweep's records under these bounds."""
    records, repeat, run, earlier_max_rounds = read_advice_file(args.records_from)
    if args.json is not None:
        check_writable(args.json, "advice")
    advice = build_advice(records, bounds, repeat, earlier_max_rounds, args.precision)
    advice["recommended"]["run"] += _options_of(run)
    print(format_advice(advice, table_width(args), use_colour()))
    if args.json is not None:
        write_json_atomic(args.json, advice)
        print(f"wrote the advice and {len(records)} records to {args.json}")
    return 0


def _options_of(run: str) -> str:
    """The workload's options in an earlier advice's ``ormgc run`` command (not its policies)."""
    words, kept = shlex.split(run)[2:], []
    while words:
        word = words.pop(0)
        if word == "--policy":
            words.pop(0)
        elif word != "--no-freeze":
            kept.append(shlex.quote(word))
    return "".join(" " + word for word in kept)


def _run_options(args: argparse.Namespace, rounds: int) -> str:
    """The rest of the ``ormgc run`` command that measures the recommended setting again."""
    if args.workload:
        parts = [f"--workload {args.workload}"] + ([f"--orm {args.orm}"] if args.orm else [])
    else:
        parts = [f"--orm {args.orm or 'sqlalchemy'}", f"--shape {args.shape}"]
        if args.rows != DEFAULT_ROWS:
            parts.append(f"--rows {args.rows}")
        if args.shape in orm_fixtures.REQUEST_SHAPE_NAMES.get(args.orm or "sqlalchemy", ()):
            parts.append(f"--requests {args.requests} --per-request {args.per_request}")
        elif args.load != DEFAULT_LOAD:
            parts.append(f"--load {args.load}")
        if args.seed != DEFAULT_SEED:
            parts.append(f"--seed {args.seed}")
    if args.db:
        parts.append(f"--db {args.db}")
    if args.python:
        parts.append(f"--python {args.python}")
    parts.append(f"--repeat {rounds}")
    return " " + " ".join(parts)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
