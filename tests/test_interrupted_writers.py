"""Interrupt the writers of committed results mid-write (killed, or Ctrl-C): the previous file
stays whole. ``run --json``, ``advise --json``, ``compare``'s Markdown and ``ormgc pyperf``'s
two files all go through ``ormgc.results.write_atomic``; each command is run here as a user
runs it, with that function made to die halfway through writing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from ormgc.results import python_label

from .conftest import ROOT, SMALL_ROWS

# Runs a module as ``python -m`` would, after making every write through write_atomic stop
# halfway: the first write() writes half its text, then the process is killed (KILL) or
# Ctrl-C is raised (INT).
_DIE_MID_WRITE = """
import os, runpy, signal, sys
from ormgc import results

how, module = sys.argv[1], sys.argv[2]
write_atomic = results.write_atomic

class Half:
    def __init__(self, out):
        self.out = out

    def write(self, text):
        self.out.write(text[: max(1, len(text) // 2)])
        self.out.flush()
        if how == "KILL":
            os.kill(os.getpid(), signal.SIGKILL)
        raise KeyboardInterrupt

    def __getattr__(self, name):
        return getattr(self.out, name)

results.write_atomic = lambda path, write: write_atomic(path, lambda out: write(Half(out)))
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


PREVIOUS_RECORDS = '[{"policy": "default", "collections_total": 7}]\n'


def die_mid_write(how: str, module: str, args: List[str], cache: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _DIE_MID_WRITE, how, module, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env=dict(os.environ, ORMGC_CACHE_DIR=str(cache)),
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == (-9 if how == "KILL" else 130), done.stderr  # killed mid-write
    if how == "INT":
        assert done.stderr.splitlines()[-1].endswith("interrupted; no result written")


def check_left(folder: Path, kept: dict, how: str) -> None:
    """The files as they were; after a kill, at most hidden temp files beside them."""
    for path, text in kept.items():
        assert path.read_text() == text, path
    extra = sorted(p.name for p in folder.iterdir() if p not in kept)
    if how == "KILL":  # nothing runs after SIGKILL: its temp file stays, hidden, never read
        assert all(name.startswith(".") and name.endswith(".tmp") for name in extra), extra
    else:
        assert extra == [], extra


@pytest.mark.parametrize("how", ["KILL", "INT"])
def test_advise_json(tmp_path: Path, how: str) -> None:
    out = tmp_path / "advice.json"
    earlier = ROOT / "results" / "advise" / "seed-sqlalchemy.json"
    out.write_text(earlier.read_text())  # the previous advice
    die_mid_write(how, "ormgc", ["advise", "--from", str(earlier), "--json", str(out)], tmp_path)
    check_left(tmp_path, {out: earlier.read_text()}, how)


@pytest.mark.parametrize("how", ["KILL", "INT"])
def test_compare_markdown(tmp_path: Path, how: str) -> None:
    results = tmp_path / "pyperf"
    shutil.copytree(ROOT / "results" / "pyperf", results)
    (machine,) = [p for p in results.iterdir() if p.is_dir()]
    out = machine / "comparison.md"
    before = {path: path.read_text() for path in machine.iterdir()}
    die_mid_write(how, "ormgc", ["compare", "--results", str(results)], tmp_path / "cache")
    assert out in before
    check_left(machine, before, how)


@pytest.mark.parametrize("how", ["KILL", "INT"])
def test_run_json(tmp_path: Path, shared_cache: Path, how: str) -> None:
    out = tmp_path / "records.json"
    out.write_text(PREVIOUS_RECORDS)
    args = ["run", "--rows", str(SMALL_ROWS), "--load", "500", "--policy", "default"]
    die_mid_write(how, "ormgc", [*args, "--json", str(out)], shared_cache)
    check_left(tmp_path, {out: PREVIOUS_RECORDS}, how)


def test_pyperf_results(tmp_path: Path, shared_cache: Path) -> None:
    folder = tmp_path / "results" / "m"
    folder.mkdir(parents=True)
    kept = {
        folder / f"{python_label()}.json": '{"benchmarks": [], "version": "1.0"}\n',
        folder / f"{python_label()}.probe.json": PREVIOUS_RECORDS,
    }
    for path, text in kept.items():
        path.write_text(text)
    args = ["--results", str(tmp_path / "results"), "--machine", "m", "--quick"]
    args += ["--rows", str(SMALL_ROWS), "--load", "500", "--orm", "sqlalchemy"]
    args += ["--policy", "default", "-p", "1", "-n", "1", "-l", "1", "-w", "0"]
    die_mid_write("KILL", "ormgc.runs.pyperf_main", args, shared_cache)
    check_left(folder, kept, "KILL")
