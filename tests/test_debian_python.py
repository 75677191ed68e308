"""``ormgc pythons --install``: Debian's Python 3.14/3.15 in the cache, once, locked, verified."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List

import pytest

from ormgc.errors import OrmGcError
from ormgc.runs import debian_python, pythons
from ormgc.worker.probe import distribution

from .conftest import ROOT, error_lines, ormgc


@pytest.fixture
def private_pythons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pythons"
    monkeypatch.setenv(debian_python.PYTHONS_ENV, str(folder))
    return folder


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_unreachable_archive_is_one_line(
    private_pythons: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = f"http://127.0.0.1:{_closed_port()}/debian"
    monkeypatch.setenv(debian_python.ARCHIVE_ENV, archive)
    done = ormgc("pythons", "--install", "3.15", cache_dir=cache, timeout=120)
    assert done.returncode == 1
    errors = [line for line in error_lines(done) if not line.startswith("ormgc: installing")]
    assert errors == [errors[0]] and errors[0].startswith(
        f"ormgc: error: cannot get Python from the Debian archive {archive}: "
    ), done.stderr
    assert "Traceback" not in done.stderr
    assert not (private_pythons / "debian-3.15").exists()  # nothing half-built is left


def test_only_debian_versions_install(cache: Path) -> None:
    done = ormgc("pythons", "--install", "3.12", cache_dir=cache)
    assert done.returncode == 2 and "invalid choice: '3.12'" in done.stderr


def _fake_build(builds: List[str], fail: bool = False):
    def build(root: Path, version: str, source: object) -> str:
        builds.append(version)
        python = debian_python.executable(root, version)
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        time.sleep(0.3)  # long enough for the second installer to find the lock taken
        if fail:
            raise OrmGcError("Debian's Python 3.14 failed verification: as the test asked")
        return "verified\n"

    return build


def test_install_is_locked_and_marked_complete(
    private_pythons: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    builds: List[str] = []
    monkeypatch.setattr(debian_python, "_build", _fake_build(builds))
    got: List[str] = []
    threads = [
        threading.Thread(target=lambda: got.append(debian_python.install(["3.14"])["3.14"]))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == ["3.14"]  # the second waited on the lock, then found it complete
    assert got == [str(private_pythons / "debian-3.14" / "usr" / "bin" / "python3.14")] * 2
    assert (private_pythons / "debian-3.14" / ".complete").read_text() == "verified\n"
    assert "waiting for another process building Debian's Python 3.14" in capsys.readouterr().err
    assert debian_python.install(["3.14"]) == {"3.14": got[0]} and builds == ["3.14"]  # cached


def test_failed_build_is_removed_then_redone(
    private_pythons: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: List[str] = []
    monkeypatch.setattr(debian_python, "_build", _fake_build(builds, fail=True))
    with pytest.raises(OrmGcError, match="failed verification"):
        debian_python.install(["3.14"])
    assert not (private_pythons / "debian-3.14").exists()
    assert debian_python.installed() == {}
    monkeypatch.setattr(debian_python, "_build", _fake_build(builds))
    debian_python.install(["3.14"])
    assert builds == ["3.14", "3.14"] and "3.14" in debian_python.installed()


@pytest.mark.slow
@pytest.mark.parametrize("version", debian_python.INSTALLABLE)
def test_the_real_build(version: str, tmp_path: Path) -> None:
    """Debian's build in the user's cache (./dev test fetched it, once): it runs, has what a
    measurement needs, makes venvs with pip, and is what `ormgc pythons` finds."""
    python = debian_python.install([version])[version]  # instant once ./dev test fetched it
    root = debian_python.tree(version)
    assert (root / ".complete").read_text().startswith(f"Debian sid python{version}-minimal ")
    ask = "import sys, sqlite3, ssl, gc; print('%d.%d' % sys.version_info[:2], sys.prefix)"
    done = subprocess.run([python, "-c", ask], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [version, str(root / "usr")]
    env = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(env)], check=True)  # pip from the tree's wheel
    pip = subprocess.run([env / "bin" / "python", "-m", "pip", "--version"], capture_output=True)
    assert pip.returncode == 0 and f"(python {version})" in pip.stdout.decode()
    found = pythons.find_python(version)
    if os.path.realpath(found) == os.path.realpath(python):  # nothing else on PATH/pyenv/uv
        assert pythons.distribution_of(found).startswith(f"Debian sid python{version}-minimal")


@pytest.mark.parametrize(
    "path, message",
    [
        ("/bin/true", "not a working Python 3 interpreter"),
        ("/nonexistent/python3.14", "no such executable"),
        ("/tmp", "is a directory"),
    ],
)
def test_a_bad_python_path_is_one_line_for_pyperf(cache: Path, path: str, message: str) -> None:
    """(``ormgc run`` is checked with the other bad input in test_cli.)"""
    done = ormgc("pyperf", "--python", path, cache_dir=cache)
    assert done.returncode == 2, done.stderr
    (line,) = error_lines(done)
    assert line.startswith(f"ormgc: error: --python {path}: {message}")


def test_pythons_names_where_each_comes_from(cache: Path) -> None:
    done = ormgc("pythons", cache_dir=cache)
    assert done.returncode == 0
    for line in done.stdout.splitlines():
        assert line.endswith("MISSING") or line.endswith(")"), line  # "... (pyenv build)"


def test_uv_managed_pythons_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv's layout (cpython-3.X.Y-linux-x86_64-gnu/bin/python3.X), here with this Python."""
    version = "{}.{}".format(*sys.version_info[:2])
    real = Path(sys.executable).resolve()
    bin_dir = tmp_path / "uv" / f"cpython-{version}.99-linux-x86_64-gnu" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / f"python{version}").symlink_to(real)
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv(debian_python.PYTHONS_ENV, str(tmp_path / "no-debian"))
    candidates = list(pythons._candidates(version))
    assert str(bin_dir / f"python{version}") in candidates
    assert pythons.distribution_of(str(bin_dir / f"python{version}")) != "uv"  # resolved: real
    assert distribution(str(bin_dir.parent)) == "uv (python-build-standalone)"


def test_docs_install_command_is_the_cli(cache: Path) -> None:
    page = (ROOT / "docs" / "how-to" / "pythons.md").read_text()
    assert "ormgc pythons --install 3.14 3.15" in page
