"""Readable text tables of records, grouped per interpreter and backend."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from ormgc.runs.aggregate import gc_changed_warning
from ormgc.views.stats import format_ratio, precision_note, significant
from ormgc.views.terminal import bold, fit, render, wrap, wrap_parts, wrap_phrases

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
    "per gen",
    "collections",
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


def _baseline(
    records: Sequence[Dict[str, Any]], record: Dict[str, Any], policy: str = "default"
) -> Optional[Dict]:
    """The ``default`` (or ``policy``) record of the same scenario, which the others compare
    with."""
    same = ("orm", "shape", "python", "backend", "orm_version", "rows", "loaded")
    for other in records:
        if other["policy"] == policy and all(other[k] == record[k] for k in same):
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
    return render(header, rows)


def _server(record: Dict[str, Any], url: bool = True) -> str:
    """``sqlite (in-process) 3.40.1 at URL``; without ``url`` the server alone (or the URL)."""
    server = record.get("server")
    if not server:
        return record["backend"]
    named = f"{server} {record.get('server_version') or ''}".strip()
    return f"{named} at {record['backend']}" if url else named


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


# The compact view (``ormgc run`` without --wide): these columns in this order, those that fit
# the terminal's width, taken in order of importance (policy first, wall ms last).
_COMPACT = ("orm", "shape", "policy", "collections", "wall ms", "cpu ms", "cpu vs", "peak MB",
            "max ms")  # fmt: skip
_IMPORTANCE = ("policy", "collections", "cpu vs", "cpu ms", "shape", "peak MB", "max ms", "orm",
               "wall ms")  # fmt: skip


def _compact(header: List[str], rows: List[List[str]], width: int, colour: bool, published: int):
    """The compact columns of ``header`` and ``rows`` that fit ``width``, and those left out."""
    names = [name.split(" vs ")[0] + " vs" if " vs " in name else name for name in header]
    shown = [names.index(name) for name in _COMPACT]
    header = [header[i] for i in shown]
    rows = [[row[i] for i in shown] for row in rows]
    importance = [_COMPACT.index(name) for name in _IMPORTANCE]
    header, rows, left_out = fit(header, rows, width, importance)
    dimmed = range(len(rows) - published, len(rows))
    return render(header, rows, colour, dimmed), left_out


def answer_lines(
    records: Sequence[Dict[str, Any]], group: Sequence[Dict[str, Any]]
) -> List[List[str]]:
    """The sentence a user would repeat, one per policy compared with the baseline: "threshold:
    50000: 23 instead of 1,708 collections, 0.62x the CPU time [0.59, 0.66]"."""
    shapes = {record["shape"] for record in group}
    lines = []
    for record in group:
        versus = record.get("cpu_vs_baseline")
        if (
            not versus
            or record["policy"] == versus["baseline"]
            or versus["ratio"] != versus["ratio"]
        ):
            continue
        base = _baseline(records, record, versus["baseline"])
        if base is None:
            continue
        ci95 = versus["ci95"]
        if not ci95:
            interval = " (one round: no interval)"
        else:
            interval = f" [{ci95[0]:.2f}, {ci95[1]:.2f}]"
            interval += "" if significant(ci95) else ", no significant difference"
        of = "" if versus["baseline"] == "default" else f" of {versus['baseline']}"
        lines.append(  # the parts a line may break between
            [
                f"{record['shape'] + ', ' if len(shapes) > 1 else ''}{record['policy']}:",
                f"{record['collections_total']:,} instead of {base['collections_total']:,} "
                "collections,",
                f"{versus['ratio']:.2f}x the CPU time{of}{interval}",
            ]
        )
    return lines


def _groups(records: Sequence[Dict[str, Any]]) -> Dict[tuple, List[Dict[str, Any]]]:
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
    return groups


def format_table(
    records: Sequence[Dict[str, Any]], width: Optional[int] = None, colour: bool = False
) -> str:
    """The records as a text table, grouped under one heading per interpreter and backend, each
    table followed by its answer in one line. Every column when ``width`` is None (--wide),
    else the compact columns that fit ``width``, the prose wrapped to it."""
    if not records:
        return "(no measurements)"
    if "instructions" in records[0]:  # ormgc run --exact: instruction counts, not times
        from ormgc.views.tables.exact_table import format_exact_table

        return format_exact_table(records, width, colour)
    blocks, left_out = [], []
    for (python, build, _, _, orm_version, speedups), group in _groups(records).items():
        first = group[0]
        heading = (
            f"Python {python} ({build}), {first['orm']} {orm_version}"
            f"{' [' + speedups + ']' if speedups else ''}, {first['driver']} "
            f"{first['driver_version']}, {_server(first, width is None)}; {first['rows']} rows, "
            f"{first['loaded']} loaded, freeze={'on' if first['freeze'] else 'off'}, "
            f"median of {first.get('repeat', 1)}{_rounds(first)}{precision_note(first)}"
        )
        published = _published_rows(group)
        rows = [_row(records, record) for record in group] + published
        if width is None:
            table = grid(column_names(first), rows)
        else:
            table, hidden = _compact(column_names(first), rows, width, colour, len(published))
            left_out += [name for name in hidden if name not in left_out]
        answers = "".join(
            "\n" + bold(wrap_parts(parts, width), colour) for parts in answer_lines(records, group)
        )
        note = _server_note(first) if width is None else ""  # no server column when compact
        blocks.append(
            wrap_phrases(heading, width) + "\n" + table + note + gc_changed_notes(group) + answers
        )
    if width is not None:
        hint = "--wide: every column (thresholds, per generation, pauses, server and wait times)"
        if left_out:
            hint = f"--wide: every column; left out at {width} columns: {', '.join(left_out)}"
        blocks[-1] += "\n" + wrap(hint, width)
    return "\n\n".join(blocks)
