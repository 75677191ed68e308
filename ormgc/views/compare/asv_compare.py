"""asv's result files, read back: one benchmark with every Python version side by side.

asv's own ``compare`` puts two commits side by side, not two interpreters (asv issue #370).
This reads ``results/asv/<machine>/<commit>-<env>.json`` (result format 2) directly, so the
``ormgc`` command does not need asv installed.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ormgc.errors import UsageError
from ormgc.views.tables.table import grid

RESULT_FORMAT = 2
_MACHINE_FILES = ("machine.json",)


class EnvResult(NamedTuple):
    """One benchmark's values from one result file (one commit in one environment)."""

    python: str
    commit: str
    date: int
    values: Dict[Tuple[str, ...], Optional[float]]  # parameter combination -> value


def _read_json(path: Path) -> Dict[str, Any]:
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read asv result {path}: {exc}") from None


def _param_text(value: str) -> str:
    """asv stores parameters as repr() strings: "'sqlite'" -> "sqlite"."""
    try:
        return str(ast.literal_eval(value))
    except (ValueError, SyntaxError):
        return value


def python_key(version: str) -> Tuple[int, ...]:
    """Sort key of "3.9", "3.13", "3.13t", "3.14.4": numerically, free-threaded after its base,
    an exact release ("3.14.4", the workflow's last incremental-GC one) before the newest of
    its line ("3.14")."""
    numbers = [int(part) for part in re.findall(r"\d+", version)]
    newest = 10**6  # a bare "3.14" is whichever patch release is newest
    return (*numbers, *[newest] * (3 - len(numbers)), version.endswith("t"))


def _machine_dir(results_dir: Path, machine: Optional[str]) -> Path:
    if not results_dir.is_dir():
        raise UsageError(f"no asv results in {results_dir}: run './dev asv run' first")
    machines = sorted(path.parent.name for path in results_dir.glob("*/machine.json"))
    if machine is not None:
        if machine not in machines:
            raise UsageError(f"no results for machine {machine!r}: have {', '.join(machines)}")
        return results_dir / machine
    if len(machines) != 1:
        listed = ", ".join(machines) or "none"
        raise UsageError(f"choose a machine with --machine (results have: {listed})")
    return results_dir / machines[0]


def _resolve_name(results_dir: Path, name: str) -> Tuple[str, Dict[str, Any]]:
    """The benchmark's full name and description; a unique suffix like 'time_load' will do."""
    index_path = results_dir / "benchmarks.json"
    index = _read_json(index_path) if index_path.exists() else {}
    names = [key for key in index if key != "version"]
    if name in index:
        return name, index[name]
    matches = [key for key in names if key.endswith("." + name)]
    if len(matches) == 1:
        return matches[0], index[matches[0]]
    close = matches or [
        key for key in names if difflib.get_close_matches(name, [key, key.rsplit(".", 1)[-1]])
    ]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown benchmark {name!r} in {index_path}{hint}")


def env_result(path: Path, name: str, data: Optional[Dict[str, Any]] = None) -> Optional[EnvResult]:
    """One benchmark's values in the result file ``path`` (``data``: its JSON, already read)."""
    data = _read_json(path) if data is None else data
    if data.get("version") != RESULT_FORMAT:
        raise UsageError(f"{path}: asv result format {data.get('version')}, expected 2")
    row = data.get("results", {}).get(name)
    if row is None:
        return None
    columns = data["result_columns"]
    results = row[columns.index("result")]
    params = row[columns.index("params")] if "params" in columns else []
    if not params:  # an unparameterized benchmark: one value
        results, params = [results] if not isinstance(results, list) else results, []
    combos = [tuple(_param_text(v) for v in combo) for combo in itertools.product(*params)]
    values = {}
    for combo, value in zip(combos, results):
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        values[combo] = None if missing else float(value)
    # With the library series in asv's matrix a Python has one environment per series: the
    # column names the benchmark's own library (bench_sqlalchemy -> SQLAlchemy) beside it.
    orm = name.split(".")[0][len("bench_") :]
    series = [f"-{lib}{version}" for lib, version in (data.get("requirements") or {}).items()
              if lib.lower() == orm and version]  # fmt: skip
    label = str(data["params"]["python"]) + "".join(series)
    return EnvResult(label, data["commit_hash"], data["date"], values)


def load_comparison(
    results_dir: Path, name: str, machine: Optional[str] = None, commit: Optional[str] = None
) -> Tuple[str, Dict[str, Any], List[EnvResult]]:
    """The benchmark's full name, description and newest result per Python version."""
    machine_dir = _machine_dir(results_dir, machine)
    full_name, description = _resolve_name(results_dir, name)
    newest: Dict[str, EnvResult] = {}
    for path in sorted(machine_dir.glob("*.json")):
        if path.name in _MACHINE_FILES:
            continue
        result = env_result(path, full_name)
        if result is None or (commit and not result.commit.startswith(commit)):
            continue
        if result.python not in newest or result.date > newest[result.python].date:
            newest[result.python] = result
    if not newest:
        which = f" at commit {commit}" if commit else ""
        raise UsageError(f"no results for {full_name}{which} in {machine_dir}")
    ordered = [newest[python] for python in sorted(newest, key=python_key)]
    return full_name, description, ordered


_DOCSTRING = re.compile(r'def \w+\(.*?\).*?:\s*"""(.*?)(?:"""|\n)', re.S)
_SCALES = {"seconds": ("ms", 1e3), "bytes": ("MB", 1 / 2**20)}


def _format(value: Optional[float], scale: float) -> str:
    if value is None:
        return "n/a"
    value *= scale
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def _change(first: Optional[float], last: Optional[float]) -> str:
    if first is None or last is None or first == 0:
        return ""
    return f"{(last / first - 1) * 100:+.0f}%"


def _matches(combo: Sequence[str], names: Sequence[str], wanted: Dict[str, str]) -> bool:
    return all(combo[names.index(key)] == value for key, value in wanted.items())


def format_comparison(
    name: str,
    description: Dict[str, Any],
    results: List[EnvResult],
    wanted: Optional[Dict[str, str]] = None,
) -> str:
    """One row per parameter combination, one column per Python version, oldest first."""
    wanted = wanted or {}
    param_names = list(description.get("param_names", []))
    for key in wanted:
        if key not in param_names:
            raise UsageError(
                f"{name} has no parameter {key!r}: it has {', '.join(param_names) or 'none'}"
            )
    unit_name, scale = _SCALES.get(description.get("unit", ""), (description.get("unit"), 1.0))
    combos: Dict[Tuple[str, ...], None] = {}
    for result in results:
        combos.update(dict.fromkeys(result.values))
    rows = []
    for combo in combos:
        if not _matches(combo, param_names, wanted):
            continue
        values = [result.values.get(combo) for result in results]
        cells = [_format(value, scale) for value in values]
        change = _change(values[0], values[-1]) if len(values) > 1 else ""
        rows.append([*combo, *cells, change])
    if not rows:
        raise UsageError(f"no parameter combination of {name} matches {wanted}")
    pythons = [f"py{result.python}" for result in results]
    last_vs_first = f"{pythons[-1]} vs {pythons[0]}" if len(pythons) > 1 else ""
    header = [*param_names, *pythons, last_vs_first]
    sources = ", ".join(f"py{r.python} @ {r.commit[:8]}" for r in results)
    doc = _DOCSTRING.search(description.get("code", ""))
    title = f"{name} [{unit_name}]" + (f": {doc.group(1).strip()}" if doc else "")
    return f"{title}\nnewest result per Python: {sources}\n{grid(header, rows)}"


def parse_filters(texts: Sequence[str]) -> Dict[str, str]:
    """``["shape=seed_loop"]`` -> ``{"shape": "seed_loop"}``; UsageError on a malformed one."""
    wanted = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"--param {text!r}: use NAME=VALUE, e.g. --param shape=seed_loop")
        wanted[key] = value
    return wanted
