"""Readable text tables of records, grouped per interpreter and backend."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from ormgc.runs.aggregate import gc_changed_warning
from ormgc.views.stats import format_ratio, precision_note

# The published experiment (../shared/seed-claim.md): quoted beside our numbers, never mixed in.
PUBLISHED = {
    ("sqlalchemy", "default"): (1859, 908, 78.7),
    ("sqlalchemy", "threshold:50000"): (29, 695, 76.8),
    ("mongoengine", "default"): (463, 593, 75.8),
    ("mongoengine", "threshold:50000"): (10, 515, 72.3),
}
PUBLISHED_SCENARIO = {"shape": "seed_loop", "rows": 100_000, "loaded": 20_000}

_COLUMNS = (
    "orm",
    "shape",
    "policy",
    "threshold",
    "collections",
    "total",
    "collected",
    "pause ms",
    "max ms",
    "wall ms",
    "cpu ms",
    "peak MB",
    "server ms",
    "wait ms",
    "wall vs {baseline}",
    "cpu vs {baseline}",
)


def _baseline(records: Sequence[Dict[str, Any]], record: Dict[str, Any]) -> Optional[Dict]:
    """The ``default`` record of the same scenario, which the other policies compare with."""
    same = ("orm", "shape", "python", "backend", "orm_version", "rows", "loaded")
    for other in records:
        if other["policy"] == "default" and all(other[k] == record[k] for k in same):
            return other
    return None


def _change(record: Dict[str, Any], baseline: Optional[Dict[str, Any]], field: str) -> str:
    """The paired ratio with its interval (ormgc.runs.paired); records written before paired
    timing have none: the change of medians against ``default`` then."""
    paired = record.get(f"{field[: -len('_ms')]}_vs_baseline")
    if paired is not None:
        if record["policy"] == paired["baseline"]:
            return "baseline"
        return format_ratio(paired["ratio"], paired["ci95"])
    if not baseline or not baseline[field]:
        return ""
    return f"{(record[field] / baseline[field] - 1) * 100:+.0f}%"


def _split(record: Dict[str, Any], field: str) -> str:
    """Server CPU or waiting (ormgc.worker.server_cpu): ``-`` in-process, ``?`` unavailable."""
    value = record.get(field)
    if value is not None:
        return f"{value:.0f}"
    source = record.get("server_cpu_source", "")
    return "-" if source == "in-process" else "?" if source else ""


def threshold_text(record: Dict[str, Any]) -> str:
    """The thresholds set: for the adaptive policy, first threshold as start..highest reached."""
    threshold = [str(value) for value in record["gc_threshold"]]
    summary = record.get("adaptive")
    if summary:
        threshold[0] = f"{summary['start']}..{summary['max']}"
    return "/".join(threshold)


def _row(records: Sequence[Dict[str, Any]], record: Dict[str, Any]) -> List[str]:
    baseline = _baseline(records, record)
    flag = "" if record.get("counts_identical", True) else " (varied)"
    return [
        record["orm"],
        record["shape"],
        record["policy"],
        threshold_text(record),
        "/".join(map(str, record["collections"])),
        f"{record['collections_total']}{flag}",
        str(record["collected"]),
        f"{record['pause_ms']['total']:.1f}",
        f"{record['pause_ms']['max']:.2f}",
        f"{record['wall_ms']:.0f}",
        f"{record['cpu_ms']:.0f}",
        f"{record['peak_rss_mb']:.1f}",
        _split(record, "server_cpu_ms"),
        _split(record, "wait_ms"),
        _change(record, baseline, "wall_ms"),
        _change(record, baseline, "cpu_ms"),
    ]


def _published_rows(records: Sequence[Dict[str, Any]]) -> List[List[str]]:
    rows = []
    for record in records:
        seed_like = all(record.get(k) == v for k, v in PUBLISHED_SCENARIO.items())
        published = PUBLISHED.get((record["orm"], record["policy"]))
        if seed_like and published:
            collections, wall_ms, memory_mb = published
            rows.append(
                [
                    record["orm"],
                    "seed (published)",
                    record["policy"],
                    "",
                    "",
                    str(collections),
                    "",
                    "",
                    "",
                    str(wall_ms),
                    "",
                    str(memory_mb),
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return rows


def grid(header: Sequence[str], rows: List[List[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(header, widths)).rstrip(),
        "  ".join("-" * width for width in widths),
    ]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def _server(record: Dict[str, Any]) -> str:
    server = record.get("server")
    return f"{server} {record.get('server_version') or ''} at ".replace("  ", " ") if server else ""


def _baseline_name(record: Dict[str, Any]) -> str:
    return (record.get("cpu_vs_baseline") or {}).get("baseline", "default")


def column_names(first: Dict[str, Any]) -> List[str]:
    """The column names, ``wall vs default`` naming the baseline ``first`` is paired with."""
    return [column.format(baseline=_baseline_name(first)) for column in _COLUMNS]


def _rounds(record: Dict[str, Any]) -> str:
    if "cpu_vs_baseline" not in record or record.get("repeat", 1) < 2:
        return ""
    return " interleaved rounds; vs: geometric mean of the paired ratios [95% interval]"


def _server_note(record: Dict[str, Any]) -> str:
    source = record.get("server_cpu_source")
    if not source:
        return ""
    if source == "in-process":
        return "\nserver ms: - (the database runs in-process); wait ms: wall - cpu"
    where = re.sub(r" pid \d+", "", source)  # PostgreSQL: one backend per run
    return f"\nserver ms: CPU time of the {where} over the block; wait ms: wall - cpu - server"


def gc_changed_notes(records: Sequence[Dict[str, Any]]) -> str:
    """Under a table: one warning line per record whose workload changed the GC itself."""
    return "".join(f"\n{line}" for line in map(gc_changed_warning, records) if line)


def format_table(records: Sequence[Dict[str, Any]]) -> str:
    """The records as a text table, grouped under one heading per interpreter and backend."""
    if not records:
        return "(no measurements)"
    if "instructions" in records[0]:  # ormgc run --exact: instruction counts, not times
        from ormgc.views.tables.exact_table import format_exact_table

        return format_exact_table(records)
    blocks = []
    groups: Dict[tuple, List[Dict[str, Any]]] = {}
    for record in records:
        key = (
            record["python"],
            record["python_build"],
            record["backend"],
            record["rows"],
            record["orm_version"],
            record.get("orm_speedups", ""),
        )
        groups.setdefault(key, []).append(record)
    for (python, build, backend, _, orm_version, speedups), group in groups.items():
        first = group[0]
        heading = (
            f"Python {python} ({build}), {first['orm']} {orm_version}"
            f"{' [' + speedups + ']' if speedups else ''}, {first['driver']} "
            f"{first['driver_version']}, {_server(first)}{backend}; {first['rows']} rows, "
            f"{first['loaded']} loaded, freeze={'on' if first['freeze'] else 'off'}, "
            f"median of {first.get('repeat', 1)}{_rounds(first)}{precision_note(first)}"
        )
        rows = [_row(records, record) for record in group] + _published_rows(group)
        blocks.append(
            heading
            + "\n"
            + grid(column_names(first), rows)
            + _server_note(first)
            + gc_changed_notes(group)
        )
    return "\n\n".join(blocks)
