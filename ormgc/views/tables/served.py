"""The served shape's table: latency, throughput, the collector's part and worker memory per
policy, each compared with the baseline as a paired ratio with its 95% interval.

Fits 100 columns. Under it, one line per policy says what a user would repeat, and a warning
line for every run that saturated the server or the client (its latencies are not the
policy's, they are the queue's).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ormgc.views.stats import format_ratio

_HEADER = ("policy", "p50 ms", "p99 ms", "p99.9", "req/s", "err", "GC/req", "GC ms/req",
           "PSS MB", "p99 vs base")  # fmt: skip


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


def _sentence(record: Dict[str, Any]) -> Optional[str]:
    p99 = record.get("p99_vs_baseline")
    if not p99 or p99["baseline"] == record["policy"]:
        return None
    parts = [f"p99 {_ratio(record, 'p99_vs_baseline')}"]
    for key, what in (("throughput_vs_baseline", "throughput"), ("pss_vs_baseline", "worker PSS")):
        if record.get(key):
            parts.append(f"{what} {_ratio(record, key)}")
    return f"{record['policy']} vs {p99['baseline']}: " + ", ".join(parts)


def format_served(records: List[Dict[str, Any]]) -> str:
    """The table of served records, grouped by ORM and Python, then the one-line answers."""
    blocks = []
    for key in dict.fromkeys((r["orm"], r.get("python")) for r in records):
        mine = [r for r in records if (r["orm"], r.get("python")) == key]
        first = mine[0]
        title = (
            f"{first['orm']} served by gunicorn ({first['workers']} sync workers, Python "
            f"{first.get('python')}), {first['target_rps']:g} req/s for {first['duration_s']:g} s, "
            f"{first['repeat']} round(s); latency from each request's due time"
        )
        rows = [list(_HEADER)] + [_row(record) for record in mine]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
        lines = [title]
        for index, row in enumerate(rows):
            cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [s for s in map(_sentence, mine) if s]
        for record in mine:
            if record.get("saturated_rounds"):
                why = "; ".join(record["saturated"]["why"])
                lines.append(
                    f"warning: {record['policy']}: {record['saturated_rounds']} of "
                    f"{record['repeat']} rounds saturated ({why}): their latencies measure a "
                    "queue, not the policy"
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
