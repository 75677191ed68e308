"""The asv history across library releases: its ranges file, its generated commits (the same,
hash for hash, in any clone), ``ormgc pins --add-range`` / ``--refresh``'s next point, the
findings page generated from its results, and the workflow job that measures it."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Dict

import pytest

from ormgc.errors import OrmGcError
from ormgc.history import branches, ranges
from ormgc.history.ranges import Published, Ranges, Release, Series
from ormgc.views.tables import releases as table

from .conftest import ROOT, error_lines, ormgc

SPEC = ranges.load()
RESULTS = ROOT / "results" / "asv-releases"


def _clone(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    subprocess.run(
        ["git", "clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(repo)], check=True
    )
    return repo


def _fake_pypi(versions: Dict[str, str]):
    def lookup(package: str) -> Dict[str, Published]:
        return {v: Published(date, ("cp312",)) for v, date in versions.items()}

    return lookup


def test_pick_spreads_evenly_and_keeps_the_first_and_the_newest() -> None:
    versions = [f"2.0.{n}" for n in range(60)]
    chosen = ranges.pick(versions[::-1], 13)  # any order in, version order out
    assert chosen[0] == "2.0.0" and chosen[-1] == "2.0.59" and len(set(chosen)) == 13
    gaps = [int(b.split(".")[2]) - int(a.split(".")[2]) for a, b in zip(chosen, chosen[1:])]
    assert max(gaps) - min(gaps) <= 1
    assert ranges.pick(["0.20.0", "0.20.1", "0.21.0", "0.3.0"], 0, per_minor=True) == [
        "0.3.0", "0.20.1", "0.21.0"
    ]  # fmt: skip


def test_the_committed_ranges_cover_what_the_history_promises() -> None:
    by_name = {series.name: series for series in SPEC.series}
    assert len(by_name["sqlalchemy-2.0"].releases) >= 12
    assert by_name["sqlalchemy-2.0"].releases[0].version == "2.0.0"
    assert len(by_name["sqlalchemy-1.4"].releases) >= 6
    assert len(by_name["django-4.2"].releases) >= 6 and len(by_name["django-5.2"].releases) >= 6
    minors = {r.version.rsplit(".", 1)[0] for r in by_name["mongoengine-0.2"].releases}
    assert minors == {f"0.2{n}" for n in range(10)}
    assert {"3.9", "3.12", "3.14"} <= {p for s in SPEC.series for p in s.pythons}
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", SPEC.base, "HEAD"], cwd=ROOT)
    assert ancestor.returncode == 0, "the base is a commit of this checkout's history"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"base": "46b7efc"}, "not a full commit hash"),
        ({"rows": 0}, "rows 0"),
        ({"series": [{"name": "Bad Name"}]}, "name 'Bad Name'"),
        ({"series": [{"name": "x", "orm": "peewee"}]}, "orm 'peewee'"),
        ({"series": [{"name": "x", "orm": "django", "pythons": ["2.7"]}]}, "pythons"),
        (
            {"series": [{"name": "x", "orm": "django", "pythons": ["3.12"],
                         "releases": [{"version": "4.2.1", "date": "2023"}]}]},
            "date '2023'",
        ),
        (
            {"series": [{"name": "x", "orm": "django", "pythons": ["3.12"], "releases": [
                {"version": "4.2.10", "date": "2024-01-01T00:00:00Z"},
                {"version": "4.2.9", "date": "2024-01-01T00:00:00Z"}]}]},
            "ascending version order",
        ),
    ],
)  # fmt: skip
def test_a_bad_ranges_file_is_one_error_naming_what_is_wrong(change: dict, message: str) -> None:
    data = json.loads(ranges.SPEC.read_text())
    data.update(change)
    with pytest.raises(OrmGcError, match=re.escape(message)):
        ranges.parse(data, ("3.9", "3.12", "3.14"))


def test_the_generated_commits_are_the_same_in_any_clone_and_dated_at_the_release(
    tmp_path: Path,
) -> None:
    first = branches.write_branches(_clone(tmp_path, "a"), SPEC, ["django-4.2"])
    repo = _clone(tmp_path, "b")
    second = branches.write_branches(repo, SPEC, ["django-4.2"])
    assert first == second and len(first["django-4.2"]) == len(SPEC.named("django-4.2").releases)
    series = SPEC.named("django-4.2")
    for release, commit in zip(series.releases, second["django-4.2"]):
        shown = subprocess.run(
            ["git", "show", "-s", "--format=%P|%aI|%ae", commit], cwd=repo,
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        parents, date, email = shown.split("|")
        assert date.replace("+00:00", "Z") == release.date and email == branches.AUTHOR_EMAIL
        pins = subprocess.run(
            ["git", "show", f"{commit}:{branches.PINS_PATH}"], cwd=repo,
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert re.findall(r"^Django==.*$", pins, re.M) == [f"Django=={release.version}"]
        assert "SQLAlchemy==" in pins  # every other pin is the base's
    first_parents = subprocess.run(
        ["git", "rev-list", "--parents", "--reverse", series.branch], cwd=repo,
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()[0].split()  # fmt: skip
    assert len(first_parents) == 1, "the first release has no parent: no main history on it"
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", series.branch], cwd=repo, capture_output=True, text=True
    ).stdout.split()
    assert "ormgc" in listed and "results" not in listed


def test_the_committed_results_name_the_commits_made_today(tmp_path: Path) -> None:
    """commits.json (what each result file measured) is what the file generates now."""
    made = branches.write_branches(_clone(tmp_path, "repo"), SPEC)
    committed = json.loads((RESULTS / "commits.json").read_text())
    assert committed == branches.commit_index(SPEC, made)
    measured = {json.loads(p.read_text())["commit_hash"] for p in RESULTS.glob("*/*-py*.json")}
    assert measured and measured <= set(committed), "every result is of a generated commit"


def test_the_next_release_is_one_more_commit_at_the_tip(tmp_path: Path) -> None:
    base = SPEC.base
    series = Series("django-9.9", "Django", "django", "9.9*", ("3.12",), ())
    old = Ranges(base, 100, (series,))
    pypi = _fake_pypi({"9.9": "2030-01-01T00:00:00Z", "9.9.1": "2030-02-01T00:00:00Z"})
    start, added = ranges.add_range(Ranges(base, 100, ()), "Django", "9.9*", 2, ["3.12"], pypi)
    assert [r.version for r in added.releases] == ["9.9", "9.9.1"]
    assert start.series[0].name == "django-9.9"
    dates = {"9.9": "2030-01-01", "9.9.1": "2030-02-01", "9.9.2": "2030-03-01"}
    dates["10.0"] = "2030-03-02"  # another series: not appended
    newer = _fake_pypi({version: f"{day}T00:00:00Z" for version, day in dates.items()})
    appended, said = ranges.append_newest(start, newer)
    assert said == [("django-9.9", "9.9.2")]
    assert ranges.append_newest(appended, newer)[1] == []  # nothing newer: nothing added
    repo = _clone(tmp_path, "repo")
    before = branches.write_branches(repo, start)["django-9.9"]
    after = branches.write_branches(repo, appended)["django-9.9"]
    assert after[:-1] == before and len(after) == 3
    assert old.series[0].branch == "pins-history-django-9.9"


def test_a_branch_not_made_by_ormgc_is_left_alone(tmp_path: Path) -> None:
    repo = _clone(tmp_path, "repo")
    series = SPEC.named("django-5.2")
    subprocess.run(["git", "branch", series.branch, SPEC.base], cwd=repo, check=True)
    with pytest.raises(OrmGcError, match="was not made by ormgc"):
        branches.write_branches(repo, SPEC, ["django-5.2"])
    tip = subprocess.run(["git", "rev-parse", series.branch], cwd=repo, capture_output=True,
                         text=True).stdout.strip()  # fmt: skip
    assert tip == SPEC.base


def test_the_history_asv_config_has_no_matrix_and_a_branch_per_series(tmp_path: Path) -> None:
    from ormgc.views.site.parts import read_asv_conf

    conf = branches.asv_config(
        read_asv_conf(ROOT / "asv.conf.json"), tmp_path, SPEC, tmp_path / "r", tmp_path / "e",
        tmp_path / "h", ROOT / "benchmarks",
    )  # fmt: skip
    assert "matrix" not in conf and "exclude" not in conf
    assert conf["branches"] == [s.branch for s in SPEC.series]
    assert conf["pythons"] == ["3.9", "3.12", "3.14"]


def test_steps_are_exact_changes_only() -> None:
    def point(version: str, instructions: float, collections: float) -> table.Point:
        return table.Point(version, "2024-01-01", instructions, 0.1, collections, 0.1)

    points = [point("1.0.0", 100e6, 50), point("1.0.1", 100.5e6, 50), point("1.0.2", 90e6, 50),
              point("1.0.3", 90e6, 49)]  # fmt: skip
    assert table.steps(points) == [
        "1.0.1 -> 1.0.2: instructions -10.4%", "1.0.2 -> 1.0.3: collections 50 -> 49"
    ]  # fmt: skip
    builds = {"1.0.0": "X==1.0.0: pure-python", "1.0.1": "X==1.0.1: pure-python",
              "1.0.2": "X==1.0.2: compiled", "1.0.3": "X==1.0.3: compiled"}  # fmt: skip
    assert table.steps(points, builds)[0] == (
        "1.0.1 -> 1.0.2: instructions -10.4%, pure Python -> compiled"
    )


def test_the_findings_page_is_the_table_of_the_committed_results() -> None:
    text = (ROOT / table.PAGE).read_text()
    inner = text.split(table.BEGIN, 1)[1].split(table.END, 1)[0]
    assert inner == "\n" + table.block(ROOT / "results"), "python scripts/releases_table.py --write"


def test_the_workflow_measures_the_pythons_of_the_series() -> None:
    text = (ROOT / ".github" / "workflows" / "benchmark.yml").read_text()
    job = text.split("\n  releases:\n", 1)[1].split("\n  publish:\n", 1)[0]
    listed = re.search(r"python: \[(.*)\]", job).group(1)
    wanted = sorted({p for s in SPEC.series for p in s.pythons}, key=ranges.version_key)
    assert re.findall(r'"([^"]+)"', listed) == wanted
    assert "scripts/asv_releases.sh" in job


@pytest.mark.parametrize(
    "args, message",
    [
        (["--add-range", "Flask", "3.*"], "measures sqlalchemy, django, mongoengine only"),
        (["--add-range", "SQLAlchemy", "2.0.*"], "already in releases.json"),
        (["--add-range", "SQLAlchemy", "2.1.*", "--count", "99"], "from 2 to 40"),
        (["--add-range", "Django", "6.0*", "--with", "pymongo"], "GLOB:PACKAGE==VERSION"),
        (["--refresh", "--count", "3"], "go with --add-range"),
        (["--add-range", "SQLAlchemy", "[12].*"], "gives no series name"),
    ],
)
def test_pins_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message) -> None:
    before = ranges.SPEC.read_bytes()
    done = ormgc("pins", *args, cache_dir=tmp_path)
    assert done.returncode != 0 and len(error_lines(done)) == 1 and message in done.stderr
    assert ranges.SPEC.read_bytes() == before


def test_a_release_with_pins_moves_them_too() -> None:
    series = SPEC.named("mongoengine-0.2")
    old = series.releases[0]
    assert old.pins == {"pymongo": "3.13.0"}
    base_pins = (ROOT / branches.PINS_PATH).read_text()
    text = branches.pins_text(base_pins, series, old)
    assert re.findall(r"^pymongo==.*$", text, re.M) == ["pymongo==3.13.0"]
    assert re.findall(r"^mongoengine==.*$", text, re.M) == [f"mongoengine=={old.version}"]
    newest = replace(series.releases[-1], pins={})
    assert isinstance(newest, Release) and newest.version.startswith("0.29")
    assert "pymongo==4.18" in branches.pins_text(base_pins, series, newest)


@pytest.mark.parametrize("dry_run", [False, True])
def test_pins_refresh_appends_the_next_release(tmp_path, monkeypatch, capsys, dry_run) -> None:
    """ormgc pins --refresh: each series' newest release on PyPI joins the file (the same
    write as --add-range's), and the commit message names it; --dry-run writes nothing."""
    from ormgc import cli, pins

    spec = tmp_path / "releases.json"
    spec.write_bytes(ranges.SPEC.read_bytes())
    monkeypatch.setattr(ranges, "SPEC", spec)
    monkeypatch.setattr(pins, "refresh", lambda *args, **kwargs: [])
    last = SPEC.named("sqlalchemy-2.0").releases[-1]
    newer = f"2.0.{int(last.version.split('.')[2]) + 1}"

    def pypi(package: str) -> Dict[str, Published]:
        found = {r.version: Published(r.date, r.wheels) for s in SPEC.series
                 if s.package == package for r in s.releases}  # fmt: skip
        if package == "SQLAlchemy":
            found[newer] = Published("2030-01-01T00:00:00Z", ("cp312",))
        return found

    monkeypatch.setattr(ranges, "pypi_releases", pypi)
    message = tmp_path / "message"
    args = ["pins", "--refresh", "--commit-message", str(message)] + ["--dry-run"] * dry_run
    assert cli.main(args) == 0
    said = capsys.readouterr().out
    assert f"{newer} to sqlalchemy-2.0" in said
    if dry_run:
        assert spec.read_bytes() == (ROOT / "ormgc" / "profiles" / "releases.json").read_bytes()
        assert not message.exists()
        return
    grown = ranges.load(spec).named("sqlalchemy-2.0").releases
    assert grown[:-1] == SPEC.named("sqlalchemy-2.0").releases
    assert grown[-1] == Release(newer, "2030-01-01T00:00:00Z", {}, ("cp312",))
    assert message.read_text() == f"history: sqlalchemy-2.0 {newer}\n"


@pytest.mark.parametrize("option", ["--asv-config", "--commits"])
def test_the_branch_tool_does_not_overwrite_a_file_it_did_not_write(tmp_path, option) -> None:
    """A mistyped output path is refused before any branch is made; its own files it renews."""
    repo = _clone(tmp_path, "repo")
    theirs = tmp_path / "notes.json"
    theirs.write_text('{"mine": 1}')
    assert branches.main([str(repo), option, str(theirs)]) == 1
    assert theirs.read_text() == '{"mine": 1}'
    listed = subprocess.run(["git", "branch", "--list", "pins-history-*"], cwd=repo,
                            capture_output=True, text=True).stdout  # fmt: skip
    assert listed == ""
    ours = tmp_path / "ours.json"
    assert branches.main([str(repo), option, str(ours)]) == 0
    assert branches.main([str(repo), option, str(ours)]) == 0  # its own file: renewed
