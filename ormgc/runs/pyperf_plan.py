"""What ``ormgc pyperf`` runs: its options, the mode's defaults, the list of benchmarks.

Benchmarks follow ``orm_fixtures.ORMS`` and ``SHAPE_NAMES``, so an ORM registered there joins
the matrix with no change here. Workers rebuild the same list from the options ``forward``
gives them, since pyperf finds a worker's benchmark by its position in that list.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional, Tuple

import orm_fixtures
from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED
from ormgc.errors import UsageError
from ormgc.results import DEFAULT_RESULTS
from ormgc.runs.exact_records import add_exact_argument
from ormgc.runs.runner import Scenario, databases_for
from ormgc.worker.policies import Policy, parse_policies
from ormgc.worker.pyperf_loop import TIMERS

# --quick: minutes for CI and smoke tests; the rest are the full defaults.
QUICK = {"rows": 10_000, "load": 2_000, "policies": ("default", "threshold:50000"), "repeat": 1}
QUICK_PYPERF = {"processes": 3, "values": 3, "warmups": 1, "loops": 1}
# The matrix's policies: each version's own default, the seed's fix and the floor (no GC), so
# that one table answers "what does the GC cost on my Python, and what does the fix win back".
# The seven-policy sweep of `ormgc run` stays one --policy list away; five versions x both ORMs
# of it would take over half an hour here, the three fit the 10-minute budget.
PYPERF_SWEEP = ("default", "threshold:50000", "disabled")
# How the full matrix times: paired rounds (ormgc.runs.pyperf_paired), every policy of a scenario
# once per round in a fresh process, the order rotated, so each policy's ratio to default gets a
# 95% interval from the rounds' pairs. 4 rounds: 36 fresh processes per Python, about 80 s here,
# so 3.9-3.15 fit the 10-minute budget (results/speed/; tools/matrix_cost.py measures it).
# pyperf's own workers (--rounds 0, what --quick uses) took 2 processes x 3 values plus a
# warmup per benchmark: about 2 minutes per Python, 15 for the seven.
FULL_ROUNDS = 4
# --rounds 0: pyperf's workers. Its own default is 20 processes x 3 values, sized for
# microbenchmarks; one value here is a whole query (about half a second, and 2 s of wall time
# with the embedded MongoDB server, which materializes all 100,000 documents of an unbounded
# find), so 2 processes x 3 values plus a warmup each. One loop per value is what pyperf's
# calibration (min_time 0.1 s) always chooses for such a query: fixing it saves the calibration
# process. -p, -n and --rigorous ask for more. GC counts are deterministic, so one
# fresh-process probe per benchmark suffices (the timed loops record theirs too).
FULL_PYPERF = {"processes": 2, "values": 3, "warmups": 1, "loops": 1}
FULL_PROBE_REPEAT = 1

Benchmark = Tuple[str, Scenario, Policy]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    ours = parser.add_argument_group("ormgc (besides pyperf's own options above)")
    ours.add_argument(
        "--quick",
        action="store_true",
        help=f"small dataset ({QUICK['rows']:,} rows), {len(QUICK['policies'])} policies, "
        f"{QUICK_PYPERF['processes']}x{QUICK_PYPERF['values']} values",
    )
    ours.add_argument("--orm", action="append", choices=orm_fixtures.ORMS, help="default: all")
    ours.add_argument("--shape", action="append", help="repeatable, or 'all'; default seed_loop")
    ours.add_argument(
        "--policy", action="append", help=f"repeatable; default: {', '.join(PYPERF_SWEEP)}"
    )
    ours.add_argument(
        "--db", action="append", help="database, repeatable, each for the ORM it fits (see run)"
    )
    ours.add_argument("--rows", type=int, help=f"dataset rows (default {DEFAULT_ROWS})")
    ours.add_argument("--load", type=int, help=f"objects per query (default {DEFAULT_LOAD})")
    ours.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    ours.add_argument(
        "--no-freeze", dest="freeze", action="store_false", help="skip gc.collect + gc.freeze"
    )
    ours.add_argument(
        "--timer", choices=sorted(TIMERS), default="cpu", help="what a value measures (cpu)"
    )
    ours.add_argument(
        "--rounds",
        type=int,
        help=f"paired rounds, a fresh process per policy each (default {FULL_ROUNDS}; "
        "--quick: 0); 0 times with pyperf's own workers",
    )
    ours.add_argument("--probe-repeat", type=int, help="fresh-process probe runs per benchmark")
    ours.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results folder")
    ours.add_argument("--machine", default="", help="machine folder name (default: host name)")
    add_exact_argument(ours)


def _shapes_for(orm: str, asked: Optional[List[str]]) -> List[str]:
    known = orm_fixtures.SHAPE_NAMES[orm]
    if not asked:
        return ["seed_loop" if "seed_loop" in known else known[0]]
    if "all" in asked:
        return list(known)
    return [name for name in dict.fromkeys(asked) if name in known]


def resolve(args: argparse.Namespace) -> List[Benchmark]:
    """Fill in the mode's defaults (in place, so workers get them) and list the benchmarks."""
    if args.rows is None:
        args.rows = QUICK["rows"] if args.quick else DEFAULT_ROWS
    if args.load is None:
        args.load = QUICK["load"] if args.quick else DEFAULT_LOAD
    if args.probe_repeat is None:
        args.probe_repeat = QUICK["repeat"] if args.quick else FULL_PROBE_REPEAT
    if min(args.rows, args.load, args.probe_repeat) < 1:
        raise UsageError("--rows, --load and --probe-repeat need whole numbers of at least 1")
    if args.rounds is None:
        args.rounds = 0 if args.quick else FULL_ROUNDS
    if args.rounds == 1 or args.rounds < 0:
        raise UsageError(
            f"--rounds {args.rounds}: need 0 (pyperf's workers) or at least 2 (an interval)"
        )
    if args.load > args.rows:
        raise UsageError(f"--load {args.load} is more than --rows {args.rows}")
    policies = parse_policies(
        args.policy or list(QUICK["policies"] if args.quick else PYPERF_SWEEP)
    )
    args.policy = [policy.name for policy in policies]
    args.orm = list(dict.fromkeys(args.orm or orm_fixtures.ORMS))
    shapes = {orm: _shapes_for(orm, args.shape) for orm in args.orm}
    unknown = [
        s for s in args.shape or [] if s != "all" and not any(s in v for v in shapes.values())
    ]
    if unknown:
        raise UsageError(
            f"unknown shape {unknown[0]!r} for {', '.join(args.orm)}; see ormgc shapes"
        )
    databases = databases_for(args.orm, args.db or [])
    benchmarks = []
    for orm in args.orm:
        db = databases[orm]
        # The label ignores where an embedded server listens: workers must find the same names.
        label = orm if db == orm_fixtures.default_db(orm) else f"{orm}@{db.split('://')[0]}"
        for shape in shapes[orm]:
            scenario = Scenario(orm, db, shape, args.rows, args.load, args.seed, args.freeze)
            for policy in policies:
                benchmarks.append((f"{label}/{shape}/{policy.name}", scenario, policy))
    return benchmarks


def forward(cmd: List[str], args: argparse.Namespace) -> None:
    """Give pyperf's workers the same benchmark list as the manager (add_cmdline_args)."""
    cmd += ["--rows", str(args.rows), "--load", str(args.load), "--seed", str(args.seed)]
    for orm in args.orm:
        cmd += ["--orm", orm]
    for shape in args.shape or []:
        cmd += ["--shape", shape]
    for policy in args.policy:
        cmd += ["--policy", policy]
    for db in args.db or []:
        cmd += ["--db", db]
    if not args.freeze:
        cmd.append("--no-freeze")
    if args.quick:
        cmd.append("--quick")
    cmd += ["--timer", args.timer, "--rounds", str(args.rounds)]
