"""Bad input to the newer commands, as a new user gives it: one line on stderr, a non-zero exit,
nothing half-built left behind (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import error_lines
from .test_workloads import run_in

EXITING_WORKLOADS = """
import os
import sys


def setup_exits_0():
    sys.exit(0)


def setup_exits_3():
    sys.exit(3)


def setup_os_exit():
    os._exit(0)


def call_exits_0():
    return lambda: sys.exit(0)


def call_exits_text():
    return lambda: sys.exit("done early")


def call_os_exit_0():
    return lambda: os._exit(0)


def call_os_exit_5():
    return lambda: os._exit(5)


def cleanup_os_exit():
    yield list
    os._exit(0)
"""


@pytest.mark.parametrize(
    "name, message",
    [
        ("setup_exits_0", "setup called sys.exit(0)"),
        ("setup_exits_3", "setup called sys.exit(3)"),
        ("setup_os_exit", "its import or setup ended the process (exit code 0, e.g. os._exit)"),
        ("call_exits_0", "the measured call called sys.exit(0)"),
        ("call_exits_text", "the measured call called sys.exit('done early')"),
        ("call_os_exit_0", "the measured call ended the process (exit code 0, e.g. os._exit)"),
        ("call_os_exit_5", "the measured call ended the process (exit code 5, e.g. os._exit)"),
        ("cleanup_os_exit", "its clean-up after the yield ended the process (exit code 0"),
    ],
)
def test_a_workload_that_exits_is_one_line_naming_it(
    tmp_path: Path, name: str, message: str
) -> None:
    (tmp_path / "exits.py").write_text(EXITING_WORKLOADS)
    done = run_in(tmp_path, "--workload", f"exits.py:{name}", "--policy", "default")
    assert done.returncode == 1, done.stderr
    (line,) = error_lines(done)
    assert line.startswith(f"ormgc: error: workload {tmp_path / 'exits.py'}:{name}: "), line
    assert message in line, line
