"""Shared test fixtures: every test gets its own cache; small datasets are built once."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import pytest

from ormgc.runs.debian_python import PYTHONS_ENV, pythons_dir

ROOT = Path(__file__).resolve().parent.parent
SMALL_ROWS = 2_000
SMALL_LOAD = 500
# Tests use their own caches, but find the interpreters `ormgc pythons --install` put in the
# user's (./dev test fetches them there once): the same Pythons as every other command.
os.environ.setdefault(PYTHONS_ENV, str(pythons_dir()))


# Files whose module fixture is one long serial step (seconds in the fresh-clone CI of
# results/suite-speed.md): collected first, so that under ./dev test's two workers
# (--dist loadfile) one worker starts on it while the other takes every other file.
LONGEST_FILES = ("test_asv_site.py",)


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in LONGEST_FILES)  # stable: order kept


def run_wide_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder that every pytest-xdist worker of this run shares (one process: its own)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-N/, above each worker's popen-gwN/
    path = base / name
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache shared by the tests that only read datasets (built once per test session).

    Its venvs (the pinned libraries per Python, the embedded server's) are shared by every
    worker of the run: each takes 10-20 s of pip, and the cache's file locks already keep
    concurrent builders apart. Datasets and the embedded server's data stay per worker (one
    embedded server runs per cache folder at a time: a shared one would serialize them)."""
    path = tmp_path_factory.mktemp("shared-cache")
    (path / "envs").symlink_to(run_wide_folder(tmp_path_factory, "shared-envs"))
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty cache for tests that build, break or race on datasets."""
    path = tmp_path / "cache"
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(path))
    return path


@pytest.fixture
def use_shared_cache(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(shared_cache))
    return shared_cache


@pytest.fixture
def restore_gc() -> Iterator[None]:
    """Tests that change thresholds or disable the GC leave it as they found it."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()
    else:
        gc.disable()


def ormgc(*args: str, cache_dir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the CLI as a user would, in a fresh process, with its own cache."""
    env = dict(os.environ, ORMGC_CACHE_DIR=str(cache_dir))
    return subprocess.run(
        [sys.executable, "-m", "ormgc", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def error_lines(done: subprocess.CompletedProcess) -> List[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]
