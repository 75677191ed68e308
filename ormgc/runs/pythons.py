"""Finding the interpreters to measure: on PATH, in pyenv, in uv's managed Pythons, in the
cache's Debian builds (``ormgc pythons --install``), or any interpreter given by path.

On these machines pyenv holds 3.9-3.13 but its ``python3.X`` shims answer "command not found"
unless a version is selected, so a name on PATH is only trusted once it has run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from ormgc.errors import UsageError
from ormgc.runs import debian_python
from ormgc.worker.probe import distribution

# Declared once: nox, asv.conf.json and the workflows follow (tests/test_workflows.py checks).
SUPPORTED = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
SUPPORTED_RANGE = f"{SUPPORTED[0]} ... {SUPPORTED[-1]}"  # what help texts say --python takes
_VERSION = re.compile(r"3\.\d{1,2}t?\Z")
_ASK = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _uv_root() -> Path:
    """Where ``uv python install`` puts its interpreters."""
    if os.environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(os.environ["UV_PYTHON_INSTALL_DIR"])
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "uv" / "python"


def _patch_key(path: Path) -> List[int]:
    return [int(part) for part in re.findall(r"\d+", path.name)]


def _candidates(version: str) -> Iterator[str]:
    name = f"python{version}"
    on_path = shutil.which(name)
    if on_path:
        yield on_path
    base = version.rstrip("t")
    pattern = f"{base}.*t" if version.endswith("t") else f"{base}.*"
    for prefix in sorted(
        _pyenv_root().joinpath("versions").glob(pattern), key=_patch_key, reverse=True
    ):
        if prefix.name.count(".") == 2 and (prefix / "bin" / name).exists():
            yield str(prefix / "bin" / name)
    # uv: cpython-3.14.0-linux-x86_64-gnu, cpython-3.14.0+freethreaded-linux-x86_64-gnu
    build = "+freethreaded" if version.endswith("t") else ""
    for prefix in sorted(_uv_root().glob(f"cpython-{base}.*-*"), key=_patch_key, reverse=True):
        if ("+freethreaded" in prefix.name) == bool(build) and (prefix / "bin" / name).exists():
            yield str(prefix / "bin" / name)
    if version in debian_python.installed():
        yield debian_python.installed()[version]
    for directory in ("/usr/local/bin", "/usr/bin"):
        yield os.path.join(directory, name)


def _resolve(candidate: str, version: str) -> Optional[str]:
    """The interpreter behind ``candidate`` (a shim resolves to the real one) if it is
    ``version``; None if it does not run or is another version."""
    try:
        out = subprocess.run([candidate, "-c", _ASK], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.split("\n")
    if out.returncode != 0 or len(lines) < 2 or lines[0] != version.rstrip("t"):
        return None
    return lines[1] or candidate


def _check_path(spec: str) -> str:
    """``spec`` if it is a working Python 3 interpreter; UsageError in one line if not."""
    if os.path.isdir(spec):
        raise UsageError(f"--python {spec}: is a directory, not a Python interpreter")
    if not (os.path.isfile(spec) and os.access(spec, os.X_OK)):
        raise UsageError(f"--python {spec}: no such executable")
    try:
        out = subprocess.run([spec, "-c", _ASK], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--python {spec}: does not run ({exc})") from None
    version = out.stdout.split("\n")[0]
    if out.returncode != 0 or not re.match(r"3\.\d+\Z", version):
        raise UsageError(f"--python {spec}: not a working Python 3 interpreter")
    return spec


def find_python(spec: str) -> str:
    """The executable for ``spec`` ("3.12", "3.13t" or a path); UsageError if there is none."""
    if os.sep in spec:
        return _check_path(spec)
    if not _VERSION.match(spec):
        raise UsageError(f"--python {spec!r}: give a version like 3.12 or a path to an interpreter")
    for candidate in _candidates(spec):
        executable = _resolve(candidate, spec) if os.path.exists(candidate) else None
        if executable:
            return executable
    hint = (
        f"; ormgc pythons --install {spec} fetches Debian's build"
        if spec in debian_python.INSTALLABLE
        else ""
    )
    raise UsageError(
        f"Python {spec} not found (looked on PATH, in {_pyenv_root()}/versions, "
        f"{_uv_root()}, the cache's Debian builds, /usr/local/bin and /usr/bin){hint}"
    )


def distribution_of(executable: str) -> str:
    """Who built ``executable`` (pyenv, Debian, uv, system...), judged from its prefix."""
    real = Path(os.path.realpath(executable))
    return distribution(str(real.parent.parent))


def available(versions: Sequence[str] = SUPPORTED) -> Dict[str, str]:
    """Version -> executable for each of ``versions`` found; the missing ones are left out."""
    found: Dict[str, str] = {}
    for version in versions:
        with contextlib.suppress(UsageError):
            found[version] = find_python(version)
    return found


def link_pythons(directory: Path, versions: Sequence[str] = SUPPORTED) -> Dict[str, str]:
    """Make ``directory/python3.X`` links to every interpreter found, for nox and asv's PATH.

    An existing ``python3.X`` there is replaced only if it is a link to a Python (what this
    makes); anything else, a file where the folder should be, or a folder that cannot be
    written is one line (UsageError), checked before any link is made."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--link {directory}: it is a file, not a folder for python3.X links")
    found = available(versions)
    for version in found:
        link = directory / f"python{version}"
        if os.path.lexists(link) and not _links_to_python(link):
            raise UsageError(f"refusing to replace {link}: it is not a link to a Python")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for version, executable in found.items():
            link = directory / f"python{version}"
            if os.path.realpath(executable) != str(link.resolve()):
                temp = directory / f".python{version}.{os.getpid()}"
                temp.unlink(missing_ok=True)
                temp.symlink_to(os.path.realpath(executable))
                os.replace(temp, link)
    except OSError as exc:
        raise UsageError(f"--link {directory}: cannot make links there ({exc.strerror})") from None
    return found


def _links_to_python(path: Path) -> bool:
    return path.is_symlink() and os.path.basename(os.path.realpath(path)).startswith("python")
