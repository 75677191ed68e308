"""Three-threshold policies, the request loop and bring-your-own workloads, as a user runs them."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest

import ormgc
from ormgc.worker.requests import request_figures

from .conftest import ROOT, SMALL_ROWS, error_lines
from .conftest import ormgc as run_ormgc
from .test_mongo_server import shared_envs  # noqa: F401

WORKLOAD_PAGE = (ROOT / "docs" / "how-to" / "own-workload.md").read_text()
SMALL_LOOP = ("--rows", str(SMALL_ROWS), "--requests", "30", "--per-request", "50")


def docs_block(first_line: str) -> str:
    """The docs' code block starting with ``first_line`` (what a user copies)."""
    for block in re.findall(r"```(?:python|console)\n(.*?)```", WORKLOAD_PAGE, re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"no block of docs/how-to/own-workload.md starts with {first_line!r}")


def by_policy(path: Path) -> Dict[str, Dict[str, Any]]:
    return {record["policy"]: record for record in json.loads(path.read_text())}


@pytest.mark.parametrize(
    "policy, problem",
    [
        ("threshold:50000,abc", "the second must be a whole number from 0"),
        ("threshold:0,500,1000", "the first must be a whole number from 1"),
        ("threshold:50000,500,-1", "the third must be a whole number from 0"),
        ("threshold:50000,,1000", "got ''"),
        ("threshold:1,2,3,4", "at most 3 thresholds"),
    ],
)
def test_bad_threshold_triple_is_one_line(tmp_path: Path, policy: str, problem: str) -> None:
    done = run_ormgc("run", "--policy", policy, cache_dir=tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done)
    assert line.startswith("ormgc: error: ") and problem in line, line


def test_request_figures_assign_each_pause_to_its_request() -> None:
    stamps = [0, 100, 200, 300]  # three requests
    probe = SimpleNamespace(starts_ns=[10, 20, 150, 299], pauses_ns=[1e6, 2e6, 4e6, 1e6])
    figures = request_figures(stamps, probe)  # type: ignore[arg-type]
    assert figures["requests"] == 3 and figures["requests_with_collections"] == 3
    assert figures["request_pause_ms"] == {"median": 3.0, "p99": 4.0, "max": 4.0}
    assert figures["request_ms"]["max"] == 100 / 1e6


def test_request_loop_sqlalchemy_leaves_garbage(use_shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "loop.json"
    policies = (
        "--policy",
        "default",
        "--policy",
        "threshold:50000,500,1000",
        "--policy",
        "disabled",
    )
    done = run_ormgc(
        "run", "--shape", "request_loop", *SMALL_LOOP, *policies, "--json", str(out),
        cache_dir=use_shared_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Request loops" in done.stdout and "gc max ms/req" in done.stdout
    records = by_policy(out)
    default, three, disabled = (
        records[p] for p in ("default", "threshold:50000,500,1000", "disabled")
    )
    assert default["collections_total"] > 0 and default["collected"] > 0
    assert default["requests_with_collections"] > 0 and default["request_pause_ms"]["max"] > 0
    assert three["gc_threshold"] == [50_000, 500, 1000]
    assert disabled["collections_total"] == disabled["collected"] == 0
    for record in records.values():
        assert record["loaded"] == 30 * 50 and record["requests"] == 30
        assert record["per_request"] == 50 and record["peak_rss_mb"] > 0
        assert record["rss_end_mb"] > 0 and "rss_delta_mb" in record
        assert 0 < record["request_ms"]["median"] <= record["request_ms"]["max"]


@pytest.fixture
def mongo_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_envs: Path) -> Path:  # noqa: F811
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "envs").symlink_to(shared_envs)
    monkeypatch.delenv("ORMGC_MONGODB_URL", raising=False)
    monkeypatch.delenv("ORMGC_MONGODB_PORT", raising=False)
    return folder


@pytest.mark.slow
def test_request_loop_mongoengine_and_the_shop_example(mongo_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "loop.json"
    policies = ("--policy", "default", "--policy", "disabled")
    done = run_ormgc(
        "run", "--orm", "mongoengine", "--shape", "request_loop", *SMALL_LOOP, *policies,
        "--json", str(out), cache_dir=mongo_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = by_policy(out)
    assert records["default"]["collections_total"] > 0 and records["default"]["collected"] > 0
    assert records["disabled"]["collections_total"] == records["disabled"]["collected"] == 0
    assert records["default"]["rss_end_mb"] > 0 and records["default"]["loaded"] == 1500
    shop = tmp_path / "shop.json"
    example = "examples/mongoengine_shop.py:recent_orders"
    done = run_ormgc(
        "run", "--orm", "mongoengine", "--workload", example, *policies, "--json", str(shop),
        cache_dir=mongo_cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = by_policy(shop)
    assert records["default"]["loaded"] == 1000 and records["default"]["collections_total"] > 0
    assert records["disabled"]["collections_total"] == 0
    assert records["default"]["libraries"]["mongoengine"] == records["default"]["orm_version"]


def test_blog_example_on_postgresql(tmp_path: Path) -> None:
    out = tmp_path / "blog.json"
    done = run_ormgc(
        "run", "--workload", "examples/sqlalchemy_blog.py:blog_page", "--policy", "default",
        "--policy", "disabled", "--policy", "adaptive", "--json", str(out), cache_dir=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = by_policy(out)
    assert records["default"]["loaded"] == 500 and records["default"]["collections_total"] > 0
    assert records["default"]["libraries"]["sqlalchemy"]
    assert records["disabled"]["collections_total"] == 0
    # docs "GC policies", adaptive: the user's workload under the adaptive policy
    assert records["adaptive"]["adaptive"]["start"] == records["adaptive"]["gc_threshold"][0]
    assert records["adaptive"]["loaded"] == 500 and records["default"]["adaptive"] is None


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    """The docs' workload, saved by the user as my_workload.py beside their own code."""
    path = tmp_path / "my_workload.py"
    path.write_text(docs_block("# my_workload.py"))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_docs_workload_on_other_pythons(shared_cache: Path, user_file: Path, version: str) -> None:
    command = docs_block("ormgc run --workload my_workload.py").split()
    assert command[-2:] == ["--python", "3.9"]
    out = user_file.parent / "out.json"
    done = subprocess.run(
        [sys.executable, "-m", "ormgc", *command[1:-1], version, "--json", str(out)],
        capture_output=True, text=True, cwd=user_file.parent, timeout=600,
        env=dict(os.environ, ORMGC_CACHE_DIR=str(shared_cache), PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = by_policy(out)
    assert list(records) == ["default", "threshold:50000,500,1000", "disabled"]
    for record in records.values():
        assert record["python"].startswith(version + ".") and record["loaded"] == 500
        assert record["workload"] == f"{user_file}:books_by_author"
    assert records["default"]["collections_total"] > 0
    assert records["threshold:50000,500,1000"]["gc_threshold"] == [50_000, 500, 1000]
    assert records["disabled"]["collections_total"] == 0


def run_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``ormgc run ARGS`` started in ``folder``, as a user in their project would."""
    return subprocess.run(
        [sys.executable, "-m", "ormgc", "run", *args],
        capture_output=True, text=True, cwd=folder, timeout=120,
        env=dict(os.environ, ORMGC_CACHE_DIR=str(folder / "cache"), PYTHONPATH=str(ROOT)),
    )  # fmt: skip


BAD_WORKLOADS = """
import os


def loads():
    return lambda: [1, 2, 3]


def setup_raises():
    raise ConnectionError("database is down")


def call_raises():
    def call():
        return {}["id"]

    return call


def returns_nothing():
    return None


def yields_nothing():
    if os.environ.get("NEVER"):
        yield


NOT_A_FUNCTION = 42
"""


@pytest.mark.parametrize(
    "target, message",
    [
        ("missing.py:loads", "workload file missing.py not found"),
        ("no_such_package.module:loads", "workload module 'no_such_package.module' not found"),
        ("bad.py:absent", "bad.py has no 'absent'"),
        ("bad.py:NOT_A_FUNCTION", "NOT_A_FUNCTION is not a function (it is int)"),
        ("bad.py:setup_raises", "setup raised ConnectionError: database is down (at bad.py:10)"),
        ("bad.py:call_raises", "the measured call raised KeyError: 'id' (at bad.py:15)"),
        ("bad.py:returns_nothing", "setup returned NoneType, not the callable to measure"),
        ("bad.py:yields_nothing", "setup yielded nothing to measure"),
        ("bad.py", "use path/to/file.py:name or package.module:name"),
    ],
)
def test_bad_workload_is_one_line(tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "bad.py").write_text(BAD_WORKLOADS)
    done = run_in(tmp_path, "--workload", target, "--policy", "default")
    assert done.returncode != 0
    (line,) = error_lines(done)
    assert line.startswith("ormgc: error: ") and message in line, line
    assert "Traceback" not in done.stderr


def test_module_workload_imports_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "bench.py").write_text(BAD_WORKLOADS)
    done = run_in(tmp_path, "--workload", "shop.bench:loads", "--policy", "default")
    assert done.returncode == 0, done.stderr
    assert "workload shop.bench:loads; 3 loaded" in done.stdout


def test_measure_api_takes_a_path_or_a_function(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ORMGC_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "mine.py"
    path.write_text(BAD_WORKLOADS)
    records = ormgc.measure(f"{path}:loads", policies=["default", "threshold:700,0,0"], repeat=2)
    assert [record["policy"] for record in records] == ["default", "threshold:700,0,0"]
    assert all(r["loaded"] == 3 and r["repeat"] == 2 and r["counts_identical"] for r in records)
    assert records[1]["gc_threshold"] == [700, 0, 0]
    spec = importlib.util.spec_from_file_location("mine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (record,) = ormgc.measure(module.loads, policies=["disabled"])
    assert record["workload"] == f"{path}:loads" and record["collections_total"] == 0
    with pytest.raises(ormgc.OrmGcError, match="setup raised ConnectionError"):
        ormgc.measure(f"{path}:setup_raises", policies=["default"])


GC_CHANGING_WORKLOADS = """
import gc


def sets_threshold():
    return lambda: (gc.set_threshold(1), [[i] for i in range(3000)])[1]


def disables():
    return lambda: (gc.disable(), [[i] for i in range(3000)])[1]
"""


def test_a_workload_that_changes_the_gc_is_not_measured_under_the_policys_name(
    tmp_path: Path,
) -> None:
    """Its record says how the call left the GC, and a warning stands under the table and in
    the progress lines; a workload that leaves the policy's GC alone has null (issue 25)."""
    (tmp_path / "gcs.py").write_text(GC_CHANGING_WORKLOADS)
    out = tmp_path / "threshold.json"
    done = run_in(tmp_path, "--workload", "gcs.py:sets_threshold", "--policy", "threshold:50000",
                  "--json", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(out.read_text())
    changed = record["gc_changed_by_workload"]
    assert changed["thresholds"][0] == 1 and changed["enabled"] is True, changed
    assert record["gc_threshold"][0] == 50000  # what the policy set, as before
    older = "/".join(map(str, changed["thresholds"]))
    warning = (
        "warning: gcs.py:sets_threshold threshold:50000: the measured call itself left the GC "
        f"enabled at thresholds {older}: these figures are not threshold:50000's"
    )
    assert warning in done.stdout and warning in done.stderr
    out = tmp_path / "disables.json"
    done = run_in(tmp_path, "--workload", "gcs.py:disables", "--policy", "default",
                  "--policy", "disabled", "--json", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    default, disabled = json.loads(out.read_text())
    assert default["gc_changed_by_workload"] == {
        "thresholds": default["gc_threshold"],
        "enabled": False,
    }
    assert disabled["gc_changed_by_workload"] is None  # gc.disable() under disabled: no change
    assert "left the GC disabled" in done.stdout and "disabled's" not in done.stdout
