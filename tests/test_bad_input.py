"""Bad input to the newer commands, as a new user gives it: one line on stderr, a non-zero exit,
nothing half-built left behind (issue 17)."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from ormgc import cli

from .conftest import ROOT, error_lines, ormgc
from .test_workloads import run_in

EXITING_WORKLOADS = """
import os
import shutil
import signal
import statistics
import subprocess
import sys
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


def call_segfaults():
    import ctypes

    return lambda: ctypes.string_at(0)


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
        ("call_segfaults", "the measured call ended the process (SIGSEGV: the process crashed)"),
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


def _advice_variant(change: str) -> object:
    """The committed advise file, spoiled as ``change`` says."""
    advice = json.loads((ROOT / "results" / "advise" / "seed-sqlalchemy.json").read_text())
    if change == "no records":
        advice["records"] = []
    elif change == "partial record":
        del advice["records"][2]["peak_rss_mb"], advice["records"][2]["runs"]
    elif change == "other version":
        advice["format"] = 2
    elif change == "old record layout":
        for record in advice["records"]:
            record["pause_ms"] = 1.5  # a number where this version reads max and p99
    elif change == "no default":
        advice["records"] = [r for r in advice["records"] if r["policy"] != "default"]
    elif change == "no repeat":
        del advice["repeat"]
    elif change == "records not a list":
        advice["records"] = {"policy": "default"}
    elif change == "a list":
        return advice["records"]
    return advice


@pytest.mark.parametrize(
    "change, message",
    [
        ("no records", "the file holds no records"),
        ("partial record", "record 3 of 28 has no peak_rss_mb, runs (a partial file"),
        ("other version", "written by another version of ormgc (format 2; this one reads 1)"),
        ("old record layout", "record 1 of 28 has a pause this version does not read"),
        ("no default", "no default record with freeze"),
        ("no repeat", "its repeat or recommended run is missing"),
        ("records not a list", "the file holds no records"),
        ("a list", "not an ormgc advise --json file (no records)"),
    ],
)
def test_advise_from_a_spoiled_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, change: str, message: str
) -> None:
    spoiled = tmp_path / "advice.json"
    spoiled.write_text(json.dumps(_advice_variant(change)))
    assert cli.main(["advise", "--from", str(spoiled)]) == 2  # in-process: fast
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith(f"ormgc: error: --from {spoiled}: ") and message in line, line
    assert captured.out == ""


def test_advise_from_an_empty_file_is_one_line_from_the_command(tmp_path: Path) -> None:
    (tmp_path / "advice.json").write_text('{"records": [], "repeat": 5}')
    done = ormgc("advise", "--from", str(tmp_path / "advice.json"), cache_dir=tmp_path)
    assert done.returncode == 2
    assert error_lines(done) == [
        f"ormgc: error: --from {tmp_path / 'advice.json'}: the file holds no records "
        "(an empty or cut advise file)"
    ]


def test_advise_from_the_committed_file_still_works(tmp_path: Path) -> None:
    done = ormgc(
        "advise", "--from", str(ROOT / "results" / "advise" / "seed-sqlalchemy.json"),
        cache_dir=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the figures recomputed here from the file's rounds: the geometric mean of the per-round
    # CPU ratios to default, its 95% interval (t, 4 degrees of freedom: 2.776), and the share
    # of disabled's saving it wins back
    records = json.loads((ROOT / "results" / "advise" / "seed-sqlalchemy.json").read_text())[
        "records"
    ]
    cpu = {(r["policy"], r["freeze"]): [run["cpu_ms"] for run in r["runs"]] for r in records}

    def paired(policy: str) -> tuple:
        logs = [math.log(a / b) for a, b in zip(cpu[policy, True], cpu["default", True])]
        mean, half = statistics.mean(logs), 2.776 * statistics.stdev(logs) / len(logs) ** 0.5
        return math.exp(mean), math.exp(mean - half), math.exp(mean + half)

    ratio, low, high = paired("threshold:5000")
    win = (1 - ratio) / (1 - paired("disabled")[0])
    (chosen,) = [r for r in records if r["policy"] == "threshold:5000" and r["freeze"]]
    collections = {sum(run["collections"]) for run in chosen["runs"]}
    assert "Recommended: threshold:5000 (freeze on)" in done.stdout
    assert (
        f"figures: {collections.pop()} collections, "
        f"CPU {statistics.median(cpu['threshold:5000', True]):.0f} ms = "
        f"{ratio:.2f} [{low:.2f}, {high:.2f}] of default's"
    ) in done.stdout
    assert f"the smallest setting that wins back {win:.0%} (>= 90%" in done.stdout
    assert not collections  # every round the same count


def test_pythons_link_onto_a_file_or_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "locked").mkdir(mode=0o500)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3.11").write_text("my own script")
    cases = {
        "afile": "it is a file, not a folder",
        "afile/deeper": "cannot make links there",
        "/proc/ormgc-links": "cannot make links there",  # unwritable, even to root
        "bin": "refusing to replace",
    }
    if os.geteuid() != 0:  # root writes anywhere else
        cases["locked/bin"] = "cannot make links there"
    for where, message in cases.items():
        done = ormgc("pythons", "--link", str(tmp_path / where), cache_dir=tmp_path / "cache")
        assert done.returncode == 2, (where, done.stderr)
        (line,) = error_lines(done)
        assert line.startswith("ormgc: error: ") and message in line, line
    assert (tmp_path / "afile").read_text() == "mine"
    assert (tmp_path / "bin" / "python3.11").read_text() == "my own script"
    assert sorted(p.name for p in (tmp_path / "bin").iterdir()) == ["python3.11"]


FAKE_PYTHON = """#!/bin/sh
# Answers like Python ({kind}), but no venv can be made from it.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    {venv}
fi
{answer}
"""
FAKES = {
    "no ensurepip": (
        'mkdir -p "$4/bin"; echo "ensurepip is not available" >&2; exit 1',
        'exec {python} "$@"',
    ),
    "makes nothing": ("exit 0", 'exec {python} "$@"'),
    "half a venv": (
        'mkdir -p "$4/bin" "$4/lib"; touch "$4/pyvenv.cfg"; exit 0',
        'exec {python} "$@"',
    ),
    "always the same answer": ("exit 0", "echo 3.12; echo /usr/bin/python3.12"),
}


@pytest.mark.parametrize("kind", FAKES)
def test_a_python_that_cannot_make_a_venv_is_one_line_and_leaves_no_env(
    tmp_path: Path, kind: str
) -> None:
    venv, answer = FAKES[kind]
    fake = tmp_path / "python3.12"
    fake.write_text(
        FAKE_PYTHON.format(kind=kind, venv=venv, answer=answer.format(python=sys.executable))
    )
    fake.chmod(0o755)
    for _ in range(2):  # and again: nothing half-built is reused
        done = ormgc("run", "--python", str(fake), "--policy", "default", cache_dir=tmp_path / "c")
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        errors = [line for line in error_lines(done) if not line.startswith("ormgc: creating")]
        assert len(errors) == 1 and errors[0].startswith("ormgc: error: "), done.stderr
        envs = tmp_path / "c" / "envs"
        left = [p.name for p in envs.rglob("*") if p.suffix != ".lock"] if envs.exists() else []
        assert left == [], left


_INTERRUPT_IMPORT = """
import runpy, sys

class CtrlC:  # Ctrl-C while the suite is still importing its modules
    def find_spec(self, name, path=None, target=None):
        if name == "orm_fixtures":
            raise KeyboardInterrupt

sys.meta_path.insert(0, CtrlC())
sys.argv[0] = "ormgc"
runpy.run_module("ormgc", run_name="__main__")
"""


def test_ctrl_c_while_loading_is_the_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_IMPORT, "advise", "--quick"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, ORMGC_CACHE_DIR=str(tmp_path)),
    )  # fmt: skip
    assert done.returncode == 130
    assert done.stderr.splitlines() == ["ormgc: interrupted; no result written"]


def test_ctrl_c_during_advise_is_the_one_line_after_its_progress(
    tmp_path: Path, use_shared_cache: Path
) -> None:
    advise = subprocess.Popen(
        [sys.executable, "-m", "ormgc", "advise", "--rows", "2000", "--load", "500"]
        + ["--quick", "--repeat", "50", "--json", str(tmp_path / "advice.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    for line in advise.stderr:  # progress goes on; Ctrl-C in the middle of the sweep
        if line.startswith("[3/"):
            break
    os.killpg(advise.pid, signal.SIGINT)  # the whole group, workers too, as a terminal does
    rest = advise.stderr.read().splitlines()
    assert advise.wait(timeout=120) == 130
    assert rest[-1] == "ormgc: interrupted; no result written", rest
    stray = [line for line in rest[:-1] if not line.startswith("[")]  # progress lines only
    assert stray == [], rest
    assert not (tmp_path / "advice.json").exists()


needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None or not Path("/usr/include/valgrind/callgrind.h").exists(),
    reason="valgrind (with valgrind/callgrind.h) is not installed",
)
FAKE_VALGRIND = """#!/bin/sh
if [ "$1" = "--version" ]; then echo valgrind-3.22.0; exit 0; fi
echo "valgrind: failed to start tool 'callgrind' for platform 'amd64-linux'" >&2
exit 1
"""


@needs_valgrind
@pytest.mark.parametrize("command", ["run", "advise"])
def test_valgrind_that_cannot_run_the_worker_is_the_one_line(tmp_path: Path, command: str) -> None:
    fake = tmp_path / "valgrind"
    fake.write_text(FAKE_VALGRIND)
    fake.chmod(0o755)
    args = [command, "--exact", "--rows", "2000", "--load", "500", "--repeat", "1"]
    args += ["--policy", "default"] if command == "run" else ["--quick"]
    for attempt in range(2):  # the first also builds the callgrind marks (a notice)
        done = subprocess.run(
            [sys.executable, "-m", "ormgc", *args],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
            env=dict(os.environ, ORMGC_CACHE_DIR=str(tmp_path / "cache"), ORMGC_VALGRIND=str(fake)),
        )  # fmt: skip
        assert done.returncode == 1
        lines = done.stderr.splitlines()
        if attempt == 0:
            lines = [line for line in lines if not line.startswith("ormgc: building callgrind")]
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("ormgc: error: --exact: valgrind cannot run the worker")


def test_a_workload_table_names_its_baseline(tmp_path: Path) -> None:
    # 7,010 new lists: at threshold 700 a young collection every 701, so 10 (none disabled)
    (tmp_path / "bench.py").write_text(
        "def loads():\n    return lambda: [[] for _ in range(7010)]\n"
    )
    out = tmp_path / "out.json"
    done = run_in(
        tmp_path, "--workload", "bench.py:loads", "--policy", "default", "--policy", "disabled",
        "--json", str(out), "--wide",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wall vs default" in done.stdout and "cpu vs default" in done.stdout
    assert "{" not in done.stdout and "7010 loaded" in done.stdout
    rows = {line.split()[2]: line.split() for line in done.stdout.splitlines()[3:]}
    assert rows["default"][4:6] == ["10/0/0", "10"] and rows["default"][-2:] == ["baseline"] * 2
    assert rows["disabled"][4:6] == ["0/0/0", "0"]
    default, disabled = json.loads(out.read_text())
    for column, field in ((-2, "wall_ms"), (-1, "cpu_ms")):
        ratio = disabled["runs"][0][field] / default["runs"][0][field]  # median of 1 round
        assert rows["disabled"][column] == f"{ratio:.2f}"
    compact = run_in(tmp_path, "--workload", "bench.py:loads", "--policy", "default")
    assert "cpu vs default" in compact.stdout and "{" not in compact.stdout
