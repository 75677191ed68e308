"""The suite's own cost per row across result sizes: dataset build and probe must stay flat.

For each size (default 1,000 ... 1,000,000 rows, loading a fifth): build the dataset from
scratch through the fixture's real build path and time it per row -- SQLite: a file in a
scratch folder (generate, bulk insert, verify, rename); ``--orm mongoengine``: a scratch
database on the embedded server (insert_many, verify), dropped afterwards. Then run the seed
query bare and inside the probe and price the probe with bench_probe_overhead's cost model
(fixed cost + per-collection callbacks), per loaded object and as a share of the query. Exits
non-zero if the build time per row from 10,000 rows up (SQLite: this process's CPU time;
MongoDB: wall time, the server being another process) varies by more than --max-ratio (the
1,000-row build is mostly fixed cost: reported, not judged). ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench_probe_overhead import fixed_cost_s, per_collection_cost_s

from orm_fixtures import DEFAULT_LOAD, DEFAULT_ROWS, DEFAULT_SEED, open_fixture, serve, shapes
from ormgc import Probe
from ormgc.results import check_writable, write_json_atomic

SIZES = "1000,10000,100000,1000000"
JUDGED_FROM = 10_000  # smaller builds are dominated by fixed costs (DDL, verification, rename)
SCRATCH_SEED = DEFAULT_SEED + 1  # MongoDB: never the cached datasets' own database


def query_runs(fixture: Any, orm: str, load: int, rounds: int) -> tuple:
    """Alternate bare and probed runs of the seed loop; both timings and the collections."""
    shape = shapes(orm)["seed_loop"]
    bare, probed, collections = [], [], 0
    for _ in range(rounds):
        for with_probe in (False, True):
            gc.collect()
            with getattr(fixture, shape.opens)() as handle:
                began = time.perf_counter()
                if with_probe:
                    with Probe() as probe:
                        shape.run(handle, load)
                    collections = probe.result["collections_total"]
                else:
                    shape.run(handle, load)
                (probed if with_probe else bare).append(time.perf_counter() - began)
    return bare, probed, collections


def measure_size(orm: str, db: str, rows: int, rounds: int) -> Dict[str, Any]:
    load = max(1, rows * DEFAULT_LOAD // DEFAULT_ROWS)
    fixture = open_fixture(orm, db, rows, SCRATCH_SEED)
    started, started_cpu = time.perf_counter(), time.process_time()
    fixture.ensure()
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - started_cpu  # this process's share: the busy machine's
    # other processes stretch wall time, not this (the MongoDB server's own CPU is not in it)
    bare, probed, collections = query_runs(fixture, orm, load, rounds)
    if orm == "mongoengine":  # a scratch database: measured once, not kept
        fixture._db().client.drop_database(fixture.database)
    fixture.close()
    query_s = statistics.median(bare)
    probe_s = fixed_cost_s() + collections * per_collection_cost_s()
    return {
        "rows": rows,
        "loaded": load,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "build_us_per_row": build_s / rows * 1e6,
        "query_ms": query_s * 1e3,
        "collections_total": collections,
        "probe_us_per_object": probe_s / load * 1e6,
        "probe_share_model": probe_s / query_s,
        "probe_share_ab": statistics.median(probed) / query_s - 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orm", default="sqlalchemy", choices=("sqlalchemy", "mongoengine"))
    parser.add_argument("--rows", default=SIZES, help="comma-separated sizes (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/probed query pairs per size")
    parser.add_argument("--max-ratio", type=float, default=2.0, help="flatness target")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.rows.split(",")]
    if args.json is not None:
        check_writable(args.json, "overhead")
    figures: List[Dict[str, Any]] = []
    print(
        "rows     loaded  build s  build cpu s  build us/row  query ms  collections  "
        "probe us/obj  probe %"
    )
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ormgc-scaling-")))
        server = (
            stack.enter_context(serve("mongoengine", "embedded"))
            if args.orm != "sqlalchemy"
            else ""
        )
        for rows in sizes:
            db = server or f"sqlite:///{scratch / f'r{rows}.sqlite3'}"
            size = measure_size(args.orm, db, rows, args.rounds)
            figures.append(size)
            print(
                f"{rows:<8} {size['loaded']:<7} {size['build_s']:<8.2f} "
                f"{size['build_cpu_s']:<12.2f} "
                f"{size['build_us_per_row']:<13.2f} {size['query_ms']:<9.1f} "
                f"{size['collections_total']:<12} {size['probe_us_per_object']:<13.4f} "
                f"{size['probe_share_model']:.3%}",
                flush=True,
            )
    # SQLite builds in this process: its CPU time is the build's cost, which a busy machine's
    # other processes cannot stretch. The MongoDB server works in its own process: wall time.
    clock = "CPU" if args.orm == "sqlalchemy" else "wall"
    judged = [
        (size["build_cpu_s"] if clock == "CPU" else size["build_s"]) / size["rows"]
        for size in figures
        if size["rows"] >= JUDGED_FROM
    ]
    ratio = max(judged) / min(judged) if judged else 1.0
    probe = [size["probe_us_per_object"] for size in figures]
    verdict = f"max/min = {ratio:.2f} (target <= {args.max_ratio:g})" if judged else "not judged"
    print(
        f"build {clock} time per row from {JUDGED_FROM} rows up: {verdict}; "
        f"probe per object max/min = {max(probe) / min(probe):.2f}"
    )
    if args.json is not None:
        document = {
            "orm": args.orm,
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus)",
            "python": sys.version.split()[0],
            "sizes": figures,
        }
        write_json_atomic(args.json, document)
        print(f"wrote {args.json}")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
