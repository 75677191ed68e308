"""``ormgc/profiles/releases.json``: the library releases the asv history measures.

One *series* per library line (SQLAlchemy 2.0.*, Django 4.2.*, ...): its package, the ORM it
stands for, the Pythons it is measured on, and its releases, each with the date PyPI first
served it. A release's commit pins that version (and what ``with`` moves along with it, e.g.
the pymongo an old MongoEngine needs); every other pin is the ``base`` commit's. Picked evenly
from PyPI by ``ormgc pins --add-range``, appended to by ``ormgc pins --refresh``. The PyPI
lookup is injected (``Lookup``) so tests run without a network.
"""

from __future__ import annotations

import fnmatch
import json
import re
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ormgc.errors import OrmGcError

SPEC = Path(__file__).resolve().parent.parent / "profiles" / "releases.json"
PYPI_JSON = "https://pypi.org/pypi/{package}/json"
# The ORMs the asv suite has a module for, by the PyPI package that is the ORM.
ORM_OF_PACKAGE = {"sqlalchemy": "sqlalchemy", "django": "django", "mongoengine": "mongoengine"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,40}$")
_FINAL = re.compile(r"^\d+(\.\d+){1,3}$")  # final releases only: no a/b/rc/dev/post
_SHA = re.compile(r"^[0-9a-f]{40}$")


class Published(NamedTuple):
    """What PyPI says of one release: its first upload, the CPython tags it has wheels for."""

    date: str  # ISO 8601 UTC
    wheels: Tuple[str, ...]  # ("cp39", "cp312", ...): other Pythons build it from source


# PyPI's JSON -> {final version: Published}
Lookup = Callable[[str], Dict[str, Published]]


@dataclass(frozen=True)
class Release:
    version: str
    date: str  # ISO 8601, UTC: "2023-01-26T18:31:02Z"
    pins: Dict[str, str] = field(default_factory=dict)  # the ``with`` pins of this release
    wheels: Tuple[str, ...] = ()  # CPython tags with a wheel on PyPI (others: built, or pure)


@dataclass(frozen=True)
class Series:
    name: str  # "sqlalchemy-2.0": the branch is pins-history-<name>
    package: str  # as pinned: "SQLAlchemy"
    orm: str  # the asv module: bench_<orm>
    match: str  # the releases it covers, a glob on the version: "2.0.*"
    pythons: Tuple[str, ...]
    releases: Tuple[Release, ...]
    with_rules: Tuple[Tuple[str, Dict[str, str]], ...] = ()  # (version glob, pins), first wins

    @property
    def branch(self) -> str:
        return f"pins-history-{self.name}"

    def pins_for(self, version: str) -> Dict[str, str]:
        for glob, pins in self.with_rules:
            if fnmatch.fnmatchcase(version, glob):
                return dict(pins)
        return {}


@dataclass(frozen=True)
class Ranges:
    base: str  # the main commit whose tree every generated commit starts from
    rows: int  # dataset size measured (a fifth loaded)
    series: Tuple[Series, ...]

    def named(self, name: str) -> Series:
        for one in self.series:
            if one.name == name:
                return one
        known = ", ".join(one.name for one in self.series) or "none"
        raise OrmGcError(f"no release series {name!r} in {SPEC.name} (known: {known})")


def version_key(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _fail(where: str, why: str) -> OrmGcError:
    return OrmGcError(f"{where}: {why}")


def _parse_release(where: str, raw: Any) -> Release:
    if not isinstance(raw, dict) or set(raw) - {"version", "date", "with", "wheels"}:
        raise _fail(where, "a release is {version, date[, with, wheels]}")
    version, date = raw.get("version"), raw.get("date")
    if not isinstance(version, str) or not _FINAL.match(version):
        raise _fail(where, f"version {version!r} is not a final release number")
    try:
        datetime.strptime(str(date), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise _fail(where, f"date {date!r} is not YYYY-MM-DDTHH:MM:SSZ") from None
    wheels = raw.get("wheels", [])
    if not isinstance(wheels, list) or not all(re.match(r"^cp3\d+$", str(w)) for w in wheels):
        raise _fail(where, f"wheels {wheels!r} is not a list of tags like cp312")
    return Release(version, date, _parse_pins(where, raw.get("with", {})), tuple(wheels))


def _parse_pins(where: str, raw: Any) -> Dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str)
        and re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", k)
        and isinstance(v, str)
        and _FINAL.match(v)
        for k, v in raw.items()
    ):
        raise _fail(where, f"'with' must map package names to final versions, not {raw!r}")
    return dict(raw)


def parse(data: Any, supported: Sequence[str]) -> Ranges:
    """The ranges from the file's JSON; OrmGcError naming the first thing wrong."""
    if not isinstance(data, dict) or set(data) - {"comment", "base", "rows", "series"}:
        raise _fail(SPEC.name, "expected {comment, base, rows, series}")
    base, rows = data.get("base"), data.get("rows")
    if not isinstance(base, str) or not _SHA.match(base):
        raise _fail(SPEC.name, f"base {base!r} is not a full commit hash")
    if not isinstance(rows, int) or isinstance(rows, bool) or not 5 <= rows <= 10_000_000:
        raise _fail(SPEC.name, f"rows {rows!r} is not a whole number from 5 to 10,000,000")
    series, names = [], set()
    for index, raw in enumerate(data.get("series") or []):
        where = f"{SPEC.name}: series {index + 1}"
        if not isinstance(raw, dict):
            raise _fail(where, "a series is an object")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name in names:
            raise _fail(where, f"name {name!r} is not a new lowercase name ([a-z0-9.-])")
        names.add(name)
        orm = raw.get("orm")
        if orm not in ORM_OF_PACKAGE.values():
            raise _fail(where, f"orm {orm!r} is not one of {', '.join(ORM_OF_PACKAGE)}")
        pythons = raw.get("pythons")
        if not isinstance(pythons, list) or not pythons or set(pythons) - set(supported):
            raise _fail(where, f"pythons {pythons!r}: a list from {', '.join(supported)}")
        rules = []
        for rule in raw.get("with_rules", []):
            if not (isinstance(rule, list) and len(rule) == 2 and isinstance(rule[0], str)):
                raise _fail(where, "with_rules holds [version glob, {package: version}] pairs")
            rules.append((rule[0], _parse_pins(where, rule[1])))
        releases = tuple(
            _parse_release(f"{where}, release {k + 1}", item)
            for k, item in enumerate(raw.get("releases") or [])
        )
        versions = [version_key(release.version) for release in releases]
        if versions != sorted(set(versions)):
            raise _fail(where, "releases must be in ascending version order, each once")
        series.append(
            Series(
                name,
                str(raw.get("package")),
                orm,
                str(raw.get("match")),
                tuple(pythons),
                releases,
                tuple(rules),
            )
        )
    return Ranges(base, rows, tuple(series))


def load(path: Optional[Path] = None, supported: Sequence[str] = ()) -> Ranges:
    """The ranges file (``SPEC`` unless ``path``), validated."""
    from ormgc.runs.pythons import SUPPORTED  # late: the history needs no interpreters

    path = path or SPEC
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OrmGcError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise OrmGcError(f"{path}: not JSON ({exc})") from None
    return parse(data, supported or SUPPORTED)


def dump(ranges: Ranges, comment: str) -> str:
    def release(item: Release) -> Dict[str, Any]:
        out: Dict[str, Any] = {"version": item.version, "date": item.date}
        if item.pins:
            out["with"] = item.pins
        out["wheels"] = list(item.wheels)
        return out

    data = {
        "comment": comment,
        "base": ranges.base,
        "rows": ranges.rows,
        "series": [
            {
                "name": one.name,
                "package": one.package,
                "orm": one.orm,
                "match": one.match,
                "pythons": list(one.pythons),
                **({"with_rules": [[g, p] for g, p in one.with_rules]} if one.with_rules else {}),
                "releases": [release(item) for item in one.releases],
            }
            for one in ranges.series
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def pypi_releases(package: str) -> Dict[str, Published]:
    """{final version: first upload, wheel tags} of ``package`` on PyPI (its JSON API)."""
    url = PYPI_JSON.format(package=package)
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (fixed https URL)
            data = json.load(answer)
    except (OSError, ValueError) as exc:
        raise OrmGcError(f"cannot read {package}'s releases from PyPI ({exc})") from None
    found = {}
    for version, files in (data.get("releases") or {}).items():
        live = [f for f in files or [] if not f.get("yanked")]
        if _FINAL.match(version) and live:
            first = min(f["upload_time_iso_8601"] for f in live)
            tags = {tag for f in live for tag in re.findall(r"cp3\d+", f.get("filename", ""))}
            found[version] = Published(first[:19] + "Z", tuple(sorted(tags, key=_tag_key)))
    return found


def _tag_key(tag: str) -> int:
    return int(tag[3:])


def _release(version: str, published: Published, series: Series) -> Release:
    return Release(version, published.date, series.pins_for(version), published.wheels)


def pick(versions: Sequence[str], count: int, per_minor: bool = False) -> List[str]:
    """``count`` versions spread evenly from the first to the newest (both kept); with
    ``per_minor`` the newest patch of each minor instead."""
    ordered = sorted(set(versions), key=version_key)
    if per_minor:
        newest: Dict[Tuple[int, ...], str] = {}
        for version in ordered:
            newest[version_key(version)[:2]] = version
        return list(newest.values())
    if count >= len(ordered):
        return ordered
    if count < 2:
        return ordered[-1:]
    return [ordered[round(k * (len(ordered) - 1) / (count - 1))] for k in range(count)]


def add_range(
    ranges: Ranges,
    package: str,
    match: str,
    count: int,
    pythons: Sequence[str],
    lookup: Lookup,
    per_minor: bool = False,
    with_rules: Sequence[Tuple[str, Dict]] = (),
) -> Tuple[Ranges, Series]:
    """``ranges`` with a new series: ``count`` releases of ``package`` matching ``match``."""
    orm = ORM_OF_PACKAGE.get(package.lower())
    if orm is None:
        raise OrmGcError(f"{package}: the asv suite measures {', '.join(ORM_OF_PACKAGE)} only")
    name = f"{package.lower()}-{match.rstrip('.*').rstrip('.') or match}"
    if not _NAME.match(name):
        raise OrmGcError(f"{match!r} gives no series name ([a-z0-9.-]): use a glob like '2.1.*'")
    if any(one.name == name for one in ranges.series):
        raise OrmGcError(f"series {name} is already in {SPEC.name}")
    available = lookup(package)
    matching = [v for v in available if fnmatch.fnmatchcase(v, match)]
    if not matching:
        raise OrmGcError(f"no final release of {package} on PyPI matches {match!r}")
    series = Series(name, package, orm, match, tuple(pythons), (), tuple(with_rules))
    chosen = pick(matching, count, per_minor)
    releases = tuple(_release(v, available[v], series) for v in chosen)
    series = replace(series, releases=releases)
    return replace(ranges, series=ranges.series + (series,)), series


def append_newest(ranges: Ranges, lookup: Lookup) -> Tuple[Ranges, List[Tuple[str, str]]]:
    """Each series with PyPI's newest matching release appended when newer than its last:
    the next point of the history (``ormgc pins --refresh``). Returns (name, version) added."""
    added, updated = [], []
    for one in ranges.series:
        available = lookup(one.package)
        matching = [v for v in available if fnmatch.fnmatchcase(v, one.match)]
        last = one.releases[-1].version if one.releases else None
        newest = max(matching, key=version_key) if matching else None
        if newest and (last is None or version_key(newest) > version_key(last)):
            release = _release(newest, available[newest], one)
            one = replace(one, releases=one.releases + (release,))
            added.append((one.name, newest))
        updated.append(one)
    return replace(ranges, series=tuple(updated)), added
