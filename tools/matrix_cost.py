"""What the Python 3.9-3.15 matrix costs, and how steady its timings are (a benchmark, not a test).

    .venv/bin/python tools/matrix_cost.py                       the full default matrix
    .venv/bin/python tools/matrix_cost.py --python 3.9 --python 3.13 --results /tmp/r \\
        -- --rows 20000 --load 5000 --rounds 2                  a reduced run, to estimate

Builds the datasets first, so the timings are "with fixtures cached", then runs
``nox -s bench-3.X`` version after version (options after ``--`` go to ``ormgc pyperf``), and
reports: the wall time per version and in all (target: TARGET_MINUTES for the full default
matrix), each paired ratio's 95% half-width (the matrix's precision), and pyperf's relative
standard deviation of every seed_loop query (the seed's
20,000-object query at the default size; target: TARGET_REL_STDEV), beside the same spread of
``scripts/bench_machine_noise.py`` run just before and just after: the machine's own floor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pyperf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import orm_fixtures  # noqa: E402
from ormgc.results import (  # noqa: E402
    DEFAULT_RESULTS,
    check_writable,
    machine_name,
    result_files,
)
from ormgc.runs.pythons import SUPPORTED  # noqa: E402
from ormgc.views.stats import half_width_percent  # noqa: E402

TARGET_MINUTES = 10  # issue 21: every version x every ORM x the default sweep, cached data
TARGET_REL_STDEV = 0.03  # pyperf's std dev / mean of the 20k-object query
NOISE_SCRIPT = ROOT / "scripts" / "bench_machine_noise.py"


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


def spreads(path: Path) -> Dict[str, Tuple[float, float]]:
    """Per benchmark: std dev / mean (pyperf's headline), and the robust MAD / median."""
    suite = pyperf.BenchmarkSuite.load(str(path))
    return {
        bench.get_name(): (
            bench.stdev() / bench.mean(),
            bench.median_abs_dev() / bench.median(),
        )
        for bench in suite
    }


def paired_widths(results: Path, versions: List[str]) -> List[Tuple[str, str, float, float]]:
    """(Python, benchmark, paired ratio, half-width %) of every policy timed in paired rounds
    against another one (`ormgc pyperf --rounds N`, the matrix's default)."""
    rows = []
    for version in versions:
        path = result_files(results, machine_name(), version).pyperf
        suite = pyperf.BenchmarkSuite.load(str(path))
        for bench in suite:
            meta = bench.get_metadata()
            baseline = meta.get("ormgc_policy") == meta.get("ormgc_paired_baseline")
            if "ormgc_paired_ci95_low" in meta and not baseline:
                ratio = meta["ormgc_paired_ratio"]
                ci95 = [meta["ormgc_paired_ci95_low"], meta["ormgc_paired_ci95_high"]]
                rows.append((version, bench.get_name(), ratio, half_width_percent(ci95, ratio)))
    return rows


def machine_noise(folder: Path, when: str) -> Tuple[float, float]:
    """Run the fixed CPU workload under pyperf as the matrix is run; return its spreads."""
    output = folder / f"machine-noise-{when}.json"
    check_writable(output, "pyperf")  # replace only an earlier run's pyperf file
    output.unlink(missing_ok=True)  # pyperf -o refuses an existing file
    command = [sys.executable, str(NOISE_SCRIPT), "--quiet", "-o", str(output)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    ((_, spread),) = spreads(output).items()
    return spread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", choices=SUPPORTED, help="default: all")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("bench_args", nargs="*", help="after --: options for ormgc pyperf")
    args = parser.parse_args()
    versions = args.python or list(SUPPORTED)
    bench_args = [*args.bench_args, "--results", str(args.results)]
    build_datasets(bench_args)
    folder = result_files(args.results, machine_name(), versions[0]).pyperf.parent
    folder.mkdir(parents=True, exist_ok=True)
    noise = {"before": machine_noise(folder, "before")}
    minutes: Dict[str, float] = {}
    for version in versions:
        started = time.monotonic()
        command = [sys.executable, "-m", "nox", "-s", f"bench-{version}", "--", *bench_args]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            print(f"matrix_cost: bench-{version} failed", file=sys.stderr)
            return 1
        minutes[version] = (time.monotonic() - started) / 60
    noise["after"] = machine_noise(folder, "after")
    total = sum(minutes.values())
    print("\n## Matrix cost\n")
    print("| Python | minutes |\n|---|---|")
    for version, spent in minutes.items():
        print(f"| {version} | {spent:.1f} |")
    every = total * len(SUPPORTED) / len(versions)
    verdict = "meets" if every <= TARGET_MINUTES else "misses"
    print(
        f"\nIn all {total:.1f} min; scaled to all {len(SUPPORTED)} versions, {every:.1f} min "
        f"({verdict} the {TARGET_MINUTES} min target of the full default matrix; options: "
        f"{' '.join(args.bench_args) or 'the defaults'})."
    )
    paired = paired_widths(args.results, versions)
    if paired:
        print("\n## Paired ratios to default: the 95% interval's half-width\n")
        print("| Python | benchmark | ratio to default | half-width |\n|---|---|---|---|")
        for version, name, ratio, width in paired:
            print(f"| {version} | {name} | {ratio:.2f} | ±{width:.1f}% |")
        widths = [width for *_, width in paired]
        middle, widest = statistics.median(widths), max(widths)
        print(f"\nHalf-widths: median ±{middle:.1f}%, widest ±{widest:.1f}%.")
    print("\n## pyperf relative standard deviation of the seed_loop query\n")
    print("| Python | benchmark | std dev / mean | MAD / median |\n|---|---|---|---|")
    relative = []
    for version in versions:
        found = spreads(result_files(args.results, machine_name(), version).pyperf)
        for name, (stdev, mad) in found.items():
            if "/seed_loop/" in name:
                relative.append(stdev)
                print(f"| {version} | {name} | {stdev:.1%} | {mad:.1%} |")
    for when, (stdev, mad) in noise.items():
        print(f"| {sys.version.split()[0]} | machine noise ({when}) | {stdev:.1%} | {mad:.1%} |")
    worst, middle = max(relative), statistics.median(relative)
    print(
        f"\nstd dev / mean of the queries: median {middle:.1%}, worst {worst:.1%} (target "
        f"{TARGET_REL_STDEV:.0%}); the machine's own floor, a fixed CPU loop timed the same "
        f"way: {noise['before'][0]:.1%} before, {noise['after'][0]:.1%} after."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
