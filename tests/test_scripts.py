"""Every committed benchmark script runs (at a small size) and reports what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


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
