"""The suite's own cost per row across result sizes: dataset build and probe must stay flat.

For each size (default 1,000 ... 1,000,000 rows, loading a fifth): build the SQLite dataset
from scratch into a scratch folder through the fixture's real build path (generate, bulk
insert, verify, rename) and time it per row; then run the seed query bare and inside the
probe and price the probe with bench_probe_overhead's cost model (fixed cost + per-collection
callbacks), per loaded object and as a share of the query. Exits non-zero if the build time
per row from 10,000 rows up varies by more than --max-ratio (the 1,000-row build is mostly
fixed cost: reported, not judged). ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench_probe_overhead import fixed_cost_s, per_collection_cost_s, query_runs

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, open_fixture
from ormgc.results import check_writable, machine_name, write_json_atomic

SIZES = "1000,10000,100000,1000000"
JUDGED_FROM = 10_000  # smaller builds are dominated by fixed costs (DDL, verification, rename)


def measure_size(rows: int, scratch: Path, rounds: int) -> Dict[str, Any]:
    load = max(1, rows * DEFAULT_LOAD // DEFAULT_ROWS)
    fixture = open_fixture("sqlalchemy", f"sqlite:///{scratch / f'r{rows}.sqlite3'}", rows)
    started = time.perf_counter()
    fixture.ensure()
    build_s = time.perf_counter() - started
    bare, probed, collections = query_runs(fixture, load, rounds)
    fixture.close()
    query_s = statistics.median(bare)
    probe_s = fixed_cost_s() + collections * per_collection_cost_s()
    return {
        "rows": rows,
        "loaded": load,
        "build_s": build_s,
        "build_us_per_row": build_s / rows * 1e6,
        "query_ms": query_s * 1e3,
        "collections_total": collections,
        "probe_us_per_object": probe_s / load * 1e6,
        "probe_share_model": probe_s / query_s,
        "probe_share_ab": statistics.median(probed) / query_s - 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=SIZES, help="comma-separated sizes (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/probed query pairs per size")
    parser.add_argument("--max-ratio", type=float, default=2.0, help="flatness target")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.rows.split(",")]
    if args.json is not None:
        check_writable(args.json)
    figures: List[Dict[str, Any]] = []
    print("rows     loaded  build s  build us/row  query ms  collections  probe us/obj  probe %")
    with tempfile.TemporaryDirectory(prefix="ormgc-scaling-") as scratch:
        for rows in sizes:
            size = measure_size(rows, Path(scratch), args.rounds)
            figures.append(size)
            print(
                f"{rows:<8} {size['loaded']:<7} {size['build_s']:<8.2f} "
                f"{size['build_us_per_row']:<13.2f} {size['query_ms']:<9.1f} "
                f"{size['collections_total']:<12} {size['probe_us_per_object']:<13.4f} "
                f"{size['probe_share_model']:.3%}",
                flush=True,
            )
    judged = [size["build_us_per_row"] for size in figures if size["rows"] >= JUDGED_FROM]
    ratio = max(judged) / min(judged) if judged else 1.0
    probe = [size["probe_us_per_object"] for size in figures]
    print(
        f"build time per row from {JUDGED_FROM} rows up: max/min = {ratio:.2f} "
        f"(target <= {args.max_ratio:g}); probe per object max/min = {max(probe) / min(probe):.2f}"
    )
    if args.json is not None:
        document = {"machine": machine_name(), "python": sys.version.split()[0], "sizes": figures}
        write_json_atomic(args.json, document)
        print(f"wrote {args.json}")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
