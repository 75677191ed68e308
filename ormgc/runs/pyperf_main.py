"""``ormgc pyperf``: pyperf timings of every (ORM, shape, policy) in this interpreter, GC on.

Runs as ``python -m ormgc.runs.pyperf_main`` (pyperf starts its workers with the same command). The
manager takes the probe's records first (fresh processes, exactly as ``ormgc run``), then has
pyperf time each benchmark, then writes ``<results>/<machine>/<python>.json`` (pyperf's format;
GC numbers in each benchmark's metadata) and ``<python>.probe.json`` -- only at the very end,
each through a temp file and a rename, so an interrupted bench leaves no partial result.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional

import pyperf

import orm_fixtures
import orm_fixtures.mongo_server
from orm_fixtures import FixtureError
from ormgc.errors import OneLineParser, OrmGcError, UsageError, interrupt
from ormgc.results import check_writable, machine_name, python_label, result_files, write_atomic
from ormgc.runs.envs import CURRENT_PROFILE, interpreter, pins
from ormgc.runs.exact_records import add_exact_fields, exact_metadata
from ormgc.runs.pyperf_paired import check_no_worker_options, paired_benchmark
from ormgc.runs.pyperf_paired import gc_metadata as paired_gc_metadata
from ormgc.runs.pyperf_plan import (
    FULL_PYPERF,
    QUICK_PYPERF,
    Benchmark,
    add_arguments,
    forward,
    resolve,
)
from ormgc.runs.runner import Scenario, databases_for, run_sweep
from ormgc.runs.valgrind import exact_interpreter
from ormgc.worker.policies import Policy
from ormgc.worker.pyperf_loop import GC_LOG_ENV, TimedQuery, gc_metadata

# Probe fields copied into each benchmark's metadata: what was measured, and with what.
_RECORD_METADATA = (
    "orm_version",
    "orm_speedups",
    "driver",
    "driver_version",
    "driver_impl",
    "backend",
    "python_distribution",
    "python_compiler",
    "python_build",
    "gc_generations",  # what the interpreter reports: 2 on 3.14.0-3.14.4, 3 elsewhere
)
_RECORD_THRESHOLDS = ("gc_threshold", "gc_threshold_default")


def _benchmark_metadata(scenario: Scenario, policy: Policy, args: argparse.Namespace) -> Dict:
    return {
        "ormgc_timer": args.timer,
        "ormgc_orm": scenario.orm,
        "ormgc_shape": scenario.shape,
        "ormgc_policy": policy.name,
        "ormgc_rows": scenario.rows,
        "ormgc_load": scenario.load,
        "ormgc_seed": scenario.seed,
        "ormgc_freeze": str(scenario.freeze),
        "ormgc_mode": _mode(args),
    }


def _never(call: int) -> bool:
    return False  # the manager process runs no loops


def _mode(args: argparse.Namespace) -> str:
    return "quick" if args.quick else "full"


def _bench(
    runner: pyperf.Runner,
    args: argparse.Namespace,
    name: str,
    scenario: Scenario,
    policy: Policy,
    logs_call: Callable[[int], bool],
) -> Optional[pyperf.Benchmark]:
    timed = TimedQuery(name, scenario, policy, args.timer, logs_call)
    meta = _benchmark_metadata(scenario, policy, args)
    return runner.bench_time_func(name, timed, metadata=meta)


def _record_for(records: List[Dict[str, Any]], scenario: Scenario, policy: Policy) -> Dict:
    for record in records:
        if (record["orm"], record["shape"], record["policy"]) == (
            scenario.orm,
            scenario.shape,
            policy.name,
        ):
            return record
    raise OrmGcError(f"no probe record for {scenario.orm} {scenario.shape} {policy.name}")


def _say(message: str) -> None:
    print(f"ormgc pyperf: {message}", file=sys.stderr, flush=True)


def _annotate(bench: pyperf.Benchmark, record: Dict[str, Any], gc: Dict[str, Any]) -> None:
    extra = {key: record[key] for key in _RECORD_METADATA if record.get(key) not in (None, "")}
    for key in _RECORD_THRESHOLDS:  # the policy's, and the interpreter's own defaults
        extra[key] = "/".join(map(str, record[key]))
    extra["probe_gc_collections"] = record["collections_total"]
    extra["probe_peak_rss_mb"] = round(record["peak_rss_mb"], 1)
    extra["ormgc_pins"] = pins()
    extra["ormgc_profile"] = CURRENT_PROFILE
    extra.update(gc)
    extra.update(exact_metadata(record))  # --exact: instructions, the collector's share
    bench.update_metadata(extra)
    _say(
        f"  GC per query: {gc['gc_collections']} collections "
        f"({gc['gc_collections_per_generation']}), pauses {gc['gc_pause_ms_total']:.1f} ms, "
        f"peak RSS {gc['peak_rss_mb']} MB"
    )


def _serve(servers: contextlib.ExitStack, args: argparse.Namespace) -> List[Benchmark]:
    """Start the servers the benchmarks need (the embedded MongoDB) for the whole bench, and
    list the benchmarks again with their URLs, which pyperf's workers get too."""
    for orm in args.orm:
        db = databases_for([orm], args.db or [])[orm]
        url = servers.enter_context(orm_fixtures.serve(orm, db))
        if url == db:
            continue
        if args.db and db in args.db:
            args.db[args.db.index(db)] = url
        else:  # the default database: workers find it where default_db() looks
            os.environ[orm_fixtures.mongo_server.URL_ENV] = url
            args.inherit_environ.append(orm_fixtures.mongo_server.URL_ENV)
    return resolve(args)


def _manage(runner: pyperf.Runner, args: argparse.Namespace, benchmarks: List[Benchmark]) -> int:
    with contextlib.ExitStack() as servers:
        return _manage_served(runner, args, _serve(servers, args))


def _manage_served(
    runner: pyperf.Runner, args: argparse.Namespace, benchmarks: List[Benchmark]
) -> int:
    python, mode = python_label(), _mode(args)
    files = result_files(args.results, machine_name(args.machine), python)
    try:
        files.pyperf.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {files.pyperf.parent}: {exc.strerror}") from None
    check_writable(files.pyperf, "pyperf")
    check_writable(files.probe, "records")
    exact = None  # valgrind checked before the first benchmark
    if args.exact:
        exact = exact_interpreter(interpreter(None), args.exact, args.exact_gc)
    signal.signal(signal.SIGTERM, interrupt)
    _say(f"Python {python}, {len(benchmarks)} benchmarks ({mode}); results go to {files.pyperf}")
    scenarios = list(dict.fromkeys(scenario for _, scenario, _ in benchmarks))
    policies = list(dict.fromkeys(policy for _, _, policy in benchmarks))
    started = time.monotonic()
    records = run_sweep(interpreter(None), scenarios, policies, args.rounds or args.probe_repeat)
    if exact is not None:
        _say("counting instructions under valgrind (--exact), one fresh process each")
        add_exact_fields(records, run_sweep(exact, scenarios, policies, 1))
    if args.rounds:
        benches = []
        for name, scenario, policy in benchmarks:
            record = _record_for(records, scenario, policy)
            meta = _benchmark_metadata(scenario, policy, args)
            bench = paired_benchmark(name, record, args.timer, meta)
            _annotate(bench, record, paired_gc_metadata(record))
            benches.append(bench)
    else:
        benches = _pyperf_workers(runner, args, benchmarks, records, python)
    suite = pyperf.BenchmarkSuite(benches)
    write_atomic(files.probe, lambda out: json.dump(records, out, indent=2, sort_keys=True))
    write_atomic(files.pyperf, lambda out: suite.dump(out, compact=False))
    minutes = (time.monotonic() - started) / 60
    how = f"{args.rounds} paired rounds" if args.rounds else "pyperf's workers"
    _say(f"wrote {files.pyperf} and {files.probe.name} after {minutes:.1f} min ({how})")
    return 0


def _pyperf_workers(
    runner: pyperf.Runner,
    args: argparse.Namespace,
    benchmarks: List[Benchmark],
    records: List[Dict[str, Any]],
    python: str,
) -> List[pyperf.Benchmark]:
    """Every benchmark timed by pyperf's own worker processes (--rounds 0)."""
    handle, log_path = tempfile.mkstemp(prefix="ormgc-pyperf-gc-", suffix=".jsonl")
    os.close(handle)
    os.environ[GC_LOG_ENV] = log_path
    benches = []
    started = time.monotonic()
    try:
        for index, (name, scenario, policy) in enumerate(benchmarks):
            left = len(benchmarks) - index
            eta = (
                f", ETA {(time.monotonic() - started) / index * left / 60:.1f} min" if index else ""
            )
            _say(f"Python {python} [{index + 1}/{len(benchmarks)}] {name}: {left} left{eta}")
            try:
                bench = _bench(runner, args, name, scenario, policy, _never)
            except RuntimeError as exc:  # pyperf's word for a failed worker; its traceback is above
                raise OrmGcError(f"the pyperf worker for {name} failed: {exc}") from None
            _annotate(bench, _record_for(records, scenario, policy), gc_metadata(log_path, name))
            benches.append(bench)
    finally:
        os.unlink(log_path)
    return benches


def _run_worker(runner: pyperf.Runner, args: argparse.Namespace, benchmarks: List[Benchmark]):
    """Register every benchmark; pyperf runs only the one this worker was started for."""
    calibrating = (
        args.calibrate_loops
        or args.recalibrate_loops
        or args.calibrate_warmups
        or args.recalibrate_warmups
    )
    warmups = args.warmups or 0

    def logs_call(call: int) -> bool:
        return not calibrating and call > warmups  # warmups come first, then the values

    for name, scenario, policy in benchmarks:
        _bench(runner, args, name, scenario, policy, logs_call)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in argv
    parser = OneLineParser(
        prog="ormgc pyperf",
        allow_abbrev=False,  # --quick is looked for before parsing: no --qu
        description=__doc__.splitlines()[0],
        epilog="ormgc pyperf --python 3.12 runs all this under Python 3.12, in a managed venv "
        "with the pinned libraries (nox -s bench-3.12 does it in nox's venv); pyperf's own "
        "--python is not for use here.",
    )
    runner = pyperf.Runner(
        program_args=("-m", "ormgc.runs.pyperf_main"),
        add_cmdline_args=forward,
        _argparser=parser,
        **(QUICK_PYPERF if quick else FULL_PYPERF),
    )
    add_arguments(runner.argparser)
    args = runner.parse_args(argv)
    try:
        if args.output or args.append or args.compare_to:
            raise UsageError(
                "pyperf's -o, --append and --compare-to are not used here: results go to "
                "--results, comparisons come from ormgc compare"
            )
        benchmarks = resolve(args)
        if args.worker:
            return _run_worker(runner, args, benchmarks)
        check_no_worker_options(argv, args.rounds)  # pyperf gives its workers such options
        args.inherit_environ = [*(args.inherit_environ or []), GC_LOG_ENV, "ORMGC_CACHE_DIR"]
        return _manage(runner, args, benchmarks)
    except (OrmGcError, FixtureError) as exc:
        print(f"ormgc pyperf: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    except KeyboardInterrupt:
        print("ormgc pyperf: interrupted; no result written", file=sys.stderr)
        return 130
    except SystemExit as exc:  # pyperf exits on Ctrl-C and on its own errors
        if exc.code and not args.worker:
            print("ormgc pyperf: stopped; no result written", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
