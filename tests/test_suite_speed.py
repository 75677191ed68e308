"""scripts/suite_speed.py: the suite's own times, with the load beside them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "suite_speed.py"
FAKE_PYTEST = (
    "import os; print(os.environ['ORMGC_CACHE_DIR']); "
    "print('12.50s call     tests/test_x.py::test_slow'); "
    "print('0.30s setup    tests/test_x.py::test_fast'); "
    "print('======= 2 passed, 1 skipped in 12.80s =======')"
)


def _script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_measure_records_time_load_summary_and_durations(tmp_path: Path) -> None:
    out, cache = tmp_path / "speed" / "tests.json", tmp_path / "fresh"
    done = _script("measure", "tests", "-o", str(out), "--fresh-cache", str(cache),
                   "--", sys.executable, "-c", FAKE_PYTEST)  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert record["exit_status"] == 0 and record["fresh_cache"] is True
    assert record["summary"] == "2 passed, 1 skipped"
    assert record["durations"] == [
        {"seconds": 12.5, "when": "call", "test": "tests/test_x.py::test_slow"},
        {"seconds": 0.3, "when": "setup", "test": "tests/test_x.py::test_fast"},
    ]
    assert len(record["load_before"]) == 3 and 0 <= record["seconds"] < 60
    assert out.with_suffix(".log").read_text().splitlines()[0] == str(cache)  # the fresh cache
    shown = _script("table", str(out))
    assert shown.returncode == 0
    assert "| tests |" in shown.stdout and "| 2 passed, 1 skipped |" in shown.stdout
    beside = _script("slowest", str(out), str(out)).stdout.splitlines()
    assert beside[2] == "| `tests/test_x.py::test_slow` (call) | 12.5 | 12.5 |"
    again = _script("measure", "tests", "-o", str(out), "--fresh-cache", str(cache), "--", "true")
    assert again.returncode == 2 and "exists: give a new folder" in again.stderr  # not fresh


def test_from_log_reads_another_runs_log(tmp_path: Path) -> None:
    log = tmp_path / "ci.log"
    log.write_text(
        "4.00s call     tests/test_y.py::test_a\n=== 7 passed in 9.1s ===\nrc=0 secs=95\n"
    )
    out = tmp_path / "before.json"
    done = _script("from-log", "before", str(log), "-o", str(out), "--commit", "abc1234",
                   "--", "./dev", "test")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert (record["seconds"], record["summary"], record["commit"]) == (95, "7 passed", "abc1234")
    assert record["load_during_mean"] is None
    assert "not recorded" in _script("table", str(out)).stdout
    log.write_text("no status line\n")
    bad = _script("from-log", "x", str(log), "-o", str(out), "--commit", "a", "--", "./dev")
    assert bad.returncode == 1 and "does not end with 'rc=N secs=S'" in bad.stderr


def test_summary_with_failures_first(tmp_path: Path) -> None:
    """A red run's last line starts with its failures; the table once showed it blank."""
    log = tmp_path / "ci.log"
    log.write_text("=== 1 failed, 615 passed in 1465.33s (0:24:25) ===\nrc=1 secs=1620\n")
    out = tmp_path / "red.json"
    done = _script("from-log", "red", str(log), "-o", str(out), "--commit", "abc1234",
                   "--", "./dev", "test")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["summary"] == "1 failed, 615 passed"


def test_stamped_log_keeps_the_summary_and_durations(tmp_path: Path) -> None:
    """--stamp: each log line starts with the seconds since the start, and is still parsed."""
    out = tmp_path / "stamped.json"
    done = _script("measure", "tests", "-o", str(out), "--stamp", "--fresh-cache",
                   str(tmp_path / "fresh"), "--", sys.executable, "-c", FAKE_PYTEST)  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert record["summary"] == "2 passed, 1 skipped" and len(record["durations"]) == 2
    first = out.with_suffix(".log").read_text().splitlines()[0]
    assert re.fullmatch(r" *\d+\.\d .*", first), first
