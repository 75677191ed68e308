"""``ormgc compare --merge``: every file of every shard checked before one is copied.

A shard's file is merged only if it reads as what the matrix wrote: the pyperf file as
``ormgc compare`` loads it, the probe records as the report reads them, each holding the Python
its name says (a ``3.12.json`` measured under 3.13 would put 3.13's figures in 3.12's column),
and the shards' pyperf files comparable with each other (same dataset, same pins). A bad file
stops the merge with one line naming it, so the results folder is never left half-merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

from ormgc.errors import OrmGcError
from ormgc.results import ShardFile
from ormgc.views.charts.report_data import minor, read_records
from ormgc.views.compare.compare import (
    RESULT_NAME,
    VersionResult,
    check_comparable,
    load_result,
)


def _measured(python: str) -> str:
    """'3.12.1 (64-bit)' or '3.12.1' -> '3.12', the minor version a file's name carries."""
    return minor(python.split(" ")[0].strip())


def _check_python(path: Path, named: str, measured: str) -> None:
    if _measured(measured) != named.rstrip("t"):
        raise OrmGcError(f"{path} holds Python {measured} but its name says {named}: not merged")


def check_probe_file(item: ShardFile) -> None:
    """The probe records: a JSON list of ``ormgc run`` records, all of the file's Python."""
    records = read_records(item.source)
    if not records:
        raise OrmGcError(f"{item.source} holds no records: not merged")
    for record in records:
        _check_python(item.source, item.python, str(record["python"]))
        free_threaded = record.get("python_build") == "free-threaded"
        if free_threaded != item.python.endswith("t"):
            build = record.get("python_build", "unknown")
            raise OrmGcError(f"{item.source} holds a {build} build's records: not merged")


def check_pyperf_file(item: ShardFile) -> VersionResult:
    """The pyperf file, loaded as ``ormgc compare`` loads it, of the file's Python."""
    loaded = load_result(item.source, item.python)
    versions = {
        str(bench.get_metadata().get("python_version", "")) for bench in loaded.benches.values()
    }
    if not versions or "" in versions:
        raise OrmGcError(f"{item.source} does not say which Python it measured: not merged")
    for version in sorted(versions):
        _check_python(item.source, item.python, version)
    return loaded


def check_merge(plan: Sequence[ShardFile]) -> None:
    """OrmGcError in one line, before anything is copied, if any planned file is bad or the
    pyperf files the folder would then hold (the shards' and those there) cannot be compared."""
    loaded: List[VersionResult] = []
    for item in plan:
        if item.source.name.endswith(".probe.json"):
            check_probe_file(item)
        else:
            loaded.append(check_pyperf_file(item))
    planned = {item.target for item in plan}
    folder = plan[0].target.parent
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        there = RESULT_NAME.match(path.name)
        if there and path not in planned:
            loaded.append(load_result(path, there.group(1)))
    if loaded:
        check_comparable(loaded)
