"""Paired timing: policies interleaved in rounds, order rotated, ratios to a baseline policy.

Round r runs every policy once, in fresh processes, starting at policy r (A B C, B C A, C A B,
...), so that a slow spell of the shared machine hits every policy alike and no policy always
runs first (after the previous one's cache or page-cache effects). Each policy's run in round r
is paired with the baseline's run of the same round.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Hashable, List, NamedTuple, Optional, Sequence, TypeVar

from ormgc.errors import UsageError
from ormgc.views.stats import half_width_percent, paired_ratio, versus
from ormgc.worker.policies import Policy, parse_policy

DEFAULT_BASELINE = "default"
_TIMES = (("wall_ms", "wall_vs_baseline"), ("cpu_ms", "cpu_vs_baseline"))

Item = TypeVar("Item")
Key = TypeVar("Key", bound=Hashable)

# --precision: rounds before the first check (a t-interval on 2 rounds has t = 12.7), and the
# default budget: at +-8% after 10 rounds (a busy 2-core machine), +-2.5% needs about 100.
PRECISION_START = 5
DEFAULT_MAX_ROUNDS = 60


class Precision(NamedTuple):
    """``--precision PCT --max-rounds N``: the 95% half-width to reach, in percent of the ratio."""

    target: float
    max_rounds: int = DEFAULT_MAX_ROUNDS


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


def widest_half_width(
    runs: Dict[Key, List[Dict[str, Any]]], baseline: Key, field: str = "cpu_ms"
) -> float:
    """The widest 95% half-width (percent of the ratio) of the paired ``field`` ratios of every
    key to ``baseline``; inf while an interval is missing (fewer than 2 rounds)."""
    base = [run[field] for run in runs[baseline]]
    widths = [0.0]
    for key, key_runs in runs.items():
        if key != baseline:
            ratio, ci95 = paired_ratio([run[field] for run in key_runs], base)
            width = half_width_percent(ci95, ratio)
            widths.append(math.inf if width is None or math.isnan(width) else width)
    return max(widths)


def interleaved_rounds(
    keys: Sequence[Key],
    measure: Callable[[Key], Dict[str, Any]],
    rounds: int,
    enough: Optional[Callable[[Dict[Key, List[Dict[str, Any]]]], bool]] = None,
    max_rounds: int = 0,
) -> Dict[Key, List[Dict[str, Any]]]:
    """``rounds`` rounds of ``measure(key)`` for every key, rotated; then, when ``enough`` is
    given, more rounds until ``enough(runs)`` says so or ``max_rounds`` are done."""
    runs: Dict[Key, List[Dict[str, Any]]] = {key: [] for key in keys}
    done = 0
    while done < rounds or (enough is not None and done < max_rounds and not enough(runs)):
        for key in rotated(keys, done):
            runs[key].append(measure(key))
        done += 1
    return runs


def precision_fields(widest: float, precision: Precision, rounds: int) -> Dict[str, Any]:
    """What a record says about ``--precision``: the rounds used, the target (percent), whether
    every compared policy's CPU interval reached it, and the widest half-width reached."""
    return {
        "rounds": rounds,
        "precision_target": precision.target,
        "precision_met": widest <= precision.target,
        "precision_achieved": None if math.isinf(widest) else round(widest, 3),
    }
