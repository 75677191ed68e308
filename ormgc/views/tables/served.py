"""The served shape's table: latency, throughput, the collector's part and worker memory per
policy, each compared with the baseline as a paired ratio with its 95% interval.

By default the columns that fit the terminal, the most telling first (policy, p99 and its ratio,
throughput, errors, then the collector's part, memory, p50, p99.9); every column with --wide.
Under it, one line per policy says what a user would repeat, and a warning line for every run
that saturated the server or the client (its latencies are not the policy's: the queue's).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ormgc.views.stats import format_ratio
from ormgc.views.terminal import bold, fit, render, wrap, wrap_parts

_HEADER = ("policy", "p50 ms", "p99 ms", "p99.9", "req/s", "err", "GC/req", "GC ms/req",
           "PSS MB", "p99 vs base")  # fmt: skip
_IMPORTANCE = (0, 2, 9, 4, 5, 6, 7, 8, 1, 3)  # indices of _HEADER, most telling first


def _ratio(record: Dict[str, Any], key: str) -> str:
    versus: Optional[Dict[str, Any]] = record.get(key)
    if not versus:
        return "-"
    return format_ratio(versus["ratio"], versus["ci95"])


def _row(record: Dict[str, Any]) -> List[str]:
    latency = record["latency_ms"]
    pss = record.get("worker_pss_mb")
    return [
        record["policy"],
        f"{latency['p50']:.1f}",
        f"{latency['p99']:.1f}",
        f"{latency['p99.9']:.1f}",
        f"{record['throughput_rps']:.1f}",
        str(record["errors_total"]),
        f"{record['collections_per_request']:.2f}",
        f"{record['gc_ms_per_request']:.2f}",
        "-" if pss is None else f"{pss:.1f}",
        _ratio(record, "p99_vs_baseline"),
    ]


def saturation_reasons(record: Dict[str, Any]) -> List[str]:
    """Why any of the record's rounds saturated (each reason once, in the rounds' order)."""
    reasons = [why for run in record["runs"] for why in run["saturated"]["why"]]
    return list(dict.fromkeys(reasons))


def _sentence(record: Dict[str, Any]) -> Optional[List[str]]:
    """The parts of the line a user would repeat (a line may break between them)."""
    p99 = record.get("p99_vs_baseline")
    if not p99 or p99["baseline"] == record["policy"]:
        return None
    parts = [
        f"{record['policy']} vs {p99['baseline']}:",
        f"p99 {_ratio(record, 'p99_vs_baseline')}",
    ]
    for key, what in (("throughput_vs_baseline", "throughput"), ("pss_vs_baseline", "worker PSS")):
        if record.get(key):
            parts[-1] += ","
            parts.append(f"{what} {_ratio(record, key)}")
    return parts


def format_served(
    records: List[Dict[str, Any]], width: Optional[int] = None, colour: bool = False
) -> str:
    """The table of served records, grouped by ORM and Python, then the one-line answers;
    every column when ``width`` is None (--wide), else those that fit ``width``."""
    blocks, left_out = [], []
    for key in dict.fromkeys((r["orm"], r.get("python")) for r in records):
        mine = [r for r in records if (r["orm"], r.get("python")) == key]
        first = mine[0]
        title = (
            f"{first['orm']} served by gunicorn ({first['workers']} sync workers, Python "
            f"{first.get('python')}), {first['target_rps']:g} req/s for {first['duration_s']:g} s, "
            f"{first['repeat']} round(s); latency from each request's due time"
        )
        header, rows = list(_HEADER), [_row(record) for record in mine]
        if width is not None:
            header, rows, hidden = fit(header, rows, width, _IMPORTANCE)
            left_out += [name for name in hidden if name not in left_out]
        lines = [wrap(title, width), render(header, rows, colour)]
        lines += [bold(wrap_parts(parts, width), colour) for parts in map(_sentence, mine) if parts]
        for record in mine:
            if record.get("saturated_rounds"):
                why = "; ".join(saturation_reasons(record))
                warning = (
                    f"warning: {record['policy']}: {record['saturated_rounds']} of "
                    f"{record['repeat']} rounds saturated ({why}): their latencies measure a "
                    "queue, not the policy"
                )
                lines.append(wrap(warning, width))
        blocks.append("\n".join(lines))
    if width is not None and left_out:
        blocks[-1] += "\n" + wrap(f"--wide: every column; left out: {', '.join(left_out)}", width)
    return "\n\n".join(blocks)
