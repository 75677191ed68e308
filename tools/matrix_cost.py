"""What the Python 3.9-3.13 matrix costs, and how steady its timings are (a benchmark, not a test).

    .venv/bin/python tools/matrix_cost.py                       the full default matrix
    .venv/bin/python tools/matrix_cost.py --python 3.9 --python 3.13 --results /tmp/r \\
        -- --rows 20000 --load 5000 -p 4                        a reduced run, to estimate

Builds the datasets first, so the timings are "with fixtures cached", then runs
``nox -s bench-3.X`` version after version (options after ``--`` go to ``ormgc pyperf``), and
reports: the wall time per version and in all (target: TARGET_MINUTES for the full default
matrix), and pyperf's relative standard deviation of every seed_loop query (the seed's
20,000-object query at the default size; target: TARGET_REL_STDEV).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pyperf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import orm_fixtures  # noqa: E402
from ormgc._pythons import SUPPORTED  # noqa: E402
from ormgc._results import DEFAULT_RESULTS, machine_name, result_files  # noqa: E402

TARGET_MINUTES = 10  # issue 4: five versions x both ORMs x the seven-policy sweep, cached data
TARGET_REL_STDEV = 0.03  # pyperf's std dev / mean of the 20k-object query


def _option(args: List[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


def build_datasets(bench_args: List[str]) -> None:
    """Build (or verify) every ORM's dataset now, so that no bench pays for it."""
    quick = "--quick" in bench_args
    rows = int(_option(bench_args, "--rows", "10000" if quick else str(orm_fixtures.DEFAULT_ROWS)))
    seed = int(_option(bench_args, "--seed", str(orm_fixtures.DEFAULT_SEED)))
    orms = [arg for prev, arg in zip(bench_args, bench_args[1:]) if prev == "--orm"]
    for orm in orms or orm_fixtures.ORMS:
        db = _option(bench_args, "--db", orm_fixtures.default_db(orm))
        with orm_fixtures.serve(orm, db) as url:  # the embedded MongoDB, for the build only
            fixture = orm_fixtures.open_fixture(orm, url, rows, seed)
            fixture.ensure()
            fixture.close()


def rel_stdevs(path: Path) -> Dict[str, float]:
    suite = pyperf.BenchmarkSuite.load(str(path))
    return {bench.get_name(): bench.stdev() / bench.mean() for bench in suite}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", choices=SUPPORTED, help="default: all five")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("bench_args", nargs="*", help="after --: options for ormgc pyperf")
    args = parser.parse_args()
    versions = args.python or list(SUPPORTED)
    bench_args = [*args.bench_args, "--results", str(args.results)]
    build_datasets(bench_args)
    minutes: Dict[str, float] = {}
    for version in versions:
        started = time.monotonic()
        command = [sys.executable, "-m", "nox", "-s", f"bench-{version}", "--", *bench_args]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            print(f"matrix_cost: bench-{version} failed", file=sys.stderr)
            return 1
        minutes[version] = (time.monotonic() - started) / 60
    total = sum(minutes.values())
    print("\n## Matrix cost\n")
    print("| Python | minutes |\n|---|---|")
    for version, spent in minutes.items():
        print(f"| {version} | {spent:.1f} |")
    five = total * len(SUPPORTED) / len(versions)
    verdict = "meets" if five <= TARGET_MINUTES else "misses"
    print(
        f"\nIn all {total:.1f} min; scaled to five versions, {five:.1f} min ({verdict} the "
        f"{TARGET_MINUTES} min target of the full default matrix; options: "
        f"{' '.join(args.bench_args) or 'the defaults'})."
    )
    print("\n## pyperf relative standard deviation of the seed_loop query\n")
    print("| Python | benchmark | std dev / mean |\n|---|---|---|")
    machine = machine_name()
    spreads = []
    for version in versions:
        for name, spread in rel_stdevs(result_files(args.results, machine, version).pyperf).items():
            if "/seed_loop/" in name:
                spreads.append(spread)
                print(f"| {version} | {name} | {spread:.1%} |")
    worst, middle = max(spreads), statistics.median(spreads)
    print(f"\nMedian {middle:.1%}, worst {worst:.1%} (target {TARGET_REL_STDEV:.0%}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
