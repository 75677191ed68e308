"""Paired timing: policies interleaved in rounds, order rotated, ratios to a baseline policy.

Round r runs every policy once, in fresh processes, starting at policy r (A B C, B C A, C A B,
...), so that a slow spell of the shared machine hits every policy alike and no policy always
runs first (after the previous one's cache or page-cache effects). Each policy's run in round r
is paired with the baseline's run of the same round.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, TypeVar

from ormgc.errors import UsageError
from ormgc.views.stats import paired_ratio, versus
from ormgc.worker.policies import Policy, parse_policy

DEFAULT_BASELINE = "default"
_TIMES = (("wall_ms", "wall_vs_baseline"), ("cpu_ms", "cpu_vs_baseline"))

Item = TypeVar("Item")


def rotated(items: Sequence[Item], round_index: int) -> List[Item]:
    """The order of round ``round_index``: ``items`` rotated left by that many places."""
    if not items:
        return []
    start = round_index % len(items)
    return list(items[start:]) + list(items[:start])


def choose_baseline(asked: Optional[str], policies: Sequence[Policy]) -> Optional[str]:
    """The baseline policy's name: ``--baseline`` (UsageError if the run does not measure it),
    else ``default`` when the run measures it, else None (no ratios)."""
    names = [policy.name for policy in policies]
    if asked is None:
        return DEFAULT_BASELINE if DEFAULT_BASELINE in names else None
    name = parse_policy(asked).name
    if name not in names:
        raise UsageError(
            f"--baseline {asked!r} is not among the run's policies ({', '.join(names)}): "
            f"add --policy {name}"
        )
    return name


def attach_ratios(records: List[Dict[str, Any]], baseline: Optional[str]) -> None:
    """Add ``wall_vs_baseline`` and ``cpu_vs_baseline`` to the records of one scenario, each
    policy's runs paired round by round with the baseline's (the baseline's own ratio is 1,
    its interval [1, 1])."""
    base = next((record for record in records if record["policy"] == baseline), None)
    if base is None:
        return
    for record in records:
        for field, key in _TIMES:
            ratio, ci95 = paired_ratio(
                [run[field] for run in record["runs"]], [run[field] for run in base["runs"]]
            )
            record[key] = versus(baseline, ratio, ci95)
