"""Memory charts from results/memory/: RSS over a long request loop, prefork workers' USS/PSS."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ormgc.views.charts.common import (
    Chart,
    Missing,
    bar_labels,
    finish,
    grid_figure,
    orm_order,
    policy_colour,
    policy_order,
)
from ormgc.views.charts.report_data import ResultSet, machines, minor, version_key

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
        "run each (timing-free: RSS and counts). "
        f"Source: {_sources(results, 'timeline', 'trash')}. Machine: {machines(records)}."
    )
    legend_ax = axes[0][0]
    finish(fig, out, slug, question, caption, legend=legend_ax)
    return Chart(slug, question, caption, "; ".join(findings))


def _per_worker(record: Dict[str, Any], field: str) -> List[float]:
    """``field`` per worker (the total over workers / their number), one value per run."""
    workers = len(record["workers"])
    runs = [run["workers_total"] for run in record.get("runs", []) if "workers_total" in run]
    return [total[field] / workers for total in runs or [record["workers_total"]]]


def _spread(values: List[float]) -> Tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def _sources(results: ResultSet, *prefixes: str) -> str:
    """The memory files a chart drew, by pattern and count (the full list is in the report)."""
    folder = results.root.name + "/memory"
    counts = [(p, sum(f.name.startswith(p + "-") for f in results.memory.files)) for p in prefixes]
    return ", ".join(f"{folder}/{p}-*.json ({n} files)" for p, n in counts if n)


def prefork_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "prefork-memory"
    question = "Does gc.freeze() before fork save memory per worker?"
    records = [r for r in results.memory.records if r["shape"] == "prefork" and "workers" in r]
    if not records:
        return Missing(slug, question, "needs results/memory/prefork-*.json")
    orms = orm_order([r["orm"] for r in records])
    policies = policy_order([r["policy"] for r in records])
    # one row per policy, one column per ORM, the Pythons along each panel: bars are USS per
    # worker (the private memory freeze is meant to save), diamonds PSS (with the shared share)
    fig, axes = grid_figure(len(policies), len(orms), height=2.6 * len(policies) + 1.8, width=13)
    findings = []
    for column, orm in enumerate(orms):
        mine = [r for r in records if r["orm"] == orm]
        pythons = sorted({python_label(r) for r in mine}, key=label_key)
        x = np.arange(len(pythons))
        for row, policy in enumerate(policies):
            ax = axes[row][column]
            top = 0.0
            for offset, freeze in ((-0.2, True), (0.2, False)):
                uss = [_point(mine, (p, policy), freeze, "uss_mb") for p in pythons]
                pss = [_point(mine, (p, policy), freeze, "pss_mb") for p in pythons]
                heights = [u[0] if u else 0 for u in uss]
                errors = np.array([[u[0] - u[1], u[2] - u[0]] if u else [0, 0] for u in uss]).T
                bars = ax.bar(x + offset, heights, 0.4, yerr=errors, capsize=2,
                              color=FREEZE_COLOURS[freeze],
                              label="freeze before fork" if freeze else "no freeze")  # fmt: skip
                bar_labels(ax, bars, [f"{h:.0f}" if h else "" for h in heights], size=6.5)
                shown = [(i + offset, v[0]) for i, v in enumerate(pss) if v]
                if shown:
                    ax.plot(*zip(*shown), "D", color="#333333", markersize=3, linestyle="none",
                            label="PSS (same runs)" if freeze else None)  # fmt: skip
                top = max([top] + [v[0] for v in pss if v] + [u[2] for u in uss if u])
            ax.set_xticks(x, pythons, fontsize=7)
            ax.set_ylim(0, top * 1.18)  # each panel its own scale: freeze vs not is the question
            ax.grid(axis="y", alpha=0.3)
            if column == 0:
                ax.set_ylabel(f"{policy}\nMB per worker", fontsize=8)
            if row == 0:
                ax.set_title(orm, fontsize=10)
        for python in pythons:
            on = _point(mine, (python, "default"), True, "uss_mb")
            off = _point(mine, (python, "default"), False, "uss_mb")
            if on and off:
                findings.append(
                    f"{orm} {python} default: USS/worker {on[0]:.1f} MB frozen vs {off[0]:.1f} "
                    f"not (runs {on[1]:.1f}-{on[2]:.1f} vs {off[1]:.1f}-{off[2]:.1f})"
                )
    first = records[0]
    caption = (
        f"{len(first['workers'])} workers forked from a parent holding {first['warm_objects']:,} "
        f"loaded objects, each serving {first['requests']} requests of "
        f"{first['per_request']}; memory of each worker at the end of its loop (all workers "
        "alive), from /proc/PID/smaps_rollup. Bars: USS (private memory), median over the runs, "
        f"whiskers min-max ({first.get('repeat', 1)} runs); diamonds: PSS. Freeze: gc.collect(), "
        "gc.freeze(), then fork. Freeze saves memory where the unfrozen worker runs a full "
        "collection, which writes to every object's GC header and so copies its page. "
        f"Source: {_sources(results, 'prefork')}. Machine: {machines(records)}."
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
