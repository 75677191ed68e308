"""On-disk cache of built datasets: atomic writes, one builder at a time, verified reuse."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional

from .errors import FixtureError

CACHE_ENV = "ORMGC_CACHE_DIR"

# Returns None when the file is sound, else a short reason ("3 rows, expected 100000").
Verifier = Callable[[Path], Optional[str]]


def cache_dir() -> Path:
    """Where datasets and environments live: $ORMGC_CACHE_DIR, else the user's cache folder."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "orm-gc-bench")
    path = Path(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FixtureError(f"cannot create cache directory {path}: {exc.strerror}") from None
    return path


def notify(message: str) -> None:
    print(f"ormgc: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, waiting_for: str) -> Iterator[None]:
    """Hold an advisory lock; a second builder waits here instead of writing the same file."""
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notify(f"waiting for another process building {waiting_for}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check(path: Path, verify: Verifier) -> Optional[str]:
    return verify(path) if path.exists() else "missing"


def cached_file(target: Path, build: Callable[[Path], None], verify: Verifier, label: str) -> Path:
    """Return ``target`` once it verifies, building it (into a temp file, then renamed) if needed.

    A crash or Ctrl-C mid-build leaves only a ``.tmp-<pid>`` file that is never reused and is
    removed by the next builder; a cached file that fails verification is rebuilt with a message.
    """
    if _check(target, verify) is None:
        return target
    with exclusive_lock(target.with_name(target.name + ".lock"), label):
        problem = _check(target, verify)  # another builder may have finished while we waited
        if problem is None:
            return target
        if problem != "missing":
            notify(f"cached {label} at {target} failed verification ({problem}); rebuilding")
        for stale in target.parent.glob(target.name + ".tmp-*"):
            stale.unlink()
        temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        try:
            notify(f"building {label} (once; cached at {target})")
            build(temp)
            problem = verify(temp)
            if problem is not None:
                raise FixtureError(f"freshly built {label} failed verification: {problem}")
            os.replace(temp, target)
        finally:
            if temp.exists():
                temp.unlink()
    return target


def cached_dir(root: Path, build: Callable[[Path], str], notice: str, what: str) -> Path:
    """The folder ``root``, built in place by ``build(root)`` once, under a lock.

    For trees that cannot be moved once built (a venv, a patched interpreter): they are built
    where they will stay and marked complete only once ``build`` returned; an interrupted or
    failed build is removed and redone, never reused. ``build`` raises FixtureError to fail and
    returns what the ``.complete`` marker records (e.g. the requirements it installed).
    """
    marker = root / ".complete"
    if marker.exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(root.with_name(root.name + ".lock"), what):
        if marker.exists():
            return root
        shutil.rmtree(root, ignore_errors=True)
        notify(notice)
        try:
            root.mkdir()
            marker.write_text(build(root))
        finally:
            if not marker.exists():
                shutil.rmtree(root, ignore_errors=True)
    return root


def run_step(step: list, what: str) -> None:
    """Run one build command; FixtureError with its last line of errors if it fails."""
    try:
        done = subprocess.run(step, capture_output=True, text=True)
    except OSError as exc:
        failed = f"could not install {what}: {step[0]} does not run ({exc.strerror})"
        raise FixtureError(failed) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FixtureError(f"could not install {what}: {last}")


def cached_venv(root: Path, base_python: str, requirements: Path, notice: str, what: str) -> Path:
    """The venv at ``root`` with ``requirements`` installed, created once, under a lock.

    A venv cannot be moved after creation, so it is built in place and marked complete only
    once pip succeeded: an interrupted or failed install is removed and redone, never reused.
    """

    def build(root: Path) -> str:
        run_step([base_python, "-m", "venv", "--clear", str(root)], what)
        if not (root / "bin" / "python").exists():  # it answered like Python, made no venv
            raise FixtureError(f"could not install {what}: {base_python} -m venv made no venv")
        pip = [str(root / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        run_step(pip + ["--disable-pip-version-check", "-r", str(requirements)], what)
        return requirements.read_text()

    return cached_dir(root, build, notice, what)
