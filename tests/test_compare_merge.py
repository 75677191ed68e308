"""``ormgc compare --merge``: shards of the matrix run apart (one CI job per Python) merged into
one folder and one table, the same as if one machine had run them all; bad shards refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from ormgc import cli

from .conftest import ROOT

COMMITTED = ROOT / "results" / "pyperf" / "vm"  # each Python's file from its own nox session
SHARDS = (["3.9"], ["3.12", "3.13"], ["3.15"])


def _shard(folder: Path, pythons: List[str], machine: str = "vm") -> Path:
    """A runner's results folder holding only ``pythons``."""
    (folder / machine).mkdir(parents=True)
    for python in pythons:
        for name in (f"{python}.json", f"{python}.probe.json"):
            shutil.copy(COMMITTED / name, folder / machine / name)
    return folder


def _compare(capsys, *args: str):
    code = cli.main(["compare", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_merged_shards_give_the_table_of_one_folder(tmp_path: Path, capsys) -> None:
    whole = _shard(tmp_path / "whole", [python for shard in SHARDS for python in shard])
    code, expected, _ = _compare(capsys, "--results", str(whole))
    assert code == 0
    shards = [_shard(tmp_path / f"shard{i}", pythons) for i, pythons in enumerate(SHARDS)]
    merged = tmp_path / "merged"
    merge = [arg for shard in shards for arg in ("--merge", str(shard))]
    code, out, err = _compare(capsys, "--results", str(merged), *merge)
    assert code == 0, err
    assert out == expected
    assert "merged 3 shards (3.12, 3.13, 3.15, 3.9)" in err
    for python in (python for shard in SHARDS for python in shard):
        for name in (f"{python}.json", f"{python}.probe.json"):
            assert (merged / "vm" / name).read_bytes() == (COMMITTED / name).read_bytes()
    again = _compare(capsys, "--results", str(merged), *merge)  # the same shards: a no-op
    assert again[0] == 0 and again[1] == expected


def test_shards_from_machines_of_other_names_merge_under_the_one_given(
    tmp_path: Path, capsys
) -> None:
    first = _shard(tmp_path / "a", ["3.12"], machine="runner-1")
    second = _shard(tmp_path / "b", ["3.13"], machine="runner-2")
    merge = ["--merge", str(first), "--merge", str(second)]
    code, out, err = _compare(capsys, "--results", str(tmp_path / "m"), *merge)
    assert code == 2 and err.count("\n") == 1
    assert "the shards come from machines runner-1, runner-2: name one with --machine" in err
    assert not (tmp_path / "m").exists()
    code, out, err = _compare(capsys, "--results", str(tmp_path / "m"), "--machine", "ci", *merge)
    assert code == 0, err
    assert "| Python 3.12 | Python 3.13 |" in out
    assert sorted(path.name for path in (tmp_path / "m" / "ci").iterdir()) == [
        "3.12.json",
        "3.12.probe.json",
        "3.13.json",
        "3.13.probe.json",
        "comparison.md",
    ]


@pytest.mark.parametrize("how", ["empty", "twice", "differs_there", "not_pyperf"])
def test_bad_shards_are_one_line_and_copy_nothing(tmp_path: Path, capsys, how: str) -> None:
    good = _shard(tmp_path / "good", ["3.12"])
    results = tmp_path / "results"
    if how == "empty":
        other = tmp_path / "empty"
        other.mkdir()
        message = f"no results in shard {other}"
    elif how == "twice":  # two runners measured 3.12: which one is the result?
        other = _shard(tmp_path / "other", ["3.12"])
        with (other / "vm" / "3.12.json").open("a") as changed:
            changed.write(" ")  # still valid JSON, another file
        message = "two shards hold Python 3.12"
    elif how == "differs_there":  # a result already in --results is never replaced
        other = _shard(tmp_path / "other", ["3.13"])
        (results / "vm").mkdir(parents=True)
        (results / "vm" / "3.12.json").write_text("an earlier result")
        message = "3.12.json exists and differs"
    else:
        other = tmp_path / "other"
        (other / "vm").mkdir(parents=True)
        (other / "vm" / "3.13.json").write_text('{"not": "pyperf"}')
        message = "is not a pyperf result file"
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    code, out, err = _compare(capsys, "--results", str(results), "--merge", str(good),
                              "--merge", str(other))  # fmt: skip
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before  # nothing copied


def _hashes(folder: Path) -> Dict[str, str]:
    """Every file under ``folder``, by path, with its content's hash (byte for byte)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _bad_shard(folder: Path, how: str) -> Tuple[Path, str]:
    """A shard holding Python 3.13 spoiled as ``how``, and what the refusal must say."""
    shard = _shard(folder, ["3.13"])
    pyperf_file, probe = shard / "vm" / "3.13.json", shard / "vm" / "3.13.probe.json"
    if how == "probe_not_json":  # the case: merged, then every later command failed
        probe.write_text('[{"policy": "default",')
        return shard, f"{probe} is not valid JSON"
    if how == "probe_not_records":
        probe.write_text('[{"policy": "default"}]')
        return shard, f"{probe}: a record has no python"
    if how == "probe_of_another_python":
        shutil.copy(COMMITTED / "3.11.probe.json", probe)
        return shard, f"{probe} holds Python 3.11"
    if how == "pyperf_of_another_python":
        shutil.copy(COMMITTED / "3.11.json", pyperf_file)
        return shard, f"{pyperf_file} holds Python 3.11"
    if how == "same_python_twice":  # alike, but one runner per Python: a mistake to say
        return _shard(folder.parent / "again", ["3.12"]), "two shards hold Python 3.12"
    assert how == "other_dataset"  # valid alone, not comparable with the rest
    data = json.loads(pyperf_file.read_text())
    data["metadata"]["ormgc_rows"] = 5
    pyperf_file.write_text(json.dumps(data))
    return shard, "differ in ormgc_rows"


@pytest.mark.parametrize(
    "how",
    [
        "probe_not_json",
        "probe_not_records",
        "probe_of_another_python",
        "pyperf_of_another_python",
        "same_python_twice",
        "other_dataset",
    ],
)
def test_a_spoiled_shard_leaves_the_results_folder_byte_for_byte(
    tmp_path: Path, capsys, how: str
) -> None:
    results = tmp_path / "results"
    earlier = _shard(tmp_path / "earlier", ["3.9"])
    assert _compare(capsys, "--results", str(results), "--merge", str(earlier))[0] == 0
    before = _hashes(results)
    good = _shard(tmp_path / "good", ["3.12"])
    bad, message = _bad_shard(tmp_path / "bad", how)
    code, out, err = _compare(capsys, "--results", str(results), "--merge", str(good),
                              "--merge", str(bad))  # fmt: skip
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert _hashes(results) == before
