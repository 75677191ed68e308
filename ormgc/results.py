"""Result files, written whole or not at all; where matrix results live:
``results/pyperf/<machine>/<python>.json`` and its probe records; shards (one runner's
results folder each, one Python or more) merged into one such folder.

The pyperf file is in pyperf's own format (``pyperf compare_to`` reads it); the probe records
(``<python>.probe.json``, as ``ormgc run --json`` writes them) sit beside it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Sequence, TextIO

from ormgc.errors import UsageError

DEFAULT_RESULTS = Path("results") / "pyperf"
MACHINE_ENV = "ORMGC_MACHINE"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ResultFiles(NamedTuple):
    """The two files one Python version's bench writes."""

    pyperf: Path
    probe: Path


def python_label() -> str:
    """This interpreter as results name it: ``3.12``, or ``3.13t`` for a free-threaded build."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    major, minor = sys.version_info[:2]
    return f"{major}.{minor}{'t' if free_threaded else ''}"


def machine_name(given: str = "") -> str:
    """The machine's folder name: ``given``, else $ORMGC_MACHINE, else the host name."""
    name = given or os.environ.get(MACHINE_ENV) or platform.node() or "unknown"
    return _UNSAFE.sub("_", name).strip("._") or "unknown"


def result_files(results: Path, machine: str, python: str) -> ResultFiles:
    folder = results / machine
    return ResultFiles(folder / f"{python}.json", folder / f"{python}.probe.json")


def write_atomic(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write ``path`` through a temp file and a rename: whole or not at all, never partial."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            write(out)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _records(text: str) -> bool:
    data = _json(text)
    return isinstance(data, list) and all(isinstance(r, dict) and "policy" in r for r in data)


def _json_with(*keys: str) -> Callable[[str], bool]:
    return lambda text: isinstance(data := _json(text), dict) and all(k in data for k in keys)


# What each kind of file ormgc writes looks like: only such a file is replaced (check_writable).
KINDS: Dict[str, Callable[[str], bool]] = {
    "records": _records,  # ormgc run --json, <python>.probe.json
    "advice": _json_with("records", "recommended"),  # ormgc advise --json
    "pyperf": _json_with("benchmarks"),  # <python>.json, pyperf's format
    "comparison": lambda text: text.startswith("# GC cost across Python versions"),
    "overhead": _json_with("sizes"),  # scripts/bench_scaling_overhead.py
}


def check_writable(path: Path, kind: str) -> None:
    """Fail before any work if ``path`` cannot be written (so nothing is half-done), or if it
    holds something other than the ``kind`` of file ormgc writes there (never replaced)."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"refusing to replace {path}: not a plain file")
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        if text is None or (text.strip() and not KINDS[kind](text)):
            raise UsageError(
                f"refusing to replace {path}: not an ormgc {kind} file "
                "(remove it or choose another name)"
            )
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: no directory {parent}")
    try:  # the real test: permissions alone say little to root or on special file systems
        handle, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    os.close(handle)
    os.unlink(probe)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON, whole or not at all (``write_atomic``)."""

    def dump(out: TextIO) -> None:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")

    write_atomic(path, dump)


class ShardFile(NamedTuple):
    """One file of a shard (one runner's results folder) and where the merge puts it."""

    python: str
    source: Path
    target: Path


_SHARD_FILE = re.compile(r"(3\.\d+t?)(\.probe)?\.json\Z")


def plan_merge(shards: Sequence[Path], results: Path, machine: str) -> List[ShardFile]:
    """What merging ``shards`` into ``results/<machine>/`` copies; UsageError, before anything
    is copied, if a shard is empty, the shards come from several machines and none is given,
    two shards hold one Python (even alike: one runner per Python), or a file already there
    differs. What the files hold is checked by ormgc.views.compare.merge_check."""
    found: Dict[str, List[Path]] = {}
    holder: Dict[str, Path] = {}  # Python -> the shard holding it
    for shard in shards:
        folders = (
            [path for path in sorted(shard.glob("*")) if path.is_dir()] if shard.is_dir() else []
        )
        files = [path for folder in folders for path in folder.glob("*.json")
                 if _SHARD_FILE.match(path.name)]  # fmt: skip
        if not files:
            raise UsageError(f"no results in shard {shard} (expected <machine>/3.X.json)")
        for path in files:
            python = _SHARD_FILE.match(path.name).group(1)  # files matched it above
            if holder.setdefault(python, shard) != shard:
                raise UsageError(f"two shards hold Python {python}: {holder[python]}, {shard}")
            found.setdefault(path.parent.name, []).append(path)
    if not machine and len(found) > 1:
        names = ", ".join(sorted(found))
        raise UsageError(f"the shards come from machines {names}: name one with --machine")
    machine = machine or next(iter(found))
    planned: Dict[Path, ShardFile] = {}
    for path in (path for paths in found.values() for path in paths):
        target = results / machine / path.name
        match = _SHARD_FILE.match(path.name)
        assert match is not None
        earlier = planned.get(target)
        if earlier is not None:  # one shard, two machine folders
            raise UsageError(f"two folders hold Python {match.group(1)}: {earlier.source}, {path}")
        if target.exists() and target.read_bytes() != path.read_bytes():
            raise UsageError(f"{target} exists and differs from {path}: merge into a new folder")
        planned[target] = ShardFile(match.group(1), path, target)
    return sorted(planned.values(), key=lambda item: item.target.name)


def copy_merged(plan: Sequence[ShardFile]) -> None:
    """Copy what ``plan_merge`` planned, each file whole or not at all."""
    for item in plan:
        item.target.parent.mkdir(parents=True, exist_ok=True)
        text = item.source.read_text(encoding="utf-8")
        write_atomic(item.target, lambda out, text=text: out.write(text))
