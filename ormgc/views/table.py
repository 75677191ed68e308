"""Readable text tables of records, grouped per interpreter and backend."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

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
    "wall vs default",
    "cpu vs default",
)


def _baseline(records: Sequence[Dict[str, Any]], record: Dict[str, Any]) -> Optional[Dict]:
    """The ``default`` record of the same scenario, which the other policies compare with."""
    same = ("orm", "shape", "python", "backend", "orm_version")
    for other in records:
        if other["policy"] == "default" and all(other[k] == record[k] for k in same):
            return other
    return None


def _change(record: Dict[str, Any], baseline: Optional[Dict[str, Any]], field: str) -> str:
    if not baseline or not baseline[field]:
        return ""
    return f"{(record[field] / baseline[field] - 1) * 100:+.0f}%"


def _row(records: Sequence[Dict[str, Any]], record: Dict[str, Any]) -> List[str]:
    baseline = _baseline(records, record)
    flag = "" if record.get("counts_identical", True) else " (varied)"
    return [
        record["orm"],
        record["shape"],
        record["policy"],
        "/".join(map(str, record["gc_threshold"])),
        "/".join(map(str, record["collections"])),
        f"{record['collections_total']}{flag}",
        str(record["collected"]),
        f"{record['pause_ms']['total']:.1f}",
        f"{record['pause_ms']['max']:.2f}",
        f"{record['wall_ms']:.0f}",
        f"{record['cpu_ms']:.0f}",
        f"{record['peak_rss_mb']:.1f}",
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


def format_table(records: Sequence[Dict[str, Any]]) -> str:
    """The records as a text table, grouped under one heading per interpreter and backend."""
    if not records:
        return "(no measurements)"
    if "instructions" in records[0]:  # ormgc run --exact: instruction counts, not times
        from ormgc.views.exact_table import format_exact_table

        return format_exact_table(records)
    blocks = []
    groups: Dict[tuple, List[Dict[str, Any]]] = {}
    for record in records:
        key = (
            record["python"],
            record["python_build"],
            record["backend"],
            record["orm_version"],
            record.get("orm_speedups", ""),
        )
        groups.setdefault(key, []).append(record)
    for (python, build, backend, orm_version, speedups), group in groups.items():
        first = group[0]
        heading = (
            f"Python {python} ({build}), {first['orm']} {orm_version}"
            f"{' [' + speedups + ']' if speedups else ''}, {first['driver']} "
            f"{first['driver_version']}, {_server(first)}{backend}; {first['rows']} rows, "
            f"{first['loaded']} loaded, freeze={'on' if first['freeze'] else 'off'}, "
            f"median of {first.get('repeat', 1)}"
        )
        rows = [_row(records, record) for record in group] + _published_rows(group)
        blocks.append(heading + "\n" + grid(_COLUMNS, rows))
    return "\n\n".join(blocks)
