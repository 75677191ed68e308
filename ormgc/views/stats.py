"""Ratios with 95% confidence intervals: paired rounds (``run --repeat``) and independent samples
(``compare``, one Python version against another).

Paired rounds: the estimate is the geometric mean of the per-round ratios and the interval a
Student t-interval on their logarithms. Timings are positive and their noise multiplicative (a
slow spell of the shared machine stretches every run by a factor), so log-ratios are nearer
normal than ratios; the t-interval stays honest at K=10, where a bootstrap over ten rounds is
known to come out too narrow; a constant ratio gives a zero-width interval at that ratio.

Independent samples (pyperf values of two versions, taken in different processes at different
times): a seeded percentile bootstrap of the ratio of medians, resampling each side on its own.
"""

from __future__ import annotations

import math
import random
import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

Interval = Optional[List[float]]

# Two-sided 95% Student t quantiles (t_0.975) for 1-30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959964
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20220101


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("a t-interval needs at least 2 rounds")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975  # Cornish-Fisher expansion: within 0.001 of the exact value beyond 30 df
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def paired_ratio(values: Sequence[float], baseline: Sequence[float]) -> Tuple[float, Interval]:
    """Geometric-mean ratio ``values / baseline`` over paired rounds and its 95% interval.

    The interval is None with one round (no spread to estimate) or when a time is not positive.
    """
    if len(values) != len(baseline) or not values:
        raise ValueError("paired rounds need the same, non-zero number of values on both sides")
    if min(values) <= 0 or min(baseline) <= 0:
        return (math.nan, None)
    logs = [math.log(value / base) for value, base in zip(values, baseline)]
    centre = statistics.fmean(logs)
    if len(logs) < 2:
        return (math.exp(centre), None)
    half = t975(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return (math.exp(centre), [math.exp(centre - half), math.exp(centre + half)])


def bootstrap_median_ratio(
    values: Sequence[float],
    baseline: Sequence[float],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Tuple[float, Interval]:
    """median(values) / median(baseline) and a seeded percentile-bootstrap 95% interval,
    the two samples independent (each resampled on its own). None with a single value each."""
    if not values or not baseline:
        raise ValueError("a ratio of medians needs values on both sides")
    ratio = statistics.median(values) / statistics.median(baseline)
    if len(values) < 2 and len(baseline) < 2:
        return (ratio, None)
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(values, k=len(values)))
        / statistics.median(rng.choices(baseline, k=len(baseline)))
        for _ in range(resamples)
    )
    low = ratios[int(0.025 * (resamples - 1))]
    high = ratios[int(math.ceil(0.975 * (resamples - 1)))]
    return (ratio, [low, high])


def significant(ci95: Optional[Sequence[float]]) -> Optional[bool]:
    """Whether an interval excludes 1; None when there is no interval."""
    if not ci95:
        return None
    return not ci95[0] <= 1.0 <= ci95[1]


def versus(baseline: str, ratio: float, ci95: Interval) -> Dict[str, Any]:
    """The record value of ``cpu_vs_baseline`` / ``wall_vs_baseline``."""
    return {"baseline": baseline, "ratio": ratio, "ci95": ci95}


def format_ratio(ratio: float, ci95: Optional[Sequence[float]]) -> str:
    """``0.66 [0.64, 0.68]``; ``n.s.`` appended when the interval spans 1; no interval: ratio."""
    if ratio is None or math.isnan(ratio):
        return "?"
    if not ci95:
        return f"{ratio:.2f}"
    text = f"{ratio:.2f} [{ci95[0]:.2f}, {ci95[1]:.2f}]"
    return text if significant(ci95) else text + " n.s."


def half_width_percent(ci95: Optional[Sequence[float]], ratio: float) -> Optional[float]:
    """The interval's larger distance from the ratio, in percent of the ratio."""
    if not ci95:
        return None
    return max(ratio - ci95[0], ci95[1] - ratio) / ratio * 100


def precision_note(record: Dict[str, Any]) -> str:
    """``; precision +-2.5% (CPU): met, +-2.1% after 23 rounds`` for a ``--precision`` record,
    else ""."""
    target = record.get("precision_target")
    if target is None:
        return ""
    achieved = record.get("precision_achieved")
    reached = "no interval" if achieved is None else f"+-{achieved:.1f}%"
    verdict = "met" if record.get("precision_met") else "NOT met (--max-rounds reached)"
    return f"; precision +-{target:g}% (CPU): {verdict}, {reached} after {record['rounds']} rounds"
