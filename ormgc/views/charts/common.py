"""What every chart of ``ormgc report`` shares: the Agg figure, colours, caption, file."""

from __future__ import annotations

import math
import statistics
import textwrap
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # files only: no display, same pixels on every machine
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

DPI = 100
POLICY_ORDER = ("default", "threshold:50000", "disabled")
# Colour-blind-safe (Okabe-Ito), fixed per policy across every chart.
POLICY_COLOURS = {"default": "#D55E00", "threshold:50000": "#0072B2", "disabled": "#009E73"}
ORM_COLOURS = {"sqlalchemy": "#0072B2", "mongoengine": "#D55E00", "django": "#009E73"}
VERSION_COLOURS = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#999999",
)  # fmt: skip


class Chart(NamedTuple):
    """A drawn chart: ``<slug>.png``, its question, caption and finding in numbers."""

    slug: str
    question: str
    caption: str
    finding: str
    table: str = ""  # HTML shown under the chart (its figures in full), or nothing


class Missing(NamedTuple):
    """A chart left out: which results it needs."""

    slug: str
    question: str
    note: str


def policy_colour(policy: str, index: int = 0) -> str:
    return POLICY_COLOURS.get(policy, VERSION_COLOURS[(index + 1) % len(VERSION_COLOURS)])


def policy_order(policies: Sequence[str]) -> List[str]:
    """Known policies first in their fixed order, then thresholds by value, then the rest."""

    def key(policy: str) -> Tuple[int, float, str]:
        if policy in POLICY_ORDER:
            return POLICY_ORDER.index(policy), 0.0, policy
        if policy.startswith("threshold:"):
            return len(POLICY_ORDER), float(policy.split(":")[1]), policy
        return len(POLICY_ORDER) + 1, 0.0, policy

    return sorted(dict.fromkeys(policies), key=key)


def orm_order(orms: Sequence[str]) -> List[str]:
    """The suite's order (SQLAlchemy, MongoEngine, Django), then any other by name."""
    known = list(ORM_COLOURS)
    return sorted(dict.fromkeys(orms), key=lambda o: (known.index(o) if o in known else 9, o))


def figure(panels: int, height: float = 4.4, width: float = 11.0) -> Tuple[Any, List[Any]]:
    fig, axes = plt.subplots(1, panels, figsize=(width, height), dpi=DPI, squeeze=False)
    return fig, list(axes[0])


def grid_figure(rows: int, columns: int, height: float, width: float = 11.0) -> Tuple[Any, Any]:
    return plt.subplots(rows, columns, figsize=(width, height), dpi=DPI, squeeze=False)


def plain_log(ax: Any, axis: str = "y") -> None:
    """Log ticks written as plain numbers (40, 100), not as 4 x 10^1."""
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    narrow = low > 0 and high / low < 30  # under about 1.5 decades: label 2, 3, 5 too

    def minor(value: float, _: object) -> str:
        lead = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
        return f"{value:,.10g}" if narrow and lead in (2, 3, 5) else ""

    target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.10g}"))
    target.set_minor_formatter(FuncFormatter(minor))


def finish(fig: Any, out: Path, slug: str, question: str, caption: str, legend: Any = None) -> None:
    """Title (the question), one legend under it (from the ``legend`` axes), the caption
    under the axes, and the PNG; the figure is closed."""
    fig.suptitle(question, fontsize=13, fontweight="bold")
    top = 0.95
    if legend is not None:
        handles, labels = legend.get_legend_handles_labels()
        height = fig.get_size_inches()[1]
        anchor = (0.5, 1 - 0.45 / height)
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=9,
                   frameon=False, bbox_to_anchor=anchor)  # fmt: skip
        top = 1 - 0.7 / height
    wrapped = "\n".join(textwrap.wrap(caption, 150))
    lines = wrapped.count("\n") + 1
    fig.text(0.01, 0.01, wrapped, fontsize=7.5, color="#444444", va="bottom", ha="left")
    height = fig.get_size_inches()[1]
    bottom = (0.5 + 0.13 * lines) / height
    fig.tight_layout(rect=(0, bottom, 1, top))
    fig.savefig(out / f"{slug}.png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def ms(value: float) -> str:
    """A duration in ms for a sentence: two decimals below 1 ms, whole ms from 10."""
    return (
        f"{value:.2f} ms" if value < 1 else f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"
    )


def log_safe(values: Sequence[Optional[float]]) -> List[float]:
    """Zeros and missing values become NaN, so a log axis leaves a gap instead of failing."""
    return [v if v is not None and v > 0 else math.nan for v in values]


def bootstrap_median(values: Sequence[float], draws: int = 2000) -> Tuple[float, float, float]:
    """Median and a seeded bootstrap 95% interval of it (deterministic for the same values)."""
    import random

    rng = random.Random(20220107)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(draws))
    return statistics.median(values), medians[int(0.025 * draws)], medians[int(0.975 * draws)]


def share_interval(
    policy: Sequence[float], disabled: Sequence[float], draws: int = 2000
) -> Tuple[float, float, float]:
    """GC share of a policy's time, 1 - median(disabled) / median(policy), with a seeded
    bootstrap 95% interval (independent samples: the two sets of pyperf values)."""
    import random

    rng = random.Random(20220107)
    point = 1 - statistics.median(disabled) / statistics.median(policy)
    shares = sorted(
        1
        - statistics.median(rng.choices(disabled, k=len(disabled)))
        / statistics.median(rng.choices(policy, k=len(policy)))
        for _ in range(draws)
    )
    return point, shares[int(0.025 * draws)], shares[int(0.975 * draws)]


def by_key(records: Sequence[Dict[str, Any]], *keys: str) -> Dict[tuple, Dict[str, Any]]:
    """Index records by the given fields (the last record of a key wins)."""
    return {tuple(record[key] for key in keys): record for record in records}


def bar_labels(ax: Any, bars: Any, labels: Sequence[str], size: float = 7.0) -> None:
    for bar, label in zip(bars, labels):
        height = bar.get_height()
        if label and height and not math.isnan(height):
            ax.annotate(
                label,
                (bar.get_x() + bar.get_width() / 2, height),
                ha="center",
                va="bottom",
                fontsize=size,
                xytext=(0, 1),
                textcoords="offset points",
            )
