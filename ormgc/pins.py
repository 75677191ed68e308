"""``ormgc pins --refresh``: every pin moved to the newest patch release of its series.

A series is a release's first two numbers (SQLAlchemy 2.0, Django 4.2, MongoEngine 0.29): a
refresh never crosses one, so a step in the asv history is a patch release or an interpreter
named in the commit that refreshed the pins. It rewrites
- ``ormgc/profiles/current.txt``: each ``name==version`` line (environment markers kept), and
  its ``# ci-python:`` line, the exact Python patch versions the benchmark workflow installs;
- ``asv.conf.json``: the release series of its ``matrix`` (``req``), version strings only.
``--dry-run`` prints the same changes and writes nothing. The lookups are injected
(``Lookups``) so tests run without a network.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ormgc.errors import OrmGcError
from ormgc.results import write_atomic

CI_PYTHON = "# ci-python:"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[0-9][0-9A-Za-z.]*)")
_RELEASE = re.compile(r"^\d+(\.\d+)*$")  # final releases only: no a/b/rc/dev
# actions/setup-python reads this manifest for the versions it can install.
PYTHON_MANIFEST = (
    "https://raw.githubusercontent.com/actions/python-versions/main/versions-manifest.json"
)


class Change(NamedTuple):
    file: str
    name: str
    old: str
    new: str


class Lookups(NamedTuple):
    """Where versions come from: a package's releases, the Pythons CI can install."""

    releases: Callable[[str], List[str]]
    pythons: Callable[[], List[str]]


def series(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:2])


def _key(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def newest_in_series(version: str, releases: Sequence[str]) -> str:
    """The newest final release in ``version``'s series (``version`` itself if none newer)."""
    same = [v for v in releases if _RELEASE.match(v) and series(v) == series(version)]
    return max(same + [version], key=_key)


def pip_releases(name: str) -> List[str]:
    """Versions of ``name`` on the configured package index (``pip index versions``)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    for line in done.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
    raise OrmGcError(
        f"cannot list the releases of {name} (pip index versions exit {done.returncode})"
    )


def manifest_pythons(url: str = PYTHON_MANIFEST) -> List[str]:
    """Every CPython version setup-python can install (its manifest; needs the network)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 (fixed https URL)
            return [entry["version"] for entry in json.load(answer)]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OrmGcError(f"cannot read setup-python's version list ({exc})") from None


REAL = Lookups(pip_releases, manifest_pythons)


def refresh_pins(
    text: str, wanted_pythons: Sequence[str], lookups: Lookups
) -> Tuple[str, List[Change]]:
    """The pins file with every pin and the ci-python line refreshed; the changes."""
    changes: List[Change] = []
    releases: Dict[str, List[str]] = {}
    lines = []
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            name, old = match["name"], match["version"]
            if name not in releases:
                releases[name] = lookups.releases(name)
            new = newest_in_series(old, releases[name])
            if new != old:
                changes.append(Change("current.txt", name, old, new))
                line = f"{name}=={new}{line[match.end() :]}"
        if not line.startswith(CI_PYTHON):
            lines.append(line)
    old_pythons = next(
        (
            line[len(CI_PYTHON) :].split()
            for line in text.splitlines()
            if line.startswith(CI_PYTHON)
        ),
        [],
    )
    new_pythons = ci_pythons(wanted_pythons, lookups, old_pythons)
    if new_pythons != old_pythons:
        changes.append(
            Change("current.txt", "ci-python", " ".join(old_pythons) or "-", " ".join(new_pythons))
        )
    if new_pythons:
        lines.append(f"{CI_PYTHON} {' '.join(new_pythons)}")
    return "\n".join(lines) + "\n", changes


def ci_pythons(wanted: Sequence[str], lookups: Lookups, old: Sequence[str]) -> List[str]:
    """The newest patch of each wanted X.Y CI can install (a prerelease only where no final
    exists, as setup-python's allow-prereleases does); the old entry where none is listed or
    the list cannot be read (one line on stderr says so)."""
    try:
        available = lookups.pythons()
    except OrmGcError as exc:
        print(f"pins: keeping the ci-python line: {exc}", file=sys.stderr)
        return list(old)
    chosen = []
    for minor in wanted:
        mine = [v for v in available if v.startswith(f"{minor}.")]
        final = [v for v in mine if _RELEASE.match(v)]
        previous = [v for v in old if v.startswith(f"{minor}.")]
        if final:
            chosen.append(max(final, key=_key))
        elif mine:
            chosen.append(sorted(mine)[-1])
        elif previous:
            chosen.append(previous[0])
    return chosen


def refresh_asv_matrix(text: str, lookups: Lookups) -> Tuple[str, List[Change]]:
    """asv.conf.json with each ``req`` version in its matrix moved within its series."""
    changes: List[Change] = []

    def line_fix(match: re.Match) -> str:
        name, versions = match["name"], match["versions"]

        def bump(found: re.Match) -> str:
            old = found[1]
            new = newest_in_series(old, lookups.releases(name))
            if new != old:
                changes.append(Change("asv.conf.json", name, old, new))
            return f'"{new}"'

        bumped = re.sub(r'"([0-9][0-9.]*)"', bump, versions)
        return f'"{name}": [{bumped}]'

    start = text.find('"req"')
    if start < 0:
        return text, changes
    end = text.find("}", start)
    block = re.sub(r'"(?P<name>[^"]+)":\s*\[(?P<versions>[^\]]*)\]', line_fix, text[start:end])
    return text[:start] + block + text[end:], changes


def refresh(
    root: Path, wanted_pythons: Sequence[str], lookups: Lookups = REAL, dry_run: bool = False
) -> List[Change]:
    """Refresh the pins and asv's matrix under ``root``; write unless ``dry_run``."""
    pins_path = root / "ormgc" / "profiles" / "current.txt"
    conf_path = root / "asv.conf.json"
    try:
        pins_text, conf_text = pins_path.read_text(), conf_path.read_text()
    except OSError as exc:
        raise OrmGcError(f"cannot read {exc.filename}: {exc.strerror}") from None
    known: Dict[str, List[str]] = {}  # one lookup per package (pip index is slow)
    asked = lookups

    def releases(name: str) -> List[str]:
        if name not in known:
            known[name] = asked.releases(name)
        return known[name]

    lookups = Lookups(releases, asked.pythons)
    new_pins, changes = refresh_pins(pins_text, wanted_pythons, lookups)
    new_conf, conf_changes = refresh_asv_matrix(conf_text, lookups)
    changes += conf_changes
    if not dry_run:
        for path, old, new in ((pins_path, pins_text, new_pins), (conf_path, conf_text, new_conf)):
            if new != old:
                write_atomic(path, lambda out, new=new: out.write(new))
    return changes


def describe(changes: Sequence[Change], dry_run: bool) -> str:
    verb = "would change" if dry_run else "changed"
    if not changes:
        return "pins: every pin is the newest of its series; nothing to change"
    lines = [f"{change.file}: {change.name} {change.old} -> {change.new}" for change in changes]
    return "\n".join(lines + [f"pins: {verb} {len(changes)} pin(s)"])


def commit_message(changes: Sequence[Change]) -> Optional[str]:
    """The refresh commit's subject: what moved (a graph's step names its commit)."""
    if not changes:
        return None
    moved = sorted({f"{c.name} {c.new}" for c in changes})
    return "pins: " + ", ".join(moved)
