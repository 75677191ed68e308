"""The site's two asv parts: ``asv/`` (results/asv: commits x Pythons x library series) and
``asv-releases/`` (results/asv-releases: the release history of ormgc/profiles/releases.json,
whose generated commits are made again in a scratch clone: ormgc.history.branches)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from ormgc.errors import OrmGcError
from ormgc.views.charts import report_data
from ormgc.views.site.parts import TITLES, Part, Sources, read_asv_conf, run_tool


def _branch(root: Path) -> Optional[str]:
    done = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=root, capture_output=True, text=True
    )
    name = done.stdout.strip()
    return name if done.returncode == 0 and name and name != "HEAD" else None


def build_asv(sources: Sources, output: Path, scratch: Path) -> Part:
    """``asv publish`` of the committed results into ``output``, this checkout's branch shown."""
    results_dir = sources.results / "asv"
    if not (results_dir / "benchmarks.json").is_file():
        return Part("asv", TITLES["asv"], False, f"not built: no {results_dir}/benchmarks.json")
    if not sources.asv_conf.is_file():
        return Part("asv", TITLES["asv"], False, f"not built: no {sources.asv_conf.name} here")
    conf = read_asv_conf(sources.asv_conf)
    branch = _branch(sources.root)  # asv draws only commits on the configured branches
    measured = measured_only(results_dir, scratch / "asv-results")
    conf.update(
        repo=str(sources.root),
        results_dir=str(measured),
        html_dir=str(output),
        env_dir=str(scratch / "asv-env"),
        benchmark_dir=str(sources.root / "benchmarks"),
        branches=sorted(set(conf.get("branches", [])) | ({branch} if branch else set())),
    )
    config = scratch / "asv.conf.json"
    config.write_text(json.dumps(conf, indent=2), encoding="utf-8")
    run_tool(
        [sys.executable, "-m", "asv", "publish", "--config", str(config)],
        "asv publish",
        sources.root,
    )
    index = json.loads((output / "index.json").read_text(encoding="utf-8"))
    pythons = sorted(index.get("params", {}).get("python", []), key=report_data.version_key)
    return Part("asv", TITLES["asv"], True, f"results of Python {', '.join(pythons)}")


def measured_only(results_dir: Path, copy: Path) -> Path:
    """A copy of asv's results whose benchmarks.json lists only benchmarks with a result: asv's
    pages ask for a graph of every listed benchmark, and one never measured is a 404."""
    shutil.copytree(results_dir, copy)
    measured = set()
    for path in copy.glob("*/*.json"):
        if path.name != "machine.json":
            measured.update(report_data.read_json(path).get("results", {}))
    listing = report_data.read_json(copy / "benchmarks.json")
    kept = {name: value for name, value in listing.items() if name == "version" or name in measured}
    (copy / "benchmarks.json").write_text(json.dumps(kept), encoding="utf-8")
    return copy


def build_asv_releases(sources: Sources, output: Path, scratch: Path) -> Part:
    """``asv publish`` of results/asv-releases: a line per release series and Python."""
    from ormgc.history import branches, ranges

    name = "asv-releases"
    results_dir = sources.results / name
    spec_path = sources.root / "ormgc" / "profiles" / ranges.SPEC.name
    if not (results_dir / "benchmarks.json").is_file():
        return Part(name, TITLES[name], False, f"not built: no {results_dir}/benchmarks.json")
    if not (spec_path.is_file() and sources.asv_conf.is_file()):
        return Part(name, TITLES[name], False, "not built: no releases.json or asv.conf.json")
    spec = ranges.load(spec_path)
    repo = scratch / "releases-repo"  # the generated commits go here, never into the checkout
    done = subprocess.run(
        ["git", "clone", "--quiet", "--shared", "--no-checkout", str(sources.root), str(repo)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return Part(name, TITLES[name], False, f"not built: {sources.root} is not a git clone")
    try:
        made = branches.write_branches(repo, spec)
    except OrmGcError as exc:
        return Part(name, TITLES[name], False, f"not built: {exc}")
    conf = branches.asv_config(
        read_asv_conf(sources.asv_conf),
        repo,
        spec,
        measured_only(results_dir, scratch / "asv-releases-results"),
        scratch / "asv-releases-env",
        output,
        sources.root / "benchmarks",
    )
    config = scratch / "asv-releases.conf.json"
    config.write_text(json.dumps(conf, indent=2), encoding="utf-8")
    command = [sys.executable, "-m", "asv", "publish", "--config", str(config)]
    run_tool(command, "asv publish (release history)", sources.root)
    releases = sum(len(hashes) for hashes in made.values())
    return Part(name, TITLES[name], True, f"{releases} releases in {len(made)} series")
