"""The release history's findings (results/asv-releases): per series, what each release cost.

Reads asv's result files of the generated release commits (``commits.json`` says which commit
is which release) and prints, per series, one row per release: the seed query's instructions
under valgrind and the collector's share (exact), its collections (deterministic), with the
default thresholds; then the steps: consecutive releases whose instructions differ by
``STEP`` or more, or whose collections differ at all. Written between ``<!-- releases:begin
-->`` and ``<!-- releases:end -->`` of docs/findings/releases.md by ``python
scripts/releases_table.py --write``; tests/test_releases.py checks the page against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

from ormgc.errors import OrmGcError
from ormgc.views.compare.asv_compare import env_result, python_key

BEGIN, END = "<!-- releases:begin -->", "<!-- releases:end -->"
PAGE = Path("docs") / "findings" / "releases.md"
FOLDER = "asv-releases"
STEP = 0.01  # an instruction count is exact: 1% is far above the run-to-run difference (0)
BACKEND = {"sqlalchemy": "sqlite", "django": "sqlite", "mongoengine": "mongodb"}


class Point(NamedTuple):
    """One release measured on one Python: the seed query, default thresholds."""

    version: str
    date: str
    instructions: Optional[float]  # ExactCost.track_instructions
    gc_share: Optional[float]  # ExactCost.track_gc_share
    collections: Optional[float]  # GcCollections.track_collections, total
    saved: Optional[float]  # instructions saved by threshold_50000, share of default's


def _value(path: Path, data: dict, name: str, combo: Tuple[str, ...]) -> Optional[float]:
    found = env_result(path, name, data)
    return None if found is None else found.values.get(combo)


def load(results: Path) -> Dict[str, Dict[str, List[Point]]]:
    """{series: {python: points in release order}} of every measured release."""
    folder = results / FOLDER
    try:
        commits = json.loads((folder / "commits.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OrmGcError(f"cannot read {folder}/commits.json: {exc}") from None
    found: Dict[str, Dict[str, List[Point]]] = {}
    for path in sorted(folder.glob("*/*-virtualenv-py*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        release = commits.get(data.get("commit_hash"))
        if release is None:
            continue  # a commit of an older base: not in today's history
        orm, python = release["orm"], str(data["params"]["python"])
        rows = _rows(data)
        seed = (BACKEND[orm], "seed_loop")
        exact = f"bench_{orm}.ExactCost."
        default = _value(path, data, exact + "track_instructions", (*seed, "default", rows))
        tuned = _value(path, data, exact + "track_instructions", (*seed, "threshold_50000", rows))
        point = Point(
            release["version"],
            release["date"][:10],
            default,
            _value(path, data, exact + "track_gc_share", (*seed, "default", rows)),
            _value(
                path,
                data,
                f"bench_{orm}.GcCollections.track_collections",
                (*seed, "default", rows, "total"),
            ),
            (default - tuned) / default if default and tuned else None,
        )
        found.setdefault(release["series"], {}).setdefault(python, []).append(point)
    for by_python in found.values():
        for points in by_python.values():
            points.sort(key=lambda p: tuple(int(x) for x in p.version.split(".")))
    return found


def _rows(data: dict) -> str:
    """The dataset size these results were measured at (the ``rows`` parameter)."""
    for row in data.get("results", {}).values():
        params = row[data["result_columns"].index("params")]
        if len(params) >= 4:
            return str(params[3][0])
    return "?"


PURE = " †"  # the compiled part ran as pure Python (builds.json)


def _builds(results: Path) -> Dict[str, Dict[str, Dict[str, str]]]:
    """{python: {series: {version: "PIN: compiled | pure-python | ..."}}}, if measured."""
    path = results / FOLDER / "builds.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as exc:
        raise OrmGcError(f"cannot read {path}: {exc}") from None


def _cell(point: Optional[Point], build: str) -> str:
    if point is None or point.instructions is None:
        return "n/a"
    share = f"{point.gc_share:.1%}" if point.gc_share is not None else "?"
    collections = f"{point.collections:.0f}" if point.collections is not None else "?"
    pure = PURE if build.endswith("pure-python") else ""
    return f"{point.instructions / 1e6:,.1f}M · {share} · {collections}{pure}"


def _span(values: List[float]) -> str:
    low, high = f"{min(values):.0%}", f"{max(values):.0%}"
    return low if low == high else f"{low}-{high}"


def steps(points: List[Point], builds: Optional[Dict[str, str]] = None) -> List[str]:
    """The consecutive releases whose exact figures differ (``STEP`` for instructions), each
    saying where the compiled part changed too (``builds``: version -> builds.json's entry)."""
    kind = {v: "pure Python" if b.endswith("pure-python") else "compiled"
            for v, b in (builds or {}).items()}  # fmt: skip
    found = []
    measured = [p for p in points if p.instructions is not None]
    for before, after in zip(measured, measured[1:]):
        change = after.instructions / before.instructions - 1
        what = []
        if abs(change) >= STEP:
            what.append(f"instructions {change:+.1%}")
        if before.collections != after.collections:
            what.append(f"collections {before.collections:.0f} -> {after.collections:.0f}")
        if what and kind.get(before.version, "") != kind.get(after.version, ""):
            what.append(f"{kind.get(before.version)} -> {kind.get(after.version)}")
        if what:
            found.append(f"{before.version} -> {after.version}: {', '.join(what)}")
    return found


def block(results: Path) -> str:
    """The page's generated part: a table and the steps per series."""
    history = load(results)
    if not history:
        raise OrmGcError(f"no measured release in {results / FOLDER}")
    builds = _builds(results)
    out = []
    for series in sorted(history):
        by_python = history[series]
        pythons = sorted(by_python, key=python_key)
        versions: Dict[str, str] = {}
        for points in by_python.values():
            versions.update({p.version: p.date for p in points})
        ordered = sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
        out += [f"### {series}", ""]
        out.append("| release | " + " | ".join(f"Python {p}" for p in pythons) + " |")
        out.append("|---|" + "---|" * len(pythons))
        for version in ordered:
            cells = []
            for python in pythons:
                match = [p for p in by_python[python] if p.version == version]
                build = builds.get(python, {}).get(series, {}).get(version, "")
                cells.append(_cell(match[0] if match else None, build))
            out.append(f"| {version} ({versions[version]}) | " + " | ".join(cells) + " |")
        out.append("")
        for python in pythons:
            found = steps(by_python[python], builds.get(python, {}).get(series))
            saved = [p.saved for p in by_python[python] if p.saved is not None]
            span = _span(saved) if saved else "n/a"
            listed = "; ".join(found) if found else "no step"
            out.append(
                f"- Python {python}: {listed}. threshold:50000 saves {span} of the instructions."
            )
        out.append("")
    if any(PURE in line for line in out):
        out += [
            f"{PURE.strip()} the compiled part (SQLAlchemy's extensions; pymongo's bson for"
            " MongoEngine) ran as pure Python: no wheel for that Python, and pip's build from"
            " source did not compile it (`scripts/release_builds.py`, `builds.json`).",
            "",
        ]
    return "\n".join(out)
