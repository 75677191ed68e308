"""Exact figures repeat, timings do not: the seed scenario under callgrind, fresh runs per Python.

SQLAlchemy on SQLite, 100,000 rows, 20,000 loaded with the published loop, default policy.
Per Python: ``--runs`` fresh processes (two at a time: instruction counts do not care about
load), then ``--busy-runs`` more, two at a time again, beside a busy loop (so more CPU-bound
processes than the machine's two cores, on a machine other work shares too).
Every run's ``instructions`` and ``gc_instructions`` must be identical; the wall times of the
same runs (the block's, under valgrind, and the whole valgrind process's) are reported beside
them to show that they move. Also: what the marks alone count (an empty probed block).
Results merge into ``--output`` (``.json`` + ``.md``), one entry per Python, written whole.
Exit status 1 if a Python's figures differ between runs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED
from ormgc.results import write_atomic
from ormgc.runs.envs import interpreter
from ormgc.runs.pythons import SUPPORTED, available
from ormgc.runs.runner import Scenario, run_worker
from ormgc.runs.valgrind import exact_setup, marks_overhead, run_exact
from ormgc.worker.policies import parse_policy

BUSY_LOOP = "while True: pass"
FIGURES = ("instructions", "gc_instructions")


def _runs(interp: Any, spec: Dict[str, Any], count: int, parallel: int) -> List[Dict]:
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda _: run_exact(interp, spec), range(count)))


def _summary(records: List[Dict[str, Any]], phase: str) -> Dict[str, Any]:
    return {
        "phase": phase,
        "instructions": [record["instructions"] for record in records],
        "gc_instructions": [record["gc_instructions"] for record in records],
        "gc_function": records[0]["gc_function"],
        "collections": [record["collections_total"] for record in records],
        "block_wall_ms_under_valgrind": [round(record["wall_ms"]) for record in records],
        "valgrind_run_s": [record["valgrind_run_s"] for record in records],
    }


def measure(version: str, args: argparse.Namespace) -> Dict[str, Any]:
    interp = interpreter(None if version == "current" else version)
    interp = interp._replace(exact=exact_setup())
    scenario = Scenario("sqlalchemy", "sqlite", "seed_loop", args.rows, args.load, DEFAULT_SEED)
    run_worker(interp, scenario.spec("prepare"))  # natively, as ormgc run --exact does
    spec = scenario.spec("measure", parse_policy("default"))
    print(f"Python {version}: {args.runs} runs, {args.parallel} at a time", file=sys.stderr)
    phases = [_summary(_runs(interp, spec, args.runs, args.parallel), "as is")]
    if args.busy_runs:
        print(f"Python {version}: {args.busy_runs} runs beside a busy loop", file=sys.stderr)
        burner = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
        try:
            busy = _runs(interp, spec, args.busy_runs, args.parallel)
            phases.append(_summary(busy, "beside a busy loop"))
        finally:
            burner.kill()
            burner.wait()
    every = {figure: [n for phase in phases for n in phase[figure]] for figure in FIGURES}
    first = phases[0]
    return {
        "python": version,
        "rows": args.rows,
        "loaded": args.load,
        "policy": "default",
        "identical": all(len(set(values)) == 1 for values in every.values()),
        "instructions": first["instructions"][0],
        "gc_instructions": first["gc_instructions"][0],
        "gc_share": first["gc_instructions"][0] / first["instructions"][0],
        "gc_function": first["gc_function"],
        "marks_overhead_instructions": marks_overhead(interp, interp.exact),
        "valgrind": interp.exact.valgrind_version,
        "phases": phases,
    }


def markdown(entries: List[Dict[str, Any]]) -> str:
    lines = [
        "# Exact figures over fresh runs (SQLAlchemy/SQLite, the seed's loop, default policy)",
        "",
        "Written by `python scripts/bench_exact_determinism.py`. Instructions of the probed block"
        " under callgrind; wall times of the same runs (the block under valgrind, and the whole"
        " valgrind process) beside them.",
        "",
        "| Python | rows / loaded | phase | runs | instructions | gc instructions | gc share |"
        " identical | block wall ms (min-max) | valgrind run s (min-max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        for phase in entry["phases"]:
            walls, seconds = phase["block_wall_ms_under_valgrind"], phase["valgrind_run_s"]
            same = len(set(phase["instructions"])) == 1 and len(set(phase["gc_instructions"])) == 1
            lines.append(
                f"| {entry['python']} | {entry['rows']:,} / {entry['loaded']:,} | "
                f"{phase['phase']} | {len(walls)} | "
                f"{', '.join(f'{n:,}' for n in sorted(set(phase['instructions'])))} | "
                f"{', '.join(f'{n:,}' for n in sorted(set(phase['gc_instructions'])))} | "
                f"{entry['gc_share']:.1%} | {'yes' if same else 'NO'} | "
                f"{min(walls)}-{max(walls)} | {min(seconds)}-{max(seconds)} |"
            )
    lines += ["", "Marks alone (an empty probed block), counted in every figure above:", ""]
    lines += [f"- Python {e['python']}: {e['marks_overhead_instructions']:,}" for e in entries]
    return "\n".join(lines) + "\n"


def _save(output: Path, entries: List[Dict[str, Any]]) -> None:
    write_atomic(output, lambda out: json.dump(entries, out, indent=2))
    document = markdown(entries)
    write_atomic(output.with_suffix(".md"), lambda out: out.write(document))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python", action="append", help="3.X, or current (default: every installed 3.9-3.13)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy-runs", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--load", type=int, default=DEFAULT_LOAD)
    parser.add_argument("--output", type=Path, default=Path("results/exact/determinism.json"))
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="rewrite the .md from the .json, measure nothing",
    )
    args = parser.parse_args()
    if args.markdown_only:
        _save(args.output, json.loads(args.output.read_text()))
        return 0
    versions = args.python or [version for version in SUPPORTED if version in available()]
    entries: Dict[str, Dict[str, Any]] = {}
    if args.output.exists():  # keep the other Pythons' entries
        entries = {entry["python"]: entry for entry in json.loads(args.output.read_text())}
    failed = []
    for version in versions:
        entry = measure(version, args)
        entries[version] = entry
        if not entry["identical"]:
            failed.append(version)
        _save(args.output, [entries[key] for key in (*SUPPORTED, "current") if key in entries])
        print(f"Python {version}: identical={entry['identical']}", file=sys.stderr)
    print(markdown([entries[key] for key in (*SUPPORTED, "current") if key in entries]), end="")
    if failed:
        print(f"figures differ between runs on Python {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
