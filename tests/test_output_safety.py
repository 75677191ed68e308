"""Output folders (ormgc report): never replace what the suite did not make; an interrupted
build (an error, or a kill mid-write) leaves the earlier report whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from ormgc.errors import OrmGcError, UsageError
from ormgc.output_dir import MARKER, build_output_dir

from .conftest import ROOT, error_lines, ormgc
from .test_report import results_with


def snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_new_folder_is_built_with_its_marker_and_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out"
    with build_output_dir(target, "report") as scratch:
        assert scratch.parent == target.parent and scratch != target
        (scratch / "page.html").write_text("x")
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "page.html"]
    assert (target / MARKER).read_text().splitlines()[0] == "report"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out"]  # no temp left


def test_an_earlier_output_of_the_kind_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    for name in ("first", "second"):
        with build_output_dir(target, "report") as scratch:
            (scratch / name).write_text(name)
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "second"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["file", "link", "folder", "other kind"])
def test_what_is_not_ours_is_refused_and_kept(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("mine")
    elif kind == "link":
        (tmp_path / "real").mkdir()
        target.symlink_to(tmp_path / "real")
    else:
        target.mkdir()
        (target / "notes.txt").write_text("mine")
        if kind == "other kind":
            (target / MARKER).write_text("site\n")
    before = snapshot(tmp_path)
    with pytest.raises(UsageError, match="refusing"), build_output_dir(target, "report"):
        pytest.fail("the body must not run")
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out"] + ["real"] * (kind == "link")
    )


@pytest.mark.parametrize("where", ["results/seed", "results/seed/deeper", "results", "."])
def test_the_results_read_are_never_the_output(tmp_path: Path, where: str) -> None:
    (tmp_path / "results" / "seed").mkdir(parents=True)
    reads = [tmp_path / "results" / "seed"]
    refused = pytest.raises(UsageError, match="the results it reads")
    with refused, build_output_dir(tmp_path / where, "report", reads):
        pytest.fail("the body must not run")
    assert not (tmp_path / "results" / "seed" / "deeper").exists()


def test_an_error_mid_build_leaves_the_earlier_output_and_no_litter(tmp_path: Path) -> None:
    target = tmp_path / "x" / "out"
    with build_output_dir(target, "report") as scratch:
        (scratch / "page.html").write_text("old")
    before = snapshot(tmp_path)
    with pytest.raises(KeyboardInterrupt), build_output_dir(target, "report") as scratch:
        (scratch / "page.html").write_text("half")
        raise KeyboardInterrupt
    assert snapshot(tmp_path) == before and sorted(p.name for p in target.parent.iterdir()) == [
        "out"
    ]
    deep = tmp_path / "new" / "deep" / "out"
    with pytest.raises(OrmGcError), build_output_dir(deep, "report"):  # parents made: removed
        raise OrmGcError("chart failed")
    assert not (tmp_path / "new").exists()


# The command: ormgc report


def test_report_refuses_a_file_a_foreign_folder_and_the_results(tmp_path: Path) -> None:
    results = results_with(tmp_path, "seed")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("mine")
    before = snapshot(tmp_path)
    for output in ["notes.txt", "mine", "results", ".", "results/seed"]:
        done = ormgc(
            "report", "--results", str(results), "--output", str(tmp_path / output),
            cache_dir=tmp_path / "cache",
        )  # fmt: skip
        assert done.returncode == 2, (output, done.stderr)
        (line,) = error_lines(done)
        assert line.startswith("ormgc: error: refusing"), line
        assert snapshot(tmp_path) == before, output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "notes.txt", "results"]


def test_report_over_an_empty_folder_and_its_own_earlier_report(tmp_path: Path) -> None:
    results = results_with(tmp_path, "seed")
    (tmp_path / "out").mkdir()
    for _ in range(2):
        done = ormgc(
            "report", "--results", str(results), "--output", str(tmp_path / "out"),
            cache_dir=tmp_path / "cache",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / MARKER).read_text().startswith("report\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "results"]


def test_an_asv_site_that_is_not_there_creates_nothing(tmp_path: Path) -> None:
    results = results_with(tmp_path, "seed")
    for site in [tmp_path / "html", tmp_path / "nothing" / "html"]:
        done = ormgc(
            "report", "--results", str(results), "--asv-site", str(site),
            cache_dir=tmp_path / "cache",
        )  # fmt: skip
        assert done.returncode == 1
        (line,) = error_lines(done)
        assert "no asv site" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


_KILL_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from ormgc import cli
from ormgc.views.charts import report

def killed(loaded, folder):
    (Path(folder) / "published.png").write_bytes(b"half a png")
    os.kill(os.getpid(), signal.SIG{signal})

report.chart_makers = lambda: [killed]
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signal", ["KILL", "INT", "TERM"])
def test_a_report_build_killed_mid_write_leaves_the_earlier_report(
    tmp_path: Path, signal: str
) -> None:
    results = results_with(tmp_path, "seed")
    assert ormgc("report", "--results", str(results), cache_dir=tmp_path).returncode == 0
    before = snapshot(results / "report")
    done = subprocess.run(
        [sys.executable, "-c", _KILL_MID_WRITE.format(signal=signal), "report"]
        + ["--results", str(results)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode != 0
    assert snapshot(results / "report") == before
    left = sorted(p.name for p in results.iterdir())
    if signal == "KILL":  # nothing can clean up after SIGKILL: a hidden temp folder stays
        assert [n for n in left if not n.startswith(".report.ormgc-tmp-")] == ["report", "seed"]
    else:
        assert left == ["report", "seed"]
        assert error_lines(done) == ["ormgc: interrupted; no result written"]


# Result files: only a file of the kind ormgc writes there is replaced


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--policy", "default", "--json", "{out}"],
        [
            "advise",
            "--from",
            str(ROOT / "results" / "advise" / "seed-sqlalchemy.json"),
            "--json",
            "{out}",
        ],
        ["compare", "--results", str(ROOT / "results" / "pyperf"), "--output", "{out}"],
    ],
    ids=["run", "advise", "compare"],
)
def test_a_result_file_that_is_not_ours_is_never_replaced(tmp_path: Path, args: list) -> None:
    for mine in ["my notes\n", '{"my": "settings"}\n']:
        out = tmp_path / "mine.txt"
        out.write_text(mine)
        done = ormgc(*[arg.format(out=out) for arg in args], cache_dir=tmp_path / "cache")
        assert done.returncode == 2, done.stderr
        (line,) = error_lines(done)
        assert line.startswith(f"ormgc: error: refusing to replace {out}: not an ormgc"), line
        assert out.read_text() == mine
