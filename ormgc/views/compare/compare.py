"""``ormgc compare``: the Python versions side by side, from ``results/pyperf/<machine>/``.

Three Markdown tables share their rows (ORM x shape x policy) and columns (Python versions):
median time with its ratio to the previous version's (95% interval, bootstrap), GC collections per
query, and peak RSS; then ``pyperf compare_to --table`` between consecutive versions.
Results that disagree on the dataset, or on a library pin that ``ormgc/profiles/current.txt``
does not declare per Python version (an environment marker), are refused, not compared; where
neighbouring columns ran different libraries (per-version pins, compiled speedups or not), the
document says so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import pyperf

from ormgc.errors import OrmGcError, UsageError
from ormgc.results import result_files
from ormgc.runs.pythons import SUPPORTED
from ormgc.views.compare.exact_compare import exact_section
from ormgc.views.compare.paired_compare import paired_section
from ormgc.views.gc_cost import per_object_table
from ormgc.views.libraries import changes_section, check_pins, common_pins, libraries
from ormgc.views.stats import bootstrap_median_ratio, format_ratio, significant

# Must agree between versions for a comparison to mean anything (and ormgc_pins, but for the
# packages pinned per Python version).
_SAME_EVERYWHERE = (
    "ormgc_rows",
    "ormgc_load",
    "ormgc_seed",
    "ormgc_freeze",
    "ormgc_timer",
)
_TIMER_WORDS = {"wall": "wall clock", "cpu": "the process's CPU time"}
_NEEDED = ("gc_collections", "peak_rss_mb", "ormgc_pins", *_SAME_EVERYWHERE)
RESULT_NAME = re.compile(r"(3\.\d+t?)\.json\Z")

Row = Tuple[str, str, str]  # (ORM, shape, policy)


class VersionResult(NamedTuple):
    """One Python version's pyperf file, loaded and checked."""

    python: str
    path: Path
    benches: Dict[Row, pyperf.Benchmark]
    metadata: Dict[str, object]  # metadata common to every benchmark of the file


def _version_key(python: str) -> Tuple[int, int, str]:
    major, minor = python.rstrip("t").split(".")
    return int(major), int(minor), python[-1] if python.endswith("t") else ""


def check_version(python: str) -> str:
    if python in SUPPORTED or (python.endswith("t") and python[:-1] in SUPPORTED):
        return python
    raise UsageError(f"unknown Python version {python!r}: choose from {', '.join(SUPPORTED)}")


def pick_machine(results: Path, machine: str) -> str:
    """The machine folder to compare: the one asked for, or the only one there is."""
    if machine:
        if not (results / machine).is_dir():
            raise UsageError(f"no results for machine {machine!r} in {results}")
        return machine
    if not results.is_dir():
        raise UsageError(f"no results folder {results}: run nox -s bench first")
    machines = sorted(path.name for path in results.iterdir() if path.is_dir())
    if len(machines) != 1:
        found = ", ".join(machines) if machines else "none"
        raise UsageError(f"pick one machine of {results} with --machine (found: {found})")
    return machines[0]


def load_result(path: Path, python: str) -> VersionResult:
    """Load one result file; OrmGcError in one line if it is not what ``ormgc pyperf`` wrote."""
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise OrmGcError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise OrmGcError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        suite = pyperf.BenchmarkSuite.loads(text)
    except Exception as exc:  # pyperf raises KeyError, TypeError, ValueError... on bad input
        raise OrmGcError(f"{path} is not a pyperf result file ({exc!r})") from None
    benches: Dict[Row, pyperf.Benchmark] = {}
    for bench in suite.get_benchmarks():
        metadata = bench.get_metadata()
        missing = [key for key in _NEEDED if key not in metadata]
        parts = bench.get_name().split("/")
        if missing or len(parts) != 3:
            raise OrmGcError(
                f"{path} was not written by this ormgc pyperf (benchmark {bench.get_name()!r} "
                f"has no {', '.join(missing) or 'ORM/shape/policy name'}): "
                f"re-run nox -s bench-{python}"
            )
        benches[(parts[0], parts[1], parts[2])] = bench
    common = dict(suite.get_metadata())
    return VersionResult(python, path, benches, common)


def load_results(results: Path, machine: str, asked: Sequence[str]) -> List[VersionResult]:
    folder = results / machine
    if asked:
        versions = sorted(
            dict.fromkeys(check_version(python) for python in asked), key=_version_key
        )
    else:
        found = [RESULT_NAME.match(path.name) for path in folder.glob("*.json")]
        versions = sorted((m.group(1) for m in found if m), key=_version_key)
        if not versions:
            raise UsageError(f"no results in {folder}: run nox -s bench first")
    loaded = []
    for python in versions:
        path = result_files(results, machine, python).pyperf
        if not path.exists():
            raise UsageError(f"no results for Python {python}: {path} (run nox -s bench-{python})")
        loaded.append(load_result(path, python))
    check_comparable(loaded)
    return loaded


def check_comparable(loaded: List[VersionResult]) -> None:
    first = loaded[0]
    for other in loaded[1:]:
        check_pins(first, other)
        for key in _SAME_EVERYWHERE:
            ours, theirs = first.metadata.get(key), other.metadata.get(key)
            if ours != theirs:
                raise OrmGcError(
                    f"Python {first.python} and {other.python} results differ in {key} "
                    f"({ours or 'varies'} vs {theirs or 'varies'}): re-run them alike"
                )


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:#.3g}" if ms < 99.95 else f"{ms:.0f}"  # 3 significant digits: 52.0, 0.930


def _change(previous: Optional[pyperf.Benchmark], bench: pyperf.Benchmark) -> str:
    """This version's time over the previous one's: ratio of medians with a 95% interval (the
    two versions' values are independent samples: seeded bootstrap, ormgc.views.stats)."""
    if previous is None:
        return ""
    ratio, ci95 = bootstrap_median_ratio(bench.get_values(), previous.get_values())
    if not significant(ci95):
        return f", {format_ratio(ratio, ci95)}".replace(" n.s.", "") + " n.s."
    words = f"{1 / ratio:.2f}x faster" if ratio <= 1 else f"{ratio:.2f}x slower"
    return f", {format_ratio(ratio, ci95)}: {words}"


def _time_cell(previous: Optional[pyperf.Benchmark], bench: pyperf.Benchmark) -> str:
    return f"{_ms(bench.median())} ± {_ms(bench.median_abs_dev())} ms{_change(previous, bench)}"


def _gc_cell(previous: Optional[pyperf.Benchmark], bench: pyperf.Benchmark) -> str:
    meta = bench.get_metadata()
    low, high = meta.get("gc_collections_min"), meta.get("gc_collections_max")
    spread = f" ({low}-{high})" if low != high else ""
    return f"{meta['gc_collections']}{spread}"


def _memory_cell(previous: Optional[pyperf.Benchmark], bench: pyperf.Benchmark) -> str:
    return f"{bench.get_metadata()['peak_rss_mb']:.1f}"


def _orm_version(bench: Optional[pyperf.Benchmark]) -> Optional[str]:
    return None if bench is None else bench.get_metadata().get("orm_version")


def _orm_changed(previous: Optional[pyperf.Benchmark], bench: pyperf.Benchmark) -> bool:
    """Whether the ORM's own version differs from the column to the left (Django is pinned
    per Python version, so its cells there do not compare interpreters alone)."""
    return previous is not None and _orm_version(previous) != _orm_version(bench)


def _table(loaded: List[VersionResult], rows: List[Row], cell) -> List[str]:
    header = ["ORM", "shape", "policy", *(f"Python {result.python}" for result in loaded)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells, previous = list(row), None
        for result in loaded:
            bench = result.benches.get(row)
            if bench is None:
                cells.append("--")
            else:
                mark = " †" if _orm_changed(previous, bench) else ""
                cells.append(cell(previous, bench) + mark)
            previous = bench
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def orm_changes(loaded: List[VersionResult]) -> List[str]:
    """One line per ORM whose version changes between neighbouring columns, saying where."""
    notes = []
    for orm in dict.fromkeys(row[0] for result in loaded for row in result.benches):
        seen: Dict[str, str] = {}  # Python version -> the ORM's version there
        for result in loaded:
            for row, bench in result.benches.items():
                if row[0] == orm and _orm_version(bench):
                    seen[result.python] = str(_orm_version(bench))
        changes = [
            f"{seen[older]} on Python {older}, {seen[newer]} from Python {newer}"
            for older, newer in zip(seen, list(seen)[1:])
            if seen[older] != seen[newer]
        ]
        if changes:
            notes.append(
                f"† {orm}'s own version differs from the column to the left ({'; '.join(changes)}"
                f"; pinned per Python version in ormgc/profiles/current.txt): those changes are "
                "not the interpreter's alone."
            )
    return notes


def _describe(result: VersionResult) -> str:
    """One line per version: the interpreter and its maker, each ORM's build and driver, the GC
    it reports (generations and default thresholds)."""
    meta, nvalue = result.metadata, next(iter(result.benches.values())).get_nvalue()
    first = next(iter(result.benches.values())).get_metadata()
    made = ", ".join(
        str(first[key]) for key in ("python_distribution", "python_compiler") if first.get(key)
    )
    generations = f"{first['gc_generations']} generations, " if "gc_generations" in first else ""
    return (
        f"- Python {meta.get('python_version', result.python)}{f' ({made})' if made else ''}: "
        f"{'; '.join(libraries(result).values())}; {generations}"
        f"default GC thresholds {meta.get('gc_threshold_default', '?')}; "
        f"{_how_timed(result, nvalue)} ({meta.get('ormgc_mode', '?')} mode)"
    )


def _how_timed(result: VersionResult, nvalue: int) -> str:
    rounds = next(iter(result.benches.values())).get_metadata().get("ormgc_rounds")
    if rounds:
        return f"{rounds} paired rounds per benchmark, a fresh process per value"
    return f"{nvalue} pyperf values per benchmark"


def compare_to(older: VersionResult, newer: VersionResult) -> str:
    """``pyperf compare_to older newer --table`` as Markdown."""
    command = [sys.executable, "-m", "pyperf", "compare_to", str(older.path), str(newer.path)]
    done = subprocess.run(
        [*command, "--table", "--table-format", "md"], capture_output=True, text=True
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise OrmGcError(f"pyperf compare_to {older.python} {newer.python} failed: {last}")
    return done.stdout.strip()


def markdown(loaded: List[VersionResult], machine: str) -> str:
    """The whole comparison document."""
    rows = list(dict.fromkeys(row for result in loaded for row in result.benches))
    meta = loaded[0].metadata
    lines = [
        f"# GC cost across Python versions on {machine}",
        "",
        f"{meta['ormgc_rows']} rows, {meta['ormgc_load']} objects per query, "
        f"gc.freeze() before each query: {meta['ormgc_freeze']}. "
        f"Pins: {common_pins(loaded)}",
        "",
        *(_describe(result) for result in loaded),
        "",
        *(note + "\n" for note in orm_changes(loaded)),
        *changes_section(loaded),
        f"## Time per query ({_TIMER_WORDS.get(str(meta['ormgc_timer']), meta['ormgc_timer'])}:"
        " median ± median absolute deviation)",
        "",
        "Change against the version to its left: ratio of medians (this / left) with its 95%"
        " interval, a seeded bootstrap resampling each version's values on its own (they are"
        " independent runs); n.s. (no significant difference) where the interval spans 1.",
        "",
        *_table(loaded, rows, _time_cell),
        "",
        *paired_section(loaded, rows, _table),
        *exact_section(loaded, rows, _table),
        "## GC collections per query (min-max over the timed loops when they vary)",
        "",
        *_table(loaded, rows, _gc_cell),
        "",
        "## Peak RSS during the query (MB, median over the timed loops)",
        "",
        *_table(loaded, rows, _memory_cell),
        "",
        "## GC cost per loaded object (µs: the policy's median time minus `disabled`'s, over"
        " the objects one query loads)",
        "",
        *per_object_table(loaded, rows),
    ]
    for older, newer in zip(loaded, loaded[1:]):
        lines += ["", f"## pyperf compare_to {older.python} {newer.python}", ""]
        lines.append(compare_to(older, newer))
    return "\n".join(lines) + "\n"
