"""ormgc pins --refresh: each pin to the newest patch of its series, the dry run changing
nothing; asv's matrix of library series, and its install step keeping the matrix's versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Dict, List

import pytest
from packaging.markers import Marker

from ormgc import pins
from ormgc.errors import OrmGcError
from ormgc.runs import asv_install
from ormgc.runs.pythons import SUPPORTED

from .conftest import ROOT, error_lines, ormgc
from .test_asv_suite import read_asv_conf

RELEASES: Dict[str, List[str]] = {
    "SQLAlchemy": ["2.1.9", "2.0.61rc1", "2.0.60", "2.0.58", "1.4.55", "1.4.54"],
    "Django": ["5.2.20", "5.2.19", "5.1.15", "4.2.31", "4.2.30"],
    "mongoengine": ["0.29.3", "0.29.2", "0.28.2"],
}
MANIFEST = ["3.15.0a4", "3.15.0a3", "3.14.2", "3.14.1", "3.13.9", "3.12.12", "3.11.14",
            "3.10.19", "3.9.25", "3.9.24"]  # fmt: skip
FAKE = pins.Lookups(lambda name: RELEASES.get(name, []), lambda: list(MANIFEST))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The two files a refresh rewrites, copied from the repository."""
    (tmp_path / "ormgc" / "profiles").mkdir(parents=True)
    shutil.copy(ROOT / "ormgc" / "profiles" / "current.txt", tmp_path / "ormgc" / "profiles")
    shutil.copy(ROOT / "asv.conf.json", tmp_path)
    return tmp_path


def _files(root: Path) -> List[bytes]:
    return [
        (root / "ormgc/profiles/current.txt").read_bytes(),
        (root / "asv.conf.json").read_bytes(),
    ]


def test_the_dry_run_prints_every_change_within_its_series_and_writes_nothing(checkout, capsys):
    before = _files(checkout)
    changes = pins.refresh(checkout, SUPPORTED, FAKE, dry_run=True)
    assert _files(checkout) == before
    moved = {(c.file, c.name, c.old, c.new) for c in changes}
    # 2.1 and 2.0.61rc1 are not 2.0's newest final patch; 1.4 stays 1.4.
    assert ("current.txt", "SQLAlchemy", "2.0.58", "2.0.60") in moved
    assert ("current.txt", "Django", "4.2.30", "4.2.31") in moved
    assert ("current.txt", "Django", "5.2.19", "5.2.20") in moved
    assert ("asv.conf.json", "SQLAlchemy", "1.4.54", "1.4.55") in moved
    assert ("asv.conf.json", "mongoengine", "0.28.2", "0.28.2") not in moved
    python_change = next(c for c in changes if c.name == "ci-python")
    assert python_change.new.split() == [
        "3.9.25", "3.10.19", "3.11.14", "3.12.12", "3.13.9", "3.14.2", "3.15.0a4"
    ]  # fmt: skip
    text = pins.describe(changes, dry_run=True)
    assert "current.txt: SQLAlchemy 2.0.58 -> 2.0.60" in text
    assert text.endswith(f"pins: would change {len(changes)} pin(s)")


def test_the_refresh_writes_what_the_dry_run_printed_and_then_has_nothing_to_do(checkout):
    planned = pins.refresh(checkout, SUPPORTED, FAKE, dry_run=True)
    assert pins.refresh(checkout, SUPPORTED, FAKE) == planned
    text = (checkout / "ormgc/profiles/current.txt").read_text()
    assert 'Django==4.2.31; python_version < "3.10"' in text  # markers kept
    assert "SQLAlchemy==2.0.60\n" in text
    assert text.count(pins.CI_PYTHON) == 1
    conf = read_asv_conf(checkout / "asv.conf.json")  # still asv's JSON, comments and all
    assert conf["matrix"]["req"]["SQLAlchemy"] == ["1.4.55", "2.0.60"]
    assert "SQLAlchemy 2.0.60" in pins.commit_message(planned)
    assert pins.refresh(checkout, SUPPORTED, FAKE) == []
    assert pins.describe([], dry_run=True).endswith("nothing to change")


def test_an_unreadable_python_list_keeps_the_old_line(checkout, capsys):
    def offline() -> List[str]:
        raise OrmGcError("cannot read setup-python's version list (offline)")

    pins.refresh(checkout, SUPPORTED, FAKE)
    changes = pins.refresh(checkout, SUPPORTED, pins.Lookups(FAKE.releases, offline))
    assert changes == []
    assert "keeping the ci-python line" in capsys.readouterr().err


def test_pins_without_refresh_is_refused_in_one_line(tmp_path):
    done = ormgc("pins", cache_dir=tmp_path, timeout=60)
    assert done.returncode == 2
    assert len(error_lines(done)) == 1 and "--refresh" in done.stderr


def _environments() -> List[Dict[str, str]]:
    from asv import environment
    from asv.config import Config

    conf = Config.load(str(ROOT / "asv.conf.json"))
    return [
        {key[1] or "python": value for key, value in env.items()}
        for env in environment.iter_matrix(conf.environment_type, conf.pythons, conf)
    ]


def test_every_python_gets_the_current_series_and_an_older_one():
    """Two environments per Python: the pins of current.txt, and SQLAlchemy 1.4 with
    MongoEngine 0.28 (Django: the LTS that Python supports)."""
    envs = _environments()
    pinned = {}
    for line in (ROOT / "ormgc/profiles/current.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            requirement, _, marker = line.partition(";")
            name, version = requirement.strip().split("==")
            pinned.setdefault(name, []).append((version, marker.strip()))
    for python in SUPPORTED:
        mine = [env for env in envs if env["python"] == python]
        assert sorted(env["SQLAlchemy"][:3] for env in mine) == ["1.4", "2.0"], python
        current = next(env for env in mine if env["SQLAlchemy"].startswith("2.0"))
        older = next(env for env in mine if env["SQLAlchemy"].startswith("1.4"))
        for name in ("SQLAlchemy", "Django", "mongoengine", "pymongo"):
            env = {"python_version": python}
            wanted = [v for v, mark in pinned[name] if not mark or Marker(mark).evaluate(env)]
            assert [current[name]] == wanted, (python, name)
        assert older["mongoengine"].startswith("0.28") and older["pymongo"] == "4.8.0"
        assert older["Django"][:3] == (
            "4.2" if python in ("3.9", "3.10", "3.11", "3.12") else "5.2"
        )


def test_asv_install_keeps_the_matrix_versions(tmp_path):
    (tmp_path / "asv-env-info.json").write_text(
        json.dumps({"requirements": {"SQLAlchemy": "1.4.54", "Django": "4.2.30"}})
    )
    matrix = asv_install.matrix_requirements(tmp_path)
    assert matrix == {"SQLAlchemy": "1.4.54", "Django": "4.2.30"}
    pins_text = (ROOT / "ormgc/profiles/current.txt").read_text().splitlines()
    merged = asv_install.merged_pins(pins_text, matrix)
    names = [line.split("==")[0] for line in merged if "==" in line and not line.startswith("#")]
    assert names.count("Django") == 1 and names.count("SQLAlchemy") == 1
    assert "Django==4.2.30" in merged and "SQLAlchemy==1.4.54" in merged
    assert any(line.startswith("mongoengine==") for line in merged)  # the rest as pinned
    assert asv_install.matrix_requirements(tmp_path / "none") == {}  # existing: envs
