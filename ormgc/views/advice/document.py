"""The ``ormgc advise`` document: the verdict on a sweep's records (ormgc.views.advice.rule), how
the sweep stopped (significant choice, ``--precision``), and what ``--json`` writes."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

from ormgc.views.advice.file import FORMAT as ADVICE_FORMAT
from ormgc.views.advice.rule import Bounds, assess, code_lines, flattens_at, recommend
from ormgc.views.stats import half_width_percent, paired_ratio, versus


def judge(
    records: List[Dict[str, Any]], bounds: Bounds, precision: Optional[float] = None
) -> Dict[str, Any]:
    """The verdict on records: the chosen row, whether it is decided, and --precision's state
    (the widest CPU interval to default, in percent of the ratio)."""
    rows = assess(records, bounds)
    chosen = recommend(rows, bounds)
    widths = [
        half_width_percent(r["cpu_vs_baseline"]["ci95"], r["cpu_vs_baseline"]["ratio"])
        for r in records
        if r["policy"] != "default"
    ]
    widest = math.inf if None in widths else max(widths, default=0.0)
    state = None
    if precision is not None:
        achieved = None if math.isinf(widest) else round(widest, 3)
        state = {"target": precision, "met": widest <= precision, "achieved": achieved}
    return {"rows": rows, "chosen": chosen, "precision": state}


def enough(bounds: Bounds, precision: Optional[float]):  # type: ignore[no-untyped-def]
    """The sweep's stopping rule: the choice is significant and --precision (if any) is met."""

    def stop(records: List[Dict[str, Any]]) -> bool:
        verdict = judge(records, bounds, precision)
        met = verdict["precision"] is None or verdict["precision"]["met"]
        return verdict["chosen"]["decided"] and met

    return stop


def build_advice(
    records: List[Dict[str, Any]],
    bounds: Bounds,
    repeat: int,
    max_rounds: Optional[int] = None,
    precision: Optional[float] = None,
) -> Dict[str, Any]:
    """The advice document (``--json``): recommended setting, bounds, flattening, table."""
    verdict = judge(records, bounds, precision)
    rows, chosen = verdict["rows"], verdict["chosen"]
    if not chosen["decided"]:
        chosen["reason"] = (
            f"no choice is significant after {repeat} rounds, so keep the default; "
            f"not yet significant: {chosen['reason']} (measure longer: --max-rounds)"
        )
    first = records[0]
    libraries = first.get("libraries") or {first["orm"]: first.get("orm_version")}
    versions = ", ".join(f"{name} {version}" for name, version in libraries.items() if name)
    interp = f"Python {first['python']} ({first['python_build']})" + (
        f", {versions}" if versions else ""
    )
    workload = first.get("workload") or f"{first['orm']} {first['shape']}"
    keep = chosen["policy"] == "default"  # keeping the default changes nothing, freeze neither
    code = code_lines(chosen["policy"], chosen["freeze"] and not keep, chosen["gc_threshold"])
    return {
        "format": ADVICE_FORMAT,
        "recommended": {
            "policy": chosen["policy"],
            "freeze": chosen["freeze"],
            "run": "ormgc run --policy default --policy "
            + chosen["policy"]
            + ("" if chosen["freeze"] else " --no-freeze"),
            "python": first["python"],
            "reason": chosen["reason"],
            "code": code,
            "figures": {
                k: v for k, v in chosen.items() if k not in ("reason", "excluded_by", "pending")
            },
        },
        "interpreter": interp,
        "workload": workload,
        "requests": "request_ms" in first,
        "repeat": repeat,
        "decided": chosen["decided"],
        "max_rounds": max_rounds,
        "precision": verdict["precision"],
        "exact": any(record.get("gc_share") is not None for record in records),
        "bounds": bounds._asdict(),
        "flattens_at": flattens_at(rows, chosen["freeze"]),
        "freeze_alone": _freeze_alone(records),
        "code": code,
        "table": rows,
        "records": records,
    }


def _freeze_alone(records: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """What gc.collect(2) + gc.freeze() alone does: default with it over default without,
    CPU time paired round by round (None unless both were swept)."""
    defaults = {r["freeze"]: r for r in records if r["policy"] == "default"}
    if len(defaults) < 2:
        return None
    ratio, ci95 = paired_ratio(
        [run["cpu_ms"] for run in defaults[True]["runs"]],
        [run["cpu_ms"] for run in defaults[False]["runs"]],
    )
    return versus("default freeze=off", ratio, ci95)
