"""The Python 3.9-3.13 matrix: nox sessions, ``ormgc pyperf`` results, pins on every interpreter."""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version as _installed
from pathlib import Path
from typing import Dict, List

import pyperf
import pytest
from packaging.requirements import Requirement

import orm_fixtures
from ormgc.results import python_label, write_atomic
from ormgc.runs import pyperf_main as _pyperf
from ormgc.runs.envs import pinned_per_version
from ormgc.runs.pyperf_plan import resolve
from ormgc.runs.pythons import SUPPORTED, available
from ormgc.worker.pyperf_loop import gc_metadata

ROOT = Path(__file__).resolve().parents[1]
PINS_FILE = ROOT / "ormgc" / "profiles" / "current.txt"
SMALL = ["--rows", "2000", "--load", "500"]


def _env(cache: Path, **extra: str) -> Dict[str, str]:
    env = dict(os.environ, ORMGC_CACHE_DIR=str(cache), **extra)
    env.pop("PYTHONPATH", None)
    return env


def _pinned(python_version: str) -> Dict[str, str]:
    """Name -> pinned version on ``python_version``, the environment markers applied."""
    pinned = {}
    for line in PINS_FILE.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or marker.evaluate({"python_version": python_version}):
                (spec,) = requirement.specifier
                pinned[requirement.name.lower().replace("_", "-")] = spec.version
    return pinned


def test_django_is_pinned_per_python_beside_the_315_exceptions() -> None:
    """Django 4.2 LTS on 3.9 (5.2 needs 3.10), 5.2 LTS from 3.10 (4.2 stops at 3.12); the other
    per-version pins (3.15's wheels) are marked too, and every other pin is the same."""
    assert _pinned("3.9")["django"].startswith("4.2.")
    assert {_pinned(version)["django"] for version in SUPPORTED[1:]} == {_pinned("3.13")["django"]}
    assert _pinned("3.13")["django"].startswith("5.2.")
    marked = {name.lower().replace("_", "-") for name in pinned_per_version()}
    assert "django" in marked
    others = [{k: v for k, v in _pinned(v).items() if k not in marked} for v in SUPPORTED]
    assert all(pins == others[0] for pins in others)
    assert f"Django=={_installed('django')}" in _pyperf.pins() and "asgiref==" in _pyperf.pins()


def _nox(*args: str, cwd: Path = ROOT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nox", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_nox_lists_every_session_with_its_docstring() -> None:
    done = _nox("-l")
    assert done.returncode == 0, done.stderr
    for version in SUPPORTED:
        assert f"- bench-{version} -> Time ORM x shape x GC policy with pyperf" in done.stdout
    assert "- compare -> Compare the versions' results" in done.stdout
    assert "* tests -> Run the test suite" in done.stdout
    assert "* lint -> Check style and formatting" in done.stdout


def test_nox_missing_interpreter_fails_in_ci_and_warns_locally(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "noxfile.py").write_text((ROOT / "noxfile.py").read_text())
    for package in ("ormgc", "orm_fixtures"):
        (project / package).symlink_to(ROOT / package)
    (tmp_path / "no-pyenv").mkdir()
    bare = {
        "HOME": os.environ["HOME"],
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",  # no pyenv shims
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
    }
    if Path("/usr/bin/python3.9").exists():
        pytest.skip("this machine has a system Python 3.9: nothing can be missing")
    local = _nox("-s", "bench-3.9", cwd=project, env=bare)
    assert local.returncode == 0
    warning = "WARNING: Python 3.9 not found (PATH, pyenv, uv, Debian builds): bench-3.9 is skipped"
    assert warning in local.stderr
    assert "Session bench-3.9 skipped: Python interpreter 3.9 not found" in local.stderr
    in_ci = _nox("-s", "bench-3.9", cwd=project, env=dict(bare, CI="true"))
    assert in_ci.returncode != 0
    assert "Session bench-3.9 failed: Python interpreter 3.9 not found" in in_ci.stderr


def _namespace(**given: object) -> argparse.Namespace:
    values = dict(
        quick=False, orm=None, shape=None, policy=None, db=None, rows=None, load=None,
        seed=1, freeze=True, probe_repeat=None, rounds=None,
    )  # fmt: skip
    values.update(given)
    return argparse.Namespace(**values)


def test_benchmarks_cover_every_registered_orm(monkeypatch) -> None:
    monkeypatch.setattr(orm_fixtures, "ORMS", ("sqlalchemy", "neworm"))
    monkeypatch.setitem(orm_fixtures.DEFAULT_DB, "neworm", "memory")
    monkeypatch.setitem(orm_fixtures.SHAPE_NAMES, "neworm", ("other", "seed_loop"))
    full_args = _namespace()
    full = [name for name, _, _ in resolve(full_args)]
    assert full_args.rounds == 4  # the matrix times in paired rounds by default
    assert full == [  # seed_loop of both ORMs: each version's default, the seed's fix, no GC
        f"{orm}/seed_loop/{policy}"
        for orm in ("sqlalchemy", "neworm")
        for policy in ("default", "threshold:50000", "disabled")
    ]
    args = _namespace(quick=True, shape=["other"])
    quick = resolve(args)
    assert [name for name, _, _ in quick] == [
        "neworm/other/default",
        "neworm/other/threshold:50000",
    ]
    assert (args.rows, args.load, args.probe_repeat, args.rounds) == (10_000, 2_000, 1, 0)


def test_gc_metadata_summarises_the_logged_loops(tmp_path: Path) -> None:
    log = tmp_path / "gc.jsonl"
    loop = {"collected": 0, "pause_total_ms": 2.0, "pause_max_ms": 0.5, "peak_rss_mb": 70.0}
    lines = [
        {"bench": "a", "pid": 1, "loops": [dict(loop, collections=[10, 1, 0])] * 2},
        {"bench": "b", "pid": 1, "loops": [dict(loop, collections=[99, 9, 9])]},
        {"bench": "a", "pid": 2, "loops": [dict(loop, collections=[12, 1, 1], pause_max_ms=3.0)]},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = gc_metadata(str(log), "a")
    assert summary["gc_collections"] == 11 and summary["gc_loops_measured"] == 3
    assert (summary["gc_collections_min"], summary["gc_collections_max"]) == (11, 14)
    assert summary["gc_collections_per_generation"] == "10/1/0"
    assert summary["gc_pause_ms_max"] == 3.0 and summary["peak_rss_mb"] == 70.0


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "3.12.json"
    target.write_text("old")

    def half_then_fail(out) -> None:
        out.write("partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["3.12.json"]


def _pyperf_command(results: Path, *extra: str) -> List[str]:
    return [sys.executable, "-m", "ormgc", "pyperf", "--results", str(results), "--machine", "m",
            *SMALL, *extra]  # fmt: skip


@pytest.mark.slow
def test_quick_pyperf_holds_time_and_gc_in_one_pyperf_file(tmp_path: Path) -> None:
    results = tmp_path / "results"
    policies = ["--policy", "default", "--policy", "disabled", "--policy", "threshold:50000",
                "--policy", "adaptive"]  # fmt: skip
    command = _pyperf_command(results, "--quick", "--orm", "sqlalchemy", *policies,
                              "-p", "2", "-n", "2", "--timer", "wall")  # fmt: skip
    done = subprocess.run(command, env=_env(tmp_path / "cache"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Python {python_label()} [4/4] sqlalchemy/seed_loop/adaptive" in done.stderr
    path = results / "m" / f"{python_label()}.json"
    suite = pyperf.BenchmarkSuite.load(str(path))
    meta = {bench.get_name(): bench.get_metadata() for bench in suite}
    default, disabled = meta["sqlalchemy/seed_loop/default"], meta["sqlalchemy/seed_loop/disabled"]
    assert disabled["gc_collections"] == 0 and default["gc_collections"] > 0  # GC on, policy on
    assert meta["sqlalchemy/seed_loop/threshold:50000"]["gc_threshold"].startswith("50000/")
    assert default["ormgc_timer"] == "wall" and default["ormgc_mode"] == "quick"
    assert default["gc_collected"] == 0  # the loaded objects are all alive: nothing to collect
    assert default["gc_loops_measured"] == 2 * 2 * default["loops"]  # processes x values x loops
    assert default["ormgc_pins"] == _pyperf.pins() and "SQLAlchemy==2.0.58" in default["ormgc_pins"]
    records = json.loads((results / "m" / f"{python_label()}.probe.json").read_text())
    assert [record["policy"] for record in records] == [
        "default",
        "disabled",
        "threshold:50000",
        "adaptive",
    ]
    assert 0 < meta["sqlalchemy/seed_loop/adaptive"]["gc_collections"] < default["gc_collections"]
    compared = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", str(path), str(path), "--table"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr


@pytest.mark.slow
def test_quick_pyperf_serves_the_embedded_mongodb_to_its_workers(tmp_path: Path) -> None:
    results = tmp_path / "results"
    command = _pyperf_command(results, "--quick", "--orm", "mongoengine", "-p", "1", "-n", "1")
    done = subprocess.run(command, env=_env(tmp_path / "cache"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    suite = pyperf.BenchmarkSuite.load(str(results / "m" / f"{python_label()}.json"))
    meta = {bench.get_name(): bench.get_metadata() for bench in suite}
    assert set(meta) == {"mongoengine/seed_loop/default", "mongoengine/seed_loop/threshold:50000"}
    assert meta["mongoengine/seed_loop/default"]["gc_collections"] > 0
    assert meta["mongoengine/seed_loop/threshold:50000"]["driver"] == "pymongo"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_bench_leaves_no_partial_result(tmp_path: Path, signum: int) -> None:
    results, temp = tmp_path / "results", tmp_path / "tmp"
    temp.mkdir()
    old = results / "m" / f"{python_label()}.json"
    old.parent.mkdir(parents=True)
    previous = '{"benchmarks": [], "note": "the previous complete result"}'  # pyperf's kind
    old.write_text(previous)
    command = [sys.executable, "-m", "ormgc.runs.pyperf_main", "--results", str(results),
               "--machine", "m", *SMALL, "--quick", "--orm", "sqlalchemy", "-p", "20"]  # fmt: skip
    bench = subprocess.Popen(
        command, env=_env(tmp_path / "cache", TMPDIR=str(temp)), stderr=subprocess.PIPE, text=True
    )
    assert bench.stderr is not None
    seen = []
    for line in bench.stderr:  # wait until pyperf's workers are timing
        seen.append(line)
        if "[1/2] sqlalchemy/seed_loop/default" in line:
            break
    time.sleep(1.0)
    bench.send_signal(signum)
    rest = bench.stderr.read()
    assert bench.wait(timeout=60) != 0, "".join(seen) + rest
    assert "no result written" in rest
    assert sorted(path.name for path in old.parent.iterdir()) == [old.name]
    assert old.read_text() == previous
    assert list(temp.iterdir()) == []  # the workers' GC log is gone too


def test_pyperf_missing_interpreter_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ormgc", "pyperf", "--python", "3.99", "--quick"],
        env=_env(tmp_path / "cache"), capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stderr.startswith("ormgc: error: Python 3.99 not found")
        and done.stderr.count("\n") == 1
    )


def _pip(python: str) -> List[str]:
    """The interpreter's pip; for Debian's builds (no pip of their own), the pip wheel they
    ship, run from the wheel as Debian's venvs get it."""
    if subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0:
        return [python, "-m", "pip"]
    (wheel,) = Path(python).resolve().parent.parent.glob("share/python-wheels/pip-*.whl")
    return [python, f"{wheel}/pip"]


@pytest.mark.slow
def test_pins_resolve_to_the_same_versions_on_every_interpreter(tmp_path: Path) -> None:
    """Every pinned package, at its pinned version (per-version pins by their markers), and
    nothing else, on all of 3.9-3.15."""
    found = available()
    # this machine kind: 3.9-3.13 from pyenv always; 3.14/3.15 are Debian's builds, which
    # ./dev test fetches and CI must have (locally they may be missing)
    may_miss = set() if os.environ.get("CI") else {"3.14", "3.15"}
    missing = set(SUPPORTED) - set(found)
    assert missing <= may_miss, f"missing interpreters: {sorted(missing)}"

    def resolve(version: str, python: str) -> Dict[str, str]:
        report = tmp_path / f"{version}.json"
        command = [*_pip(python), "install", "--dry-run", "--ignore-installed", "--quiet",
                   "--report", str(report), "-r", str(PINS_FILE)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, f"Python {version}: {done.stderr[-1000:]}"
        installs = json.loads(report.read_text())["install"]
        return {
            item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
            for item in installs
        }

    # side by side: each pip spends most of its time waiting for the package indexes
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(found) or 1) as pool:
        futures = {
            version: pool.submit(resolve, version, python) for version, python in found.items()
        }
        resolved = {version: future.result() for version, future in futures.items()}
    assert sorted(resolved) == sorted(found)
    for version, packages in resolved.items():
        assert packages == _pinned(version), f"Python {version} resolves other versions"


@pytest.mark.slow
def test_quick_matrix_on_two_versions_then_compare(tmp_path: Path) -> None:
    """What CI runs of the matrix: nox's quick bench on the oldest and newest Python, compared."""
    results, envs = tmp_path / "results", tmp_path / "nox-envs"
    env = _env(tmp_path / "cache", ORMGC_MACHINE="ci")
    oldest, newest = SUPPORTED[0], SUPPORTED[-1]
    sessions = ["-s", f"bench-{oldest}", f"bench-{newest}", "--envdir", str(envs)]
    quick = ["--quick", "--orm", "sqlalchemy", "--results", str(results)]  # MongoDB: see above
    bench = _nox(*sessions, "--", *quick, env=env)
    assert bench.returncode == 0, bench.stderr[-3000:]
    metadata = {}
    for version in (oldest, newest):
        suite = pyperf.BenchmarkSuite.load(str(results / "ci" / f"{version}.json"))
        metadata[version] = suite.get_metadata()
        assert metadata[version]["python_version"].startswith(version + ".")
        assert metadata[version]["ormgc_mode"] == "quick"
        assert metadata[version]["ormgc_timer"] == "cpu"
    for key in ("orm_version", "ormgc_rows"):
        assert metadata[oldest][key] == metadata[newest][key], key
    pins = {v: dict(p.split("==") for p in metadata[v]["ormgc_pins"].split()) for v in metadata}
    differ = {name for name in pins[oldest] if pins[oldest][name] != pins[newest].get(name)}
    assert differ <= set(pinned_per_version()), "only the pins marked per version may differ"
    assert metadata[oldest]["gc_threshold_default"] == "700/10/10"
    assert metadata[newest]["gc_threshold_default"] == "2000/10/10"
    compared = _nox("-s", "compare", "--", "--results", str(results), env=env)
    assert compared.returncode == 0, compared.stderr[-2000:]
    assert f"| Python {oldest} | Python {newest} |" in compared.stdout
    assert f"## pyperf compare_to {oldest} {newest}" in compared.stdout
    if differ:  # said where the columns' libraries differ
        assert f"- Python {newest} vs {oldest}: " in compared.stdout
