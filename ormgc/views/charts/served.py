"""The served shape's charts, from results/served/: latency percentiles per policy and Python,
and the workers' memory over the measured window."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np

from ormgc.views.charts.common import (
    VERSION_COLOURS,
    Chart,
    Missing,
    finish,
    grid_figure,
    orm_order,
    plain_log,
)
from ormgc.views.charts.report_data import ResultSet, machines, minor, version_key

Drawn = Union[Chart, Missing]
SERVED_POLICIES = ("default", "threshold:50000", "freeze+threshold:50000", "adaptive")
SERVED_COLOURS = {"default": "#D55E00", "threshold:50000": "#0072B2",
                  "freeze+threshold:50000": "#56B4E9", "adaptive": "#CC79A7"}  # fmt: skip


def _policies(records: List[Dict[str, Any]]) -> List[str]:
    names = list(dict.fromkeys(r["policy"] for r in records))
    return [p for p in SERVED_POLICIES if p in names] + [
        p for p in names if p not in SERVED_POLICIES
    ]


def _colour(policy: str, index: int) -> str:
    return SERVED_COLOURS.get(policy, VERSION_COLOURS[index % len(VERSION_COLOURS)])


def _settings(record: Dict[str, Any]) -> str:
    return (
        f"{record['workers']} sync gunicorn workers, {record['target_rps']:g} requests/s for "
        f"{record['duration_s']:g} s after {record['warmup_s']:g} s of warm-up, "
        f"{record['per_request']} objects per list page, {record['repeat']} rounds"
    )


def latency_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "served-latency"
    question = "Under a real gunicorn at a fixed rate, what does each GC setting do to p99?"
    records = results.served.records
    if not records:
        return Missing(slug, question, "needs results/served/*.json (scripts/served_results.sh)")
    orms = orm_order([r["orm"] for r in records])
    policies = _policies(records)
    fig, axes = grid_figure(len(orms), 1, height=3.2 * len(orms) + 1.6, width=13)
    findings = []
    for row, orm in enumerate(orms):
        ax = axes[row][0]
        mine = [r for r in records if r["orm"] == orm]
        pythons = sorted({minor(r["python"]) for r in mine}, key=version_key)
        x = np.arange(len(pythons))
        width = 0.8 / len(policies)
        for index, policy in enumerate(policies):
            offset = (index - (len(policies) - 1) / 2) * width
            for column, python in enumerate(pythons):
                record = next(
                    (r for r in mine if r["policy"] == policy and minor(r["python"]) == python),
                    None,
                )
                if record is None:
                    continue
                rounds = [run["p99"] for run in record["runs"]]
                p99 = statistics.median(rounds)
                ax.bar(
                    column + offset,
                    p99,
                    width,
                    color=_colour(policy, index),
                    label=policy if column == 0 else None,
                )
                ax.vlines(column + offset, min(rounds), max(rounds), color="#333333", linewidth=1)
                ax.plot(column + offset, record["latency_ms"]["p50"], "_", color="#000000",
                        markersize=7)  # fmt: skip
                findings.append(f"{orm} {python} {policy}: p99 {p99:.1f} ms")
        ax.set_yscale("log")
        plain_log(ax)
        ax.set_xticks(x, [f"Python {p}" for p in pythons], fontsize=8)
        ax.set_ylabel(f"{orm}\nlatency (ms, log)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    caption = (
        f"Bars: p99 latency, median over the rounds, measured from each request's due time (no "
        "coordinated omission); whiskers: the rounds' lowest and highest p99; black tick: p50. "
        f"{_settings(records[0])}; a fresh server per run, policies interleaved. Policies are "
        "applied as gunicorn.conf.py hooks (freeze in when_ready, thresholds in post_fork). "
        f"Source: results/served/*.json ({len(results.served.files)} files). "
        f"Machine: {machines(records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0][0])
    return Chart(slug, question, caption, "; ".join(findings))


def memory_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "served-memory"
    question = "How much memory does each gunicorn worker hold over the run, per GC setting?"
    records = [r for r in results.served.records if r.get("per_worker")]
    if not records:
        return Missing(slug, question, "needs results/served/*.json (scripts/served_results.sh)")
    orms = orm_order([r["orm"] for r in records])
    pythons = sorted({minor(r["python"]) for r in records}, key=version_key)
    policies = _policies(records)
    fig, axes = grid_figure(len(pythons), len(orms), height=1.9 * len(pythons) + 1.8, width=12)
    findings = []
    for row, python in enumerate(pythons):
        for column, orm in enumerate(orms):
            ax = axes[row][column]
            for index, policy in enumerate(policies):
                record = next((r for r in records if (minor(r["python"]), r["orm"], r["policy"])
                               == (python, orm, policy)), None)  # fmt: skip
                timelines = [
                    w["timeline"] for w in (record or {}).get("per_worker", []) if w.get("timeline")
                ]
                if not timelines:
                    continue
                points = min(len(t) for t in timelines)
                times = [timelines[0][i]["t_s"] for i in range(points)]
                pss = [statistics.fmean(t[i]["pss_mb"] for t in timelines) for i in range(points)]
                ax.plot(times, pss, color=_colour(policy, index), linewidth=1.5,
                        label=policy if (row, column) == (0, 0) else None)  # fmt: skip
                findings.append(f"{orm} {python} {policy}: PSS {pss[0]:.1f} -> {pss[-1]:.1f} MB")
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if row == 0:
                ax.set_title(orm, fontsize=10)
            if column == 0:
                ax.set_ylabel(f"Python {python}\nPSS MB/worker", fontsize=8)
            if row == len(pythons) - 1:
                ax.set_xlabel("seconds into the measured window", fontsize=8)
    caption = (
        "PSS per worker (mean over the workers), sampled every 0.25 s from /proc/PID/smaps_rollup "
        f"during the last round's measured window. {_settings(records[0])}. PSS counts the "
        "pages a worker shares with the master and its sibling at their share: a frozen, "
        "untouched warm set stays shared. "
        f"Source: results/served/*.json ({len(results.served.files)} files). "
        f"Machine: {machines(records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0][0])
    return Chart(slug, question, caption, "; ".join(findings))
