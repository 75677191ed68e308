"""What libraries each Python version's results ran with, and where neighbours differ.

The pins (``ormgc_pins``) must agree between versions except for the packages
``ormgc/profiles/current.txt`` pins per Python version with an environment marker; the
libraries a version ran (ORM and driver, compiled or pure Python, the SQLite that came with the
interpreter) are listed where a column differs from the one to its left.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ormgc.errors import OrmGcError
from ormgc.runs.envs import pinned_per_version

VersionResult = Any  # ormgc.views.compare.compare.VersionResult (python, path, benches, metadata)
_PIN_KEYS = ("ormgc_pins", "ormgc_pins_per_python")


def pins_of(result: VersionResult) -> Dict[str, str]:
    """Package -> version the result ran with: its ``ormgc_pins`` metadata, and the
    ``ormgc_pins_per_python`` that results written before the two were merged carry."""
    pins = " ".join(str(result.metadata.get(key, "")) for key in _PIN_KEYS)
    pairs = (pin.split("==", 1) for pin in pins.split())
    return {name: version for name, version in pairs}


def check_pins(first: VersionResult, other: VersionResult) -> None:
    """OrmGcError unless the two ran the same pins, but for those pinned per Python version."""
    per_version = set(pinned_per_version())
    ours, theirs = pins_of(first), pins_of(other)
    differ = sorted(
        name
        for name in set(ours) | set(theirs)
        if ours.get(name) != theirs.get(name) and name not in per_version
    )
    if differ:
        name = differ[0]
        raise OrmGcError(
            f"Python {first.python} and {other.python} results differ in ormgc_pins "
            f"({name} {ours.get(name, 'missing')} vs {theirs.get(name, 'missing')}): "
            "re-run them alike"
        )


def libraries(result: VersionResult) -> Dict[str, str]:
    """ORM -> "sqlalchemy 2.0.58 (c-extension) on sqlite3 3.40.1" as this version ran it."""
    libraries = {}
    for bench in result.benches.values():
        meta = bench.get_metadata()
        speedups = f" ({meta['orm_speedups']})" if meta.get("orm_speedups") else ""
        impl = f" ({meta['driver_impl']})" if meta.get("driver_impl") else ""
        libraries[str(meta.get("ormgc_orm", "?"))] = (
            f"{meta.get('ormgc_orm', '?')} {meta.get('orm_version', '?')}{speedups} on "
            f"{meta.get('driver', '?')} {meta.get('driver_version', '?')}{impl}"
        )
    return libraries


_LIBRARY_FIELDS = ("orm_version", "orm_speedups", "driver_version", "driver_impl")


def _library_fields(result: VersionResult) -> Dict[Tuple[str, str], str]:
    """("sqlalchemy/sqlite3", field) -> value: what a version's ORMs and drivers ran as; a
    driver's version only where no pin says it (the SQLite library comes with the Python)."""
    fields = {}
    pinned = {name.lower() for name in pins_of(result)}
    for bench in result.benches.values():
        meta = bench.get_metadata()
        where = f"{meta.get('ormgc_orm', '?')}/{meta.get('driver', '?')}"
        for field in _LIBRARY_FIELDS:
            if meta.get(field) and not (field == "driver_version" and meta["driver"] in pinned):
                fields[(where, field)] = str(meta[field])
    return fields


def library_changes(loaded: List[VersionResult]) -> List[str]:
    """Where a column ran other libraries than the one to its left: per-version pins, the
    SQLite library, and ORMs or drivers with or without their compiled speedups (a field an
    older result did not record is not a change)."""
    lines = []
    for older, newer in zip(loaded, loaded[1:]):
        before, after = pins_of(older), pins_of(newer)
        changes = [
            f"{name} {before.get(name, 'none')} -> {after.get(name, 'none')}"
            for name in sorted(set(before) | set(after), key=str.lower)
            if before.get(name) != after.get(name)
        ]
        old_fields, new_fields = _library_fields(older), _library_fields(newer)
        changes += [
            f"{where} {field.replace('_', ' ')} {old_fields[(where, field)]} -> {value}"
            for (where, field), value in new_fields.items()
            if old_fields.get((where, field), value) != value
        ]
        if changes:
            lines.append(f"- Python {newer.python} vs {older.python}: {'; '.join(changes)}")
    return lines


def common_pins(loaded: List[VersionResult]) -> str:
    every = [pins_of(result) for result in loaded]
    common = [
        f"{name}=={version}"
        for name, version in every[0].items()
        if all(pins.get(name) == version for pins in every)
    ]
    per_version = sorted(
        {name for pins in every for name in pins} - {pin.split("==")[0] for pin in common}
    )
    mixed = f" (per Python version: {', '.join(per_version)})" if per_version else ""
    return " ".join(common) + mixed


def changes_section(loaded: List[VersionResult]) -> List[str]:
    changes = library_changes(loaded)
    if not changes:
        return []
    return ["Libraries that differ from the column to the left:", "", *changes, ""]
