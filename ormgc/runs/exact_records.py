"""Exact figures beside the others: the ``--exact`` option, and copying the figures into the
native records and pyperf's metadata (``ormgc pyperf --exact``)."""

from __future__ import annotations

from typing import Any, Dict, List

from ormgc.runs.valgrind import GC_METHODS, MODES


def add_exact_argument(parser: Any) -> None:
    """``--exact[=cache]``, shared by ``ormgc run`` and ``ormgc pyperf``."""
    parser.add_argument(
        "--exact",
        nargs="?",
        const="instructions",
        choices=MODES,
        help="also count the block's instructions under valgrind (callgrind), and the "
        "collector's share of them: exact, load-independent, ~50x slower per run; "
        "--exact=cache adds simulated caches and estimated cycles (~5x slower again)",
    )
    parser.add_argument(
        "--exact-gc",
        choices=GC_METHODS,
        default="auto",
        help="--exact: how the collector's instructions are told: its C function (symbol), "
        "or counted between gc.callbacks' start and stop (callbacks: a second run under "
        "valgrind; works on stripped and free-threaded builds); auto (default): the symbol "
        "where callgrind finds it, else the callbacks",
    )


EXACT_FIELDS = (
    "instructions",
    "gc_instructions",
    "gc_share",
    "gc_function",
    "gc_method",
    "gc_instructions_symbol",
    "valgrind",
    "exact_method",
    "exact_env",
    "estimated_cycles",
    "gc_estimated_cycles",
    "gc_share_estimated_cycles",
    "cache_sim",
)


def add_exact_fields(records: List[Dict[str, Any]], exact: List[Dict[str, Any]]) -> None:
    """Copy each exact record's figures into the native record of the same benchmark."""
    by_key = {(r["orm"], r["shape"], r["policy"]): r for r in exact}
    for record in records:
        found = by_key[(record["orm"], record["shape"], record["policy"])]
        record.update({key: found[key] for key in EXACT_FIELDS if key in found})


def exact_metadata(record: Dict[str, Any]) -> Dict[str, Any]:
    """The exact figures as pyperf metadata (numbers and strings only)."""
    keys = ("instructions", "gc_instructions", "gc_share", "gc_function", "valgrind")
    keys += ("estimated_cycles", "gc_estimated_cycles", "gc_share_estimated_cycles")
    meta = {key: record[key] for key in keys if record.get(key) is not None}
    if "exact_env" in record:
        meta["exact_pythonhashseed"] = record["exact_env"]["PYTHONHASHSEED"]
    return meta
