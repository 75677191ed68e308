"""Every committed benchmark script runs (at a small size) and reports what it promises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

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


def test_dataset_build_benchmark(shared_cache: Path) -> None:
    # The real target (10x at 100k rows) is the script's own default; here: it runs and compares.
    done = _script(
        "bench_dataset_build.py", "--rows", "3000", "--target", "1", cache_dir=shared_cache
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "speedup=" in done.stdout and "seed_import=" in done.stdout


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
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cost model: probe overhead" in done.stdout and "A/B" in done.stdout


def test_scaling_overhead_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "overhead.json"
    done = _script(
        "bench_scaling_overhead.py", "--rows", "1000,2000", "--rounds", "1", "--json", str(output),
        cache_dir=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    sizes = json.loads(output.read_text())["sizes"]
    assert [(s["rows"], s["loaded"]) for s in sizes] == [(1000, 200), (2000, 400)]
    assert all(s["build_us_per_row"] > 0 and s["probe_share_model"] > 0 for s in sizes)
    assert "build CPU time per row" in done.stdout


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
