"""The ormgc command as a user meets it: help, a small run, and bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ormgc.runs.pythons import SUPPORTED

from .conftest import ROOT, SMALL_LOAD, SMALL_ROWS, error_lines, ormgc

RECORD_KEYS = {
    "python",
    "python_build",
    "python_distribution",
    "python_compiler",
    "gc_threshold",
    "orm",
    "orm_version",
    "driver",
    "driver_version",
    "backend",
    "shape",
    "rows",
    "loaded",
    "policy",
    "collections",
    "collections_total",
    "collected",
    "uncollectable",
    "pause_ms",
    "wall_ms",
    "cpu_ms",
    "peak_rss_mb",
    "rss_delta_mb",
    "machine",
    "timestamp",
}
SMALL = ("--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD))


@pytest.mark.parametrize("command", [[], ["run"], ["shapes"], ["pythons"]])
def test_help_everywhere(shared_cache: Path, command: list) -> None:
    done = ormgc(*command, "--help", cache_dir=shared_cache)
    assert done.returncode == 0 and "usage: ormgc" in done.stdout


@pytest.mark.parametrize("command", ["run", "advise"])
def test_help_says_what_the_command_takes_today(capsys, command: str) -> None:
    """Help texts that had drifted (issue 25): advise's --python said 3.9 ... 3.13, its
    --precision said run's first rounds; both now come from the constants they describe."""
    from ormgc import cli
    from ormgc.runs import advise

    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse's wrapping undone
    assert f"this Python ({SUPPORTED[0]} ... {SUPPORTED[-1]}, or a path)" in text
    if command == "advise":
        assert f"first threshold {advise.FIRST_THRESHOLDS[0]:,} ... " in text
        assert f"default, {len(advise.QUICK_THRESHOLDS)} first thresholds, " in text
        first = f"checked after the first rounds: --repeat, default {advise.DEFAULT_REPEAT}, "
        assert first + f"--quick {advise.QUICK_REPEAT})" in text


def test_shapes_lists_docstrings(shared_cache: Path) -> None:
    done = ormgc("shapes", cache_dir=shared_cache)
    assert "seed_loop" in done.stdout and "The published loop" in done.stdout


def test_small_run_prints_a_table_and_writes_records(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    done = ormgc(
        "run",
        *SMALL,
        "--shape",
        "orm_all",
        "--policy",
        "default",
        "--policy",
        "threshold:50000",
        "--policy",
        "disabled",
        "--json",
        str(out),
        cache_dir=shared_cache,
    )
    assert done.returncode == 0, done.stderr
    assert "threshold:50000" in done.stdout and "collections" in done.stdout
    assert "[3/3]" in done.stderr  # progress
    records = json.loads(out.read_text())
    assert [r["policy"] for r in records] == ["default", "threshold:50000", "disabled"]
    for record in records:
        assert set(record) >= RECORD_KEYS
        assert record["loaded"] == SMALL_LOAD and record["rows"] == SMALL_ROWS
        assert record["collections_total"] == sum(record["collections"])
        assert len(record["collections"]) == record["gc_generations"]
        assert set(record["pause_ms"]) == {"total", "max", "p50", "p99"}
    by_policy = {r["policy"]: r for r in records}
    assert by_policy["disabled"]["collections_total"] == 0
    assert by_policy["threshold:50000"]["gc_threshold"][0] == 50_000
    assert by_policy["default"]["gc_threshold"] == by_policy["default"]["gc_threshold_default"]
    assert (
        by_policy["default"]["collections_total"]
        > by_policy["threshold:50000"]["collections_total"]
    )


def test_counts_identical_across_five_fresh_runs(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    done = ormgc(
        "run",
        "--rows",
        "20000",
        "--load",
        "5000",
        "--shape",
        "seed_loop",
        "--shape",
        "orm_relationships",
        "--policy",
        "default",
        "--repeat",
        "5",
        "--json",
        str(out),
        cache_dir=shared_cache,
    )
    assert done.returncode == 0, done.stderr
    for record in json.loads(out.read_text()):
        assert record["repeat"] == 5 and record["counts_identical"] is True
        runs = {(tuple(run["collections"]), run["collected"]) for run in record["runs"]}
        assert len(runs) == 1 and record["collections_total"] > 0


BAD_INPUT = [
    (["--rows", "0"], "--rows"),
    (["--rows", "1000,x"], "--rows"),
    (["--rows", "1000,2000", "--load", "1500"], "more than --rows 1000"),
    (["--rows", "-3"], "--rows"),
    (["--load", "20", "--rows", "10"], "more than --rows"),
    (["--policy", "threshold:abc"], "bad GC threshold"),
    (["--policy", "threshold:-5"], "bad GC threshold"),
    (["--policy", "sometimes"], "unknown GC policy"),
    (["--shape", "bogus"], "unknown shape"),
    (["--orm", "djangoo"], "invalid choice"),
    (["--json", "/nonexistent-dir/out.json"], "no directory"),
    (["--json", "/proc/out.json"], "cannot write"),
    (["--python", "3.99"], "Python 3.99 not found"),
    (["--python", "banana"], "give a version"),
    (["--python", "/bin/true"], "not a working Python 3 interpreter"),
    (["--python", "/nonexistent/python3.14"], "no such executable"),
    (["--python", "/tmp"], "is a directory"),
    (["--db", "oracle://scott:tiger@db/x"], "unsupported database"),
    (["--profile", "1999"], "invalid choice"),
    (["--db", "mongodb://u:tiger@127.0.0.1:1/x"], "add --orm mongoengine"),
    (["--db", "sqlite", "--db", "sqlite:///tmp/x.db"], "two databases for sqlalchemy"),
    (["--orm", "sqlalchemy", "--orm", "mongoengine", "--db", "bogus"], "not a database of any"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_is_one_line_and_writes_nothing(
    shared_cache: Path, tmp_path: Path, args: list, message: str
) -> None:
    out = tmp_path / "out.json"
    if "--json" not in args:
        args = [*args, "--json", str(out)]
    done = ormgc("run", *SMALL, *args, cache_dir=shared_cache)
    assert done.returncode != 0
    errors = [line for line in error_lines(done) if not line.startswith(("preparing", "ormgc: b"))]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("ormgc") and message in errors[0]
    assert "Traceback" not in done.stderr and "tiger" not in done.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_no_subcommand_is_an_error(shared_cache: Path) -> None:
    done = ormgc(cache_dir=shared_cache)
    assert done.returncode == 2 and len(error_lines(done)) == 1


def test_pythons_lists_every_supported_version(shared_cache: Path, tmp_path: Path) -> None:
    done = ormgc("pythons", "--link", str(tmp_path / "bin"), cache_dir=shared_cache)
    assert done.returncode == 0
    shown = dict(line.split()[:2] for line in done.stdout.splitlines())
    assert list(shown) == [f"python{version}" for version in SUPPORTED]
    # This machine kind has 3.9-3.13 in pyenv; 3.14 and 3.15 come from ./dev test's Debian
    # builds, which CI always fetches (locally they may be missing: then no link is made).
    may_miss = () if os.environ.get("CI") else ("3.14", "3.15")
    for version in SUPPORTED:
        link = tmp_path / "bin" / f"python{version}"
        if shown[f"python{version}"] == "MISSING":
            assert version in may_miss, f"python{version} MISSING"
            assert not os.path.lexists(link)
            continue
        assert link.is_symlink() and link.resolve() == Path(shown[link.name]).resolve()
        ran = subprocess.run(
            [str(link), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.stdout.strip() == version, (link, ran.stdout, ran.stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_writes_nothing(shared_cache: Path, tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out.json"
    env = dict(os.environ, ORMGC_CACHE_DIR=str(shared_cache))
    run = subprocess.Popen(
        [sys.executable, "-m", "ormgc", "run", *SMALL, "--repeat", "50", "--json", str(out)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    progress = ""
    while "[2/" not in progress:  # interrupt mid-sweep, after a few measurements
        progress = run.stderr.readline()
        assert progress, "the run ended before it could be interrupted"
    run.send_signal(signum)
    rest = run.communicate(timeout=60)[1]
    assert run.returncode == 130
    assert "interrupted; no result written" in rest and "Traceback" not in rest
    assert not out.exists() and not list(tmp_path.iterdir())


def test_build_notices_reach_the_user(cache: Path) -> None:
    done = ormgc("run", *SMALL, "--policy", "default", cache_dir=cache)
    assert done.returncode == 0, done.stderr
    assert "ormgc: building SQLite dataset of 2000 rows" in done.stderr
    again = ormgc("run", *SMALL, "--policy", "default", cache_dir=cache)
    assert "building" not in again.stderr


def test_rows_list_measures_each_size_loading_a_fifth(shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "scaling.json"
    done = ormgc(
        "run", "--rows", "1000,2000", "--policy", "default", "--json", str(out),
        cache_dir=shared_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = json.loads(out.read_text())
    assert [(r["rows"], r["loaded"]) for r in records] == [(1000, 200), (2000, 400)]
    assert done.stdout.count("1000 rows, 200 loaded") == 1
    assert records[0]["collections_total"] < records[1]["collections_total"]
