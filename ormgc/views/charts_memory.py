"""Memory charts from results/memory/: RSS over a long request loop, prefork workers' USS/PSS."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ormgc.views.charts_common import (
    Chart,
    Missing,
    bar_labels,
    finish,
    grid_figure,
    orm_order,
    policy_colour,
    policy_order,
)
from ormgc.views.report_data import ResultSet, machines, minor, version_key

Drawn = Union[Chart, Missing]
FREEZE_COLOURS = {True: "#0072B2", False: "#E69F00"}
LINE_STYLES = ("-", "--", ":", "-.")  # threshold:50000 and disabled may coincide: both visible


def python_label(record: Dict[str, Any]) -> str:
    """'3.12', or the full version where the GC is the incremental one (two generations:
    3.14.0-3.14.4), which shares its minor version with the generational 3.14.5+."""
    if record.get("gc_generations") == 2:
        return f"{record['python']} (incremental)"
    return minor(record["python"])


def label_key(label: str) -> Tuple:
    return version_key(minor(label.split()[0])), label


def _workload(record: Dict[str, Any]) -> str:
    return "trash loop" if record["shape"] == "trash_loop" else f"{record['orm']} request loop"


def _workload_order(names: Sequence[str]) -> List[str]:
    orms = orm_order([n.split()[0] for n in names if n != "trash loop"])
    ordered = (["trash loop"] if "trash loop" in names else []) + [
        f"{o} request loop" for o in orms
    ]
    return [n for n in ordered if n in names]


def timeline_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "memory-over-requests"
    question = "How does memory evolve over a long request loop, per Python and GC policy?"
    records = [r for r in results.memory.records if r["shape"] in ("request_loop", "trash_loop")]
    if not records:
        return Missing(slug, question, "needs results/memory/*.json (scripts/memory_results.sh)")
    pythons = sorted({python_label(r) for r in records}, key=label_key)
    workloads = _workload_order(list({_workload(r) for r in records}))
    fig, axes = grid_figure(len(pythons), len(workloads), height=2.0 * len(pythons) + 1.6, width=12)
    findings = []
    for row, python in enumerate(pythons):
        for column, workload in enumerate(workloads):
            ax = axes[row][column]
            mine = [r for r in records if python_label(r) == python and _workload(r) == workload]
            if not mine:
                ax.text(0.5, 0.5, "not measured", ha="center", va="center", color="#888888",
                        transform=ax.transAxes, fontsize=8)  # fmt: skip
                ax.set_xticks([])
            for index, policy in enumerate(policy_order([r["policy"] for r in mine])):
                record = next(r for r in mine if r["policy"] == policy)
                timeline = record["rss_timeline"]
                base = timeline[0]["rss_mb"]
                growth = [s["rss_mb"] - base for s in timeline]
                ax.plot([s["request"] for s in timeline], growth, label=policy,
                        color=policy_colour(policy, index), linewidth=1.6,
                        linestyle=LINE_STYLES[index % len(LINE_STYLES)])  # fmt: skip
                if workload == "trash loop":
                    findings.append(
                        f"{python} trash loop {policy}: +{timeline[-1]['rss_mb'] - base:.1f} MB "
                        f"after {timeline[-1]['request']:,} iterations, "
                        f"{record['collections_total']:,} collections"
                    )
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if row == 0:
                ax.set_title(workload, fontsize=9)
            if column == 0:
                ax.set_ylabel(f"Python {python}\nRSS growth (MB)", fontsize=8)
            if row == len(pythons) - 1:
                ax.set_xlabel("request", fontsize=8)
    for column in range(len(workloads)):  # one scale per workload: Pythons compare down a column
        top = max(axes[row][column].get_ylim()[1] for row in range(len(pythons)))
        low = min(axes[row][column].get_ylim()[0] for row in range(len(pythons)))
        for row in range(len(pythons)):
            axes[row][column].set_ylim(low, top)
    first = records[0]
    trash = next((r for r in records if r["shape"] == "trash_loop"), first)
    caption = (
        f"RSS minus its value at the first request, sampled every {first.get('timeline_every')} "
        f"requests (rss_timeline); request loops load {first.get('per_request')} objects per "
        f"request; the trash loop makes {trash.get('per_request')} two-list cycles holding 1 KiB "
        "per iteration, garbage only the cyclic GC frees. One fresh process per policy, one "
        f"run each (timing-free: RSS and counts). Source: {results.rel(results.memory.files)}. "
        f"Machine: {machines(records)}."
    )
    legend_ax = axes[0][0]
    finish(fig, out, slug, question, caption, legend=legend_ax)
    return Chart(slug, question, caption, "; ".join(findings))


def _short(policy: str) -> str:
    """Policy names that fit under a bar pair: threshold:50000 -> t:50000, disabled -> off."""
    return policy.replace("threshold:", "t:").replace("disabled", "off")


def _per_worker(record: Dict[str, Any], field: str) -> List[float]:
    """``field`` per worker (the total over workers / their number), one value per run."""
    workers = len(record["workers"])
    runs = [run["workers_total"] for run in record.get("runs", []) if "workers_total" in run]
    return [total[field] / workers for total in runs or [record["workers_total"]]]


def _spread(values: List[float]) -> Tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def prefork_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "prefork-memory"
    question = "Does gc.freeze() before fork save memory per worker?"
    records = [r for r in results.memory.records if r["shape"] == "prefork" and "workers" in r]
    if not records:
        return Missing(slug, question, "needs results/memory/prefork-*.json")
    orms = orm_order([r["orm"] for r in records])
    metrics = (("uss_mb", "USS per worker (MB)"), ("pss_mb", "PSS per worker (MB)"))
    fig, axes = grid_figure(len(metrics), len(orms), height=7.4, width=13)
    findings = []
    for column, orm in enumerate(orms):
        mine = [r for r in records if r["orm"] == orm]
        groups = sorted(
            {(python_label(r), r["policy"]) for r in mine},
            key=lambda g: (label_key(g[0]), policy_order([r["policy"] for r in mine]).index(g[1])),
        )
        x = np.arange(len(groups))
        for row, (field, label) in enumerate(metrics):
            ax = axes[row][column]
            for offset, freeze in ((-0.2, True), (0.2, False)):
                points = [_point(mine, group, freeze, field) for group in groups]
                heights = [p[0] if p else 0 for p in points]
                errors = np.array([[p[0] - p[1], p[2] - p[0]] if p else [0, 0] for p in points]).T
                bars = ax.bar(x + offset, heights, 0.4, yerr=errors, capsize=2,
                              color=FREEZE_COLOURS[freeze],
                              label="freeze before fork" if freeze else "no freeze")  # fmt: skip
                bar_labels(ax, bars, [f"{h:.0f}" if h else "" for h in heights], size=6.5)
            ax.set_xticks(x, [f"{p}\n{_short(policy)}" for p, policy in groups], fontsize=6.5)
            ax.grid(axis="y", alpha=0.3)
            ax.set_ylabel(label, fontsize=8)
            if row == 0:
                ax.set_title(orm, fontsize=10)
        for python, policy in groups:
            on = _point(mine, (python, policy), True, "uss_mb")
            off = _point(mine, (python, policy), False, "uss_mb")
            pss_on = _point(mine, (python, policy), True, "pss_mb")
            pss_off = _point(mine, (python, policy), False, "pss_mb")
            gc_on = _point(mine, (python, policy), True, "gc_ms")
            gc_off = _point(mine, (python, policy), False, "gc_ms")
            if on and off and pss_on and pss_off and gc_on and gc_off and policy == "default":
                findings.append(
                    f"{orm} {python}: USS/worker {on[0]:.1f} MB frozen vs {off[0]:.1f} not "
                    f"(runs {on[1]:.1f}-{on[2]:.1f} vs {off[1]:.1f}-{off[2]:.1f}), "
                    f"PSS {pss_on[0]:.1f} vs {pss_off[0]:.1f}, GC {gc_on[0]:.0f} vs "
                    f"{gc_off[0]:.0f} ms/worker"
                )
    first = records[0]
    caption = (
        f"{len(first['workers'])} workers forked from a parent holding {first['warm_objects']:,} "
        f"loaded objects, each serving {first['requests']} requests of "
        f"{first['per_request']}; USS and PSS of each worker at the end of its loop (all "
        "workers alive), from /proc/PID/smaps_rollup; t:N is threshold:N, off is disabled; "
        "bars: median over the runs, whiskers: "
        f"min-max ({first.get('repeat', 1)} runs). Freeze: gc.collect(), gc.freeze(), then fork. "
        f"Source: {results.rel(results.memory.files)}. Machine: {machines(records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0][0])
    return Chart(slug, question, caption, "; ".join(findings))


def _point(
    records: List[Dict[str, Any]], group: Tuple[str, str], freeze: bool, field: str
) -> Optional[Tuple[float, float, float]]:
    python, policy = group
    for record in records:
        if (python_label(record), record["policy"], record["freeze"]) == (python, policy, freeze):
            return _spread(_per_worker(record, field))
    return None
