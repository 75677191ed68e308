"""Advice for servers: which GC setting to put in ``gunicorn.conf.py``, from a served sweep.

The rule, stated once: a setting is *eligible* when none of its rounds saturated, it answered
without errors, its throughput is not below the baseline's (paired ratio >= 0.99) and its
workers' PSS grew at most ``max_pss_growth`` over the baseline's. Among the eligible settings
whose p99 latency is significantly lower than the baseline's (the 95% interval of the paired
ratio entirely below 1), the one with the lowest p99 ratio is recommended; with none, the
baseline stays, and the advice says why. ``disabled`` is the floor to compare with, never the
advice unless ``allow_disabled``.
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ormgc.runs.served_config import parse_served_policy, user_block
from ormgc.views.stats import format_ratio

MIN_THROUGHPUT_RATIO = 0.99


class ServedBounds(NamedTuple):
    max_pss_growth: float = 0.10  # fraction over the baseline's worker PSS
    allow_disabled: bool = False


def _why_not(record: Dict[str, Any], bounds: ServedBounds) -> Optional[str]:
    """Why ``record``'s setting cannot be advised; None when it is eligible and wins."""
    if record["policy"].endswith("disabled") and not bounds.allow_disabled:
        return "disabled is the floor, not advice (--allow-disabled to allow it)"
    if record.get("saturated_rounds"):
        return f"{record['saturated_rounds']} round(s) saturated: its latencies are a queue's"
    if record.get("errors_total"):
        return f"{record['errors_total']} errors"
    throughput = record.get("throughput_vs_baseline")
    if throughput and throughput["ratio"] < MIN_THROUGHPUT_RATIO:
        return f"throughput {format_ratio(throughput['ratio'], throughput['ci95'])} of baseline"
    pss = record.get("pss_vs_baseline")
    if pss and pss["ratio"] > 1 + bounds.max_pss_growth:
        return (
            f"worker PSS {format_ratio(pss['ratio'], pss['ci95'])} of baseline, over "
            f"+{bounds.max_pss_growth:.0%}"
        )
    p99 = record.get("p99_vs_baseline")
    if not p99 or not p99["ci95"]:
        return "no interval for p99 (one round): run --repeat 3 or more"
    if p99["ci95"][1] >= 1:
        return f"p99 {format_ratio(p99['ratio'], p99['ci95'])}: not significantly lower"
    return None


def served_advice(
    records: List[Dict[str, Any]], baseline: str, bounds: ServedBounds
) -> Dict[str, Any]:
    """The recommended setting, why every other lost, and the gunicorn block to paste."""
    verdicts: List[Tuple[str, Optional[str]]] = []
    winners = []
    for record in records:
        if record["policy"] == baseline:
            continue
        reason = _why_not(record, bounds)
        verdicts.append((record["policy"], reason))
        if reason is None:
            winners.append(record)
    best = min(winners, key=lambda r: r["p99_vs_baseline"]["ratio"], default=None)
    chosen = best["policy"] if best else baseline
    return {
        "baseline": baseline,
        "recommended": chosen,
        "p99_vs_baseline": best["p99_vs_baseline"] if best else None,
        "bounds": bounds._asdict(),
        "verdicts": [{"policy": policy, "lost_because": reason} for policy, reason in verdicts],
        "gunicorn_conf": user_block(parse_served_policy(chosen)),
    }


def format_served_advice(advice: Dict[str, Any]) -> str:
    lines = []
    if advice["recommended"] == advice["baseline"]:
        lines.append(f"advice: keep {advice['baseline']} (no setting won within the bounds)")
    else:
        p99 = advice["p99_vs_baseline"]
        lines.append(
            f"advice: {advice['recommended']}: p99 {format_ratio(p99['ratio'], p99['ci95'])} "
            f"of {advice['baseline']}'s"
        )
    for verdict in advice["verdicts"]:
        if verdict["lost_because"]:
            lines.append(f"  {verdict['policy']}: {verdict['lost_because']}")
    lines.append("\nPaste into gunicorn.conf.py (with preload_app = True):\n")
    lines.append(advice["gunicorn_conf"].rstrip())
    return "\n".join(lines)
