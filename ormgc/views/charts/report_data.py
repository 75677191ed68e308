"""What ``ormgc report`` reads from a results folder, checked; each kind may be missing.

``pyperf/<machine>/<X.Y>.json`` (times) and ``<X.Y>.probe.json`` (GC counts, pauses),
``thresholds/<X.Y>.json`` (the threshold sweep), ``scaling/*.json`` (result sizes; and
``overhead-<orm>.json`` from scripts/bench_scaling_overhead.py), ``seed/vm.json`` (beside the
published figures), records of the exact (``exact/``) and paired (``paired/``) modes and the
memory runs (``memory/``, scripts/memory_results.sh) where present. A file that is there but
unreadable stops the report with one line naming it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Sequence, Tuple

from ormgc.errors import OrmGcError, UsageError

Record = Dict[str, Any]
_VERSION_FILE = re.compile(r"(3\.\d+t?)\.json\Z")
_PROBE_FILE = re.compile(r"(3\.\d+t?)\.probe\.json\Z")
_RECORD_KEYS = ("python", "orm", "shape", "policy", "rows", "loaded", "collections_total")


def version_key(python: str) -> Tuple[int, int, str]:
    """Sort key of '3.9', '3.13', '3.13t', '3.11.7' (the minor version as a number)."""
    parts = python.rstrip("t").split(".")
    return int(parts[0]), int(parts[1]), "t" if python.endswith("t") else ""


def _file_key(name: str) -> Tuple:
    """Version-named files in version order (3.9 before 3.10), others by name."""
    match = re.match(r"(3\.\d+t?)\b", name)
    return (0, version_key(match.group(1)), name) if match else (1, (0, 0, ""), name)


def minor(python: str) -> str:
    """'3.11.7' -> '3.11' (free-threaded builds keep their 't')."""
    parts = python.split(".")
    return ".".join(parts[:2])


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise OrmGcError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise OrmGcError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None


def read_records(path: Path, needed: Sequence[str] = _RECORD_KEYS) -> List[Record]:
    """A JSON list of ``ormgc run`` records; OrmGcError naming the file if it is not one."""
    data = read_json(path)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise OrmGcError(f"{path} is not a list of ormgc records")
    for record in data:
        missing = [key for key in needed if key not in record]
        if missing:
            raise OrmGcError(f"{path}: a record has no {', '.join(missing)}")
    return data


class Source(NamedTuple):
    """Records of one kind, with the files they came from."""

    records: List[Record]
    files: List[Path]


class Timing(NamedTuple):
    """pyperf values (seconds per query) of one benchmark under one Python."""

    python: str
    orm: str
    shape: str
    policy: str
    values: List[float]
    timer: str  # "cpu" or "wall"


class ResultSet(NamedTuple):
    root: Path
    machine: str  # the pyperf machine folder ("" if none)
    probes: Source  # per-version records of the pyperf matrix
    timings: List[Timing]
    timing_files: List[Path]
    thresholds: Source
    scaling: Source
    overheads: List[Record]  # scripts/bench_scaling_overhead.py --json, one per ORM
    overhead_files: List[Path]
    seed: Source
    exact: Source
    paired: Source
    memory: Source  # request loops' rss_timeline and prefork's per-worker memory
    thresholds_exact: Source = Source([], [])  # nox -s thresholds-exact: the curve in instructions
    served: Source = Source([], [])  # scripts/served_results.sh: gunicorn under wrk

    def rel(self, paths: Sequence[Path]) -> str:
        """Paths as the caption names them: relative to the results folder's parent."""
        base = self.root.resolve().parent
        folders: Dict[str, List[str]] = {}
        for path in paths:
            try:
                shown = path.resolve().relative_to(base)
            except ValueError:
                shown = path
            folders.setdefault(str(shown.parent), []).append(shown.name)
        parts = []
        for folder, names in folders.items():
            names = sorted(names, key=_file_key)
            stems = [re.match(r"3\.\d+t?", name) for name in names]
            tails = {name[stem.end() :] for name, stem in zip(names, stems) if stem}
            if len(names) > 1 and all(stems) and len(tails) == 1:  # {3.9, 3.10}.probe.json
                listed = "{" + ", ".join(stem.group(0) for stem in stems) + "}" + tails.pop()
            else:
                listed = names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"
            parts.append(f"{folder}/{listed}")
        return "; ".join(parts)


def _pick_machine(pyperf_root: Path) -> str:
    if not pyperf_root.is_dir():
        return ""
    counts = {
        folder.name: len(list(folder.glob("*.probe.json")))
        for folder in sorted(pyperf_root.iterdir())
        if folder.is_dir()
    }
    return max(counts, key=lambda name: counts[name]) if counts else ""


def _timings(folder: Path) -> Tuple[List[Timing], List[Path]]:
    from ormgc.views.compare.compare import load_result  # pyperf's own loader, checked

    timings, files = [], []
    paths = [path for path in sorted(folder.glob("*.json")) if _VERSION_FILE.match(path.name)]
    for path in paths:
        python = _VERSION_FILE.match(path.name).group(1)
        result = load_result(path, python)
        files.append(path)
        for (orm, shape, policy), bench in result.benches.items():
            timer = str(bench.get_metadata().get("ormgc_timer", "cpu"))
            timings.append(Timing(python, orm, shape, policy, list(bench.get_values()), timer))
    return timings, files


def _source(paths: Sequence[Path], needed: Sequence[str] = _RECORD_KEYS) -> Source:
    records: List[Record] = []
    for path in paths:
        records.extend(read_records(path, needed))
    return Source(records, list(paths))


def _with_key(paths: Sequence[Path], key: str, needed: Sequence[str] = ()) -> Source:
    """Record files anywhere under a folder, keeping only records that carry ``key`` (each of
    which must carry ``needed`` too: else one line naming the file)."""
    records, files = [], []
    for path in paths:
        data = read_json(path)
        if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
            kept = [record for record in data if key in record and "policy" in record]
            for record in kept:
                missing = [name for name in needed if name not in record]
                if missing:
                    raise OrmGcError(f"{path}: a record has no {', '.join(missing)}")
            if kept:
                records.extend(kept)
                files.append(path)
    return Source(records, files)


INPUTS = ("pyperf", "thresholds", "scaling", "seed", "exact", "paired", "memory")


def inputs(root: Path) -> List[Path]:
    """The folders of ``root`` the report reads (it may not be written inside them)."""
    return [root / kind for kind in INPUTS]


def load(root: Path) -> ResultSet:
    """Read every kind of result the report draws from ``root`` (the results folder)."""
    if not root.is_dir():
        raise UsageError(f"no results folder {root}")
    machine = _pick_machine(root / "pyperf")
    folder = root / "pyperf" / machine
    probe_files = sorted(folder.glob("*.probe.json")) if machine else []
    timings, timing_files = _timings(folder) if machine else ([], [])
    scaling = sorted((root / "scaling").glob("*.json"))
    overhead_files = [path for path in scaling if path.name.startswith("overhead")]
    overheads = [read_json(path) for path in overhead_files]
    for path, overhead in zip(overhead_files, overheads):
        if not (isinstance(overhead, dict) and isinstance(overhead.get("sizes"), list)):
            raise OrmGcError(f"{path} is not what scripts/bench_scaling_overhead.py writes")
    seed_file = root / "seed" / "vm.json"
    return ResultSet(
        root=root,
        machine=machine,
        probes=_source([p for p in probe_files if _PROBE_FILE.match(p.name)]),
        timings=timings,
        timing_files=timing_files,
        thresholds=_source(sorted((root / "thresholds").glob("*.json"))),
        scaling=_source([path for path in scaling if path not in overhead_files]),
        overheads=overheads,
        overhead_files=overhead_files,
        seed=_source([seed_file] if seed_file.exists() else []),
        exact=_with_key(
            sorted((root / "exact").rglob("*.json")), "gc_share", ("python", "instructions")
        ),
        paired=_with_key(sorted((root / "paired").rglob("*.json")), "cpu_vs_baseline"),
        memory=_with_key(sorted((root / "memory").rglob("*.json")), "rss_timeline"),
        thresholds_exact=_with_key(
            sorted((root / "thresholds" / "exact").glob("*.json")), "instructions"
        ),
        served=_with_key(sorted((root / "served").glob("*.json")), "latency_ms"),
    )


def machines(records: Sequence[Record]) -> str:
    """The machine(s) named by the records, for a caption."""
    names = sorted({str(record.get("machine", "unknown machine")) for record in records})
    return "; ".join(names) if names else "unknown machine"
