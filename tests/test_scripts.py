"""Every committed benchmark script runs (at a small size) and reports what it promises."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pyperf
import pytest
from sqlalchemy import select

from .conftest import ROOT, SMALL_LOAD, SMALL_ROWS


def _script(name: str, *args: str, cache_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, ORMGC_CACHE_DIR=str(cache_dir))
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _figures(pattern: str, text: str) -> List[float]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return [float(group) for group in found.groups()]


def test_dataset_build_benchmark(shared_cache: Path) -> None:
    # The script's own target is 10x at 100,000 rows; at 10,000 rows it measured 11-12.6x
    # (2026-12-07, 2 cores shared): 4x leaves room for a busy machine and still fails if the
    # fixture's import fell back to one ORM object per row (about 1x).
    done = _script(
        "bench_dataset_build.py", "--rows", "10000", "--target", "4", cache_dir=shared_cache
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows, seed, bulk, speedup = _figures(
        r"rows=(\d+) seed_import=([\d.]+)s bulk_import=([\d.]+)s speedup=([\d.]+)x", done.stdout
    )
    assert rows == 10_000 and speedup >= 4
    assert speedup == pytest.approx(seed / bulk, rel=0.1)  # the printed times are rounded


def test_dataset_build_benchmark_times_the_same_import(tmp_path: Path) -> None:
    """Both importers write the same rows, or the speed-up compares unlike work."""
    spec = importlib.util.spec_from_file_location(
        "bench_build", ROOT / "scripts" / "bench_dataset_build.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = list(bench.dataset.entry_rows(500))
    tables = []
    for importer in (bench.seed_import, bench.bulk_import):
        path = tmp_path / f"{importer.__name__}.sqlite3"
        bench.timed(importer, path, rows)
        engine = bench.create_engine(f"sqlite:///{path}")  # read back as typed by the model
        table = bench.Entry.__table__
        with engine.connect() as conn:
            tables.append([tuple(row) for row in conn.execute(select(table).order_by(table.c.id))])
        engine.dispose()
    # the same values (SQLite keeps the dates as text, with or without microseconds)
    assert tables[0] == tables[1] == sorted(tuple(row) for row in rows)


def test_probe_overhead_benchmark(shared_cache: Path) -> None:
    done = _script(
        "bench_probe_overhead.py",
        "--rows",
        "3000",
        "--load",
        "1000",
        "--rounds",
        "2",
        cache_dir=shared_cache,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # exits 1 if the model says >= 1%
    rows, load, query_ms, collections = _figures(
        r"rows=(\d+) load=(\d+): query ([\d.]+) ms, (\d+) collections", done.stdout
    )
    (model,) = _figures(r"cost model: probe overhead ([\d.]+)%", done.stdout)
    assert (rows, load) == (3000, 1000) and query_ms > 0
    # 1,000 objects loaded at threshold 700 allocate enough for dozens of young collections
    # (48 measured): with none counted, the per-collection part of the model would vanish
    assert 20 <= collections <= 200
    assert 0 < model < 1
    _figures(r"A/B medians of 2: probed/bare - 1 = ([-+][\d.]+)%", done.stdout)


def test_scaling_overhead_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "overhead.json"
    done = _script(
        "bench_scaling_overhead.py", "--rows", "10000,20000", "--rounds", "1",
        "--json", str(output), cache_dir=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr  # exits 1 if not flat (max/min > 2)
    sizes = json.loads(output.read_text())["sizes"]
    assert [(s["rows"], s["loaded"]) for s in sizes] == [(10_000, 2000), (20_000, 4000)]
    for size in sizes:
        assert size["build_us_per_row"] == pytest.approx(size["build_s"] / size["rows"] * 1e6)
        assert size["build_cpu_s"] > 0 and 0 < size["probe_share_model"] < 0.01
    # twice the objects loaded, about twice the young collections (168 and 338 measured)
    first, second = (size["collections_total"] for size in sizes)
    assert first > 50 and 1.8 <= second / first <= 2.2
    per_row = [size["build_cpu_s"] / size["rows"] for size in sizes]
    (ratio,) = _figures(
        r"build CPU time per row from 10000 rows up: max/min = ([\d.]+)", done.stdout
    )
    assert ratio == pytest.approx(max(per_row) / min(per_row), abs=0.006) and ratio <= 2


def test_machine_noise_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "noise.json"
    done = _script(
        "bench_machine_noise.py", "-p", "1", "-n", "2", "-o", str(output), cache_dir=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (bench,) = pyperf.BenchmarkSuite.load(str(output)).get_benchmarks()
    assert bench.get_name() == "machine_noise/cpu_loop" and bench.get_nvalue() == 2
    assert bench.get_metadata()["ormgc_timer"] == "cpu" and bench.mean() > 0


@pytest.mark.slow
def test_matrix_cost_reports_time_and_spread_beside_the_machine_floor(
    tmp_path: Path, shared_cache: Path
) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    results = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "matrix_cost.py"), "--python", version,
         "--results", str(results), "--", "--quick", "--orm", "sqlalchemy", "-p", "1", "-n", "2"],
        cwd=ROOT, env=dict(os.environ, ORMGC_CACHE_DIR=str(shared_cache), ORMGC_MACHINE="m"),
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"| {version} | sqlalchemy/seed_loop/default |" in done.stdout
    assert "machine noise (before)" in done.stdout and "machine noise (after)" in done.stdout
    assert "the machine's own floor" in done.stdout
    assert sorted(path.name for path in (results / "m").iterdir()) == [
        f"{version}.json", f"{version}.probe.json",
        "machine-noise-after.json", "machine-noise-before.json",
    ]  # fmt: skip


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_exact_determinism_benchmark(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "determinism.json"
    done = _script(
        "bench_exact_determinism.py",
        *("--python", "current", "--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD)),
        *("--runs", "2", "--busy-runs", "1", "--output", str(out)),
        cache_dir=shared_cache,
    )
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(out.read_text())
    assert entry["identical"] and entry["gc_function"]
    assert [len(phase["instructions"]) for phase in entry["phases"]] == [2, 1]
    assert 0 < entry["marks_overhead_instructions"] < 100_000
    assert "| current | 2,000 / 500 | as is | 2 |" in out.with_suffix(".md").read_text()


def test_exact_share_table(tmp_path: Path) -> None:
    def record(python: str, policy: str, share: float, rows: int = 100_000) -> dict:
        return {"orm": "sqlalchemy", "policy": policy, "python": python, "rows": rows,
                "loaded": rows // 5, "gc_share": share, "instructions": 4_969_555_488,
                "collections_total": 1708}  # fmt: skip

    (tmp_path / "3.11.json").write_text(json.dumps([record("3.11.7", "default", 0.3268)]))
    (tmp_path / "small.json").write_text(json.dumps([record("3.12.1", "default", 0.2, 10_000)]))
    (tmp_path / "determinism.json").write_text("[]")
    done = _script("exact_share_table.py", "--folder", str(tmp_path), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "gc-share.md").read_text()
    assert written == done.stdout and "| Python 3.11 | Python 3.12 |" in written
    assert "20.0%" not in written  # the 10,000-row record is left out
    assert "| sqlalchemy | default | -- | -- | 32.7% (4,970M, 1708 coll.) | -- |" in written
    assert "| sqlalchemy | disabled | -- |" in written
    assert written.startswith("# GC share of the seed query's instructions (exact, under "
                              "callgrind): 100,000 rows, 20,000 loaded\n")  # fmt: skip
    # a rerun of a cell: the newest record is the table's, whatever the files' order
    newer = dict(record("3.11.7", "default", 0.25), timestamp="2026-12-07T00:00:00+00:00")
    older = dict(record("3.11.7", "default", 0.26), timestamp="2026-11-01T00:00:00+00:00")
    (tmp_path / "3.11-a.json").write_text(json.dumps([newer]))
    (tmp_path / "3.11-z.json").write_text(json.dumps([older]))
    (tmp_path / "3.11.json").unlink()
    done = _script("exact_share_table.py", "--folder", str(tmp_path), cache_dir=tmp_path)
    assert "| sqlalchemy | default | -- | -- | 25.0% (4,970M" in done.stdout, done.stdout
