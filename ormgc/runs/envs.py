"""The interpreter a measurement runs in: the running one, or a managed venv per profile.

A profile is a pinned requirements file in ``ormgc/profiles``. Managed environments live in the
cache, keyed by profile, interpreter and the file's content, and are marked complete only after
pip succeeds, so an interrupted install is redone, never reused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

import orm_fixtures
import ormgc
from orm_fixtures._cache import cache_dir, cached_venv
from ormgc.errors import UsageError
from ormgc.runs.pythons import find_python

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"
CURRENT_PROFILE = "current"


class Interpreter(NamedTuple):
    executable: str
    env: Dict[str, str]  # the environment a worker process gets
    label: str
    exact: Optional[Any] = None  # ormgc.runs.valgrind.ExactSetup: measure under callgrind


def profiles() -> List[str]:
    return sorted(path.stem for path in PROFILES_DIR.glob("*.txt"))


def profile_file(profile: str) -> Path:
    path = PROFILES_DIR / f"{profile}.txt"
    if not path.exists():
        raise UsageError(f"unknown profile {profile!r}: choose from {', '.join(profiles())}")
    return path


def pinned_per_version(profile: str = CURRENT_PROFILE) -> List[str]:
    """Packages the profile pins differently per Python version (environment markers)."""
    lines = profile_file(profile).read_text().splitlines()
    marked = (line.split("#")[0] for line in lines if ";" in line.split("#")[0])
    return sorted({line.split(";")[0].split("==")[0].strip() for line in marked})


def _source_path() -> str:
    """A folder holding only our two packages, so a worker of another Python imports them
    without seeing the running interpreter's site-packages. One folder per checkout: two
    checkouts sharing a cache must not run each other's code."""
    sources = [Path(package.__file__).resolve().parent for package in (orm_fixtures, ormgc)]
    key = hashlib.sha256("\n".join(map(str, sources)).encode()).hexdigest()[:12]
    shim = cache_dir() / "pythonpath" / key
    shim.mkdir(parents=True, exist_ok=True)
    for source in sources:
        link = shim / source.name
        if not link.is_symlink() or link.resolve() != source:
            temp = shim / f".{source.name}.{os.getpid()}"
            if temp.is_symlink():
                temp.unlink()
            temp.symlink_to(source)
            os.replace(temp, link)
    return str(shim)


def _worker_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = _source_path()
    env.pop("PYTHONHOME", None)
    return env


def _full_version(base_python: str) -> str:
    """``3.12.1`` from the interpreter itself; UsageError (one line) if it does not say so."""
    ask = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    try:
        done = subprocess.run([base_python, "-c", ask], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--python {base_python}: does not run ({exc})") from None
    version = done.stdout.strip()
    if done.returncode != 0 or not re.match(r"3\.[0-9]+\.[0-9]+\Z", version):
        raise UsageError(
            f"--python {base_python}: answers like Python but not to sys.version_info "
            f"(said {version[:40]!r}): not an interpreter a venv can be made from"
        )
    return version


def _venv(base_python: str, profile: str) -> str:
    requirements = profile_file(profile)
    version = _full_version(base_python)
    key = hashlib.sha256(requirements.read_bytes() + base_python.encode()).hexdigest()[:10]
    root = cache_dir() / "envs" / f"{profile}-py{version}-{key}"
    notice = f"creating the {profile!r} environment for Python {version} (once) in {root}"
    what = f"profile {profile!r} on Python {version}"
    return str(cached_venv(root, base_python, requirements, notice, what) / "bin" / "python")


def interpreter(python: Optional[str], profile: str = CURRENT_PROFILE) -> Interpreter:
    """Where to run: the current interpreter as it is, unless another Python or profile is
    asked for, in which case a managed venv with the profile's pins."""
    profile_file(profile)
    if python is None and profile == CURRENT_PROFILE:
        return Interpreter(sys.executable, _worker_env(), "this Python")
    base = find_python(python) if python else sys.executable
    return Interpreter(
        _venv(base, profile), _worker_env(), f"Python {python or 'current'} ({profile})"
    )


def pins(profile: str = CURRENT_PROFILE) -> str:
    """The installed version of every package the profile pins, as one readable line (a
    package pinned per Python version by environment markers is listed once)."""
    found = []
    names = (
        line.split("#")[0].split(";")[0].split("==")[0].strip()
        for line in profile_file(profile).read_text().splitlines()
    )
    for name in dict.fromkeys(names):
        if name:
            try:
                found.append(f"{name}=={importlib.metadata.version(name)}")
            except importlib.metadata.PackageNotFoundError:
                found.append(f"{name}==missing")
    return " ".join(dict.fromkeys(found))  # a package pinned per Python has several lines
