"""The embedded MongoDB server's own venv: a Python >= 3.10, pinned packages, built once."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Optional

from ._cache import cache_dir, cached_venv
from .errors import FixtureError

REQUIREMENTS = Path(__file__).with_name("mongo_server.txt")
PYTHON_ENV = "ORMGC_SERVER_PYTHON"  # an interpreter to build the server's venv with
MIN_VERSION, MAX_VERSION = (3, 10), (3, 14)  # what nx-27017 declares it runs on
_ASK = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"


def _candidates() -> Iterator[str]:
    chosen = os.environ.get(PYTHON_ENV)
    if chosen:
        yield chosen
        return
    yield sys.executable
    minors = range(MAX_VERSION[1], MIN_VERSION[1] - 1, -1)
    for name in ["python3"] + [f"python3.{minor}" for minor in minors]:
        found = shutil.which(name)
        if found:
            yield found
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for minor in minors:
        yield from sorted(glob.glob(f"{pyenv}/versions/3.{minor}.*/bin/python3"), reverse=True)


def _version(python: str) -> Optional[str]:
    """'3.11.7' if ``python`` runs and nx-27017 supports it, else None (pyenv shims may not)."""
    try:
        done = subprocess.run([python, "-c", _ASK], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) < 2:
        return None
    version = tuple(int(part) for part in lines[0].split(".")[:2])
    return lines[0] if MIN_VERSION <= version <= MAX_VERSION else None


def server_python() -> str:
    """An interpreter nx-27017 runs on: this one if it can, else one on PATH or in pyenv."""
    for candidate in _candidates():
        if _version(candidate):
            return candidate
    where = f"${PYTHON_ENV}" if os.environ.get(PYTHON_ENV) else "this Python, PATH and pyenv"
    raise FixtureError(
        "the embedded MongoDB server (nx-27017) needs Python "
        f"{'.'.join(map(str, MIN_VERSION))} to {'.'.join(map(str, MAX_VERSION))} and none was "
        f"found (looked at {where}); install one, or give --db mongodb://HOST:PORT"
    )


def venv_root(python: str) -> Path:
    """Where the venv built with ``python`` from the current pins lives."""
    version = _version(python) or "unknown"
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + python.encode()).hexdigest()[:10]
    return cache_dir() / "envs" / f"nx-27017-py{version}-{key}"


def server_venv() -> Path:
    """The venv holding nx-27017, created once per pin set and interpreter, under a lock.

    A venv cannot be moved after creation, so it is built in place and marked complete only
    once pip succeeded: an interrupted install is removed and redone, never reused.
    """
    python = server_python()
    root = venv_root(python)
    notice = f"installing the embedded MongoDB server (once) into {root}"
    return cached_venv(root, python, REQUIREMENTS, notice, "the embedded MongoDB server")
