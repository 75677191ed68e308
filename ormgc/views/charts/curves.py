"""Curves: the threshold sweep, result-size scaling, the suite's own overhead; the seed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Sequence, Union

import numpy as np

from ormgc.views.charts.common import (
    ORM_COLOURS,
    VERSION_COLOURS,
    Chart,
    Missing,
    bar_labels,
    figure,
    finish,
    grid_figure,
    log_safe,
    ms,
    orm_order,
    plain_log,
    policy_colour,
    policy_order,
)
from ormgc.views.charts.report_data import ResultSet, machines, minor, version_key
from ormgc.views.charts.thresholds_exact import draw_instructions
from ormgc.views.tables.table import PUBLISHED, PUBLISHED_SCENARIO

Drawn = Union[Chart, Missing]


def _threshold_of(record: Dict[str, Any]) -> float:
    if record["policy"] == "disabled":
        return math.nan
    return float(record["gc_threshold"][0])


def threshold_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "threshold-curve"
    question = "What does raising the first GC threshold buy: collections, time, memory?"
    records = [r for r in results.thresholds.records if r["policy"] != "default"]
    if not records:
        return Missing(slug, question, "needs results/thresholds/<X.Y>.json (nox -s thresholds)")
    exact = results.thresholds_exact.records
    versions = sorted({minor(r["python"]) for r in [*records, *exact]}, key=version_key)
    fig, axes = figure(4 if exact else 3, height=4.8, width=14.5 if exact else 11.0)
    panels = (
        ("collections_total", "collections per query (log scale)", True),
        ("cpu_ms", "CPU time per query (ms, median)", False),
        ("peak_rss_mb", "peak RSS of the query (MB)", False),
    )
    findings = []
    for index, version in enumerate(versions):
        mine = [r for r in records if minor(r["python"]) == version]
        curve = sorted((r for r in mine if r["policy"] != "disabled"), key=_threshold_of)
        off = next((r for r in mine if r["policy"] == "disabled"), None)
        colour = VERSION_COLOURS[index % len(VERSION_COLOURS)]
        x = [_threshold_of(r) for r in curve]
        for ax, (field, _, log_y) in zip(axes, panels):
            y = [r[field] for r in curve]
            ax.plot(x, log_safe(y) if log_y else y, marker="o", ms=3.5, color=colour,
                    label=f"Python {version}")  # fmt: skip
            if off is not None and not log_y:
                ax.axhline(off[field], color=colour, linestyle=":", linewidth=1)
        if curve and off is not None:
            first, last = curve[0], curve[-1]
            findings.append(
                f"{version}: {first['collections_total']:,} collections and {ms(first['cpu_ms'])} "
                f"at {x[0]:,.0f}, {last['collections_total']} and {ms(last['cpu_ms'])} at "
                f"{x[-1]:,.0f}, GC off {ms(off['cpu_ms'])}"
            )
    for ax, (_, label, log_y) in zip(axes, panels):
        ax.set_xscale("log")
        plain_log(ax, "x")
        if log_y:
            ax.set_yscale("log")
            plain_log(ax)
        else:
            ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.1)  # from zero: flat reads as flat
        ax.set_xlabel("first threshold (log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_title("dotted: the same Python, GC disabled", fontsize=9)
    if exact:  # the cost in instructions, beside the timed one
        colour_of = lambda v: VERSION_COLOURS[versions.index(v) % len(VERSION_COLOURS)]  # noqa: E731
        findings += draw_instructions(axes[3], exact, colour_of)
    first = records[0]
    caption = (
        f"{first['orm']} {first['shape']}, {first['loaded']:,} of {first['rows']:,} rows; counts "
        f"are deterministic, times the median of {first.get('repeat', 1)} fresh processes (CPU "
        f"time on a shared machine: a trend, not a precise figure). Source: "
        f"{results.rel(results.thresholds.files)}. Machine: {machines(records)}."
    )
    if exact:
        caption += (
            f" Right: instructions under valgrind (exact; one run each, a smaller dataset; "
            f"the collector counted between gc.callbacks where the build has no symbol). "
            f"Source: {results.rel(results.thresholds_exact.files)}."
        )
    finish(fig, out, slug, question, caption, legend=axes[0])
    return Chart(slug, question, caption, "; ".join(findings))


def _share(record: Dict[str, Any], off: Dict[str, Any]) -> float:
    return 100 * (1 - off["cpu_ms"] / record["cpu_ms"]) if record["cpu_ms"] else math.nan


def scaling_chart(results: ResultSet, out: Path) -> Drawn:
    slug, question = "scaling", "Does the GC's cost grow faster than the result?"
    records = [r for r in results.scaling.records if r["shape"] == "seed_loop"]
    if not records:
        return Missing(slug, question, "needs results/scaling/*.json (ormgc run --rows 1000,...)")
    orms = orm_order([r["orm"] for r in records])
    fig, axes = grid_figure(len(orms), 3, height=3.5 * len(orms) + 1.3, width=12)
    findings = []
    for row, orm in enumerate(orms):
        mine = [r for r in records if r["orm"] == orm]
        policies = policy_order([r["policy"] for r in mine])
        off = {r["rows"]: r for r in mine if r["policy"] == "disabled"}
        for index, policy in enumerate(policies):
            curve = sorted((r for r in mine if r["policy"] == policy), key=lambda r: r["rows"])
            x = [r["rows"] for r in curve]
            style = {"marker": "o", "ms": 4, "color": policy_colour(policy, index), "label": policy}
            axes[row][0].plot(x, [r["cpu_ms"] * 1e3 / r["loaded"] for r in curve], **style)
            axes[row][1].plot(x, log_safe([r["pause_ms"]["max"] for r in curve]), **style)
            if policy != "disabled":
                shares = [
                    _share(r, off[r["rows"]]) if r["rows"] in off else math.nan for r in curve
                ]
                axes[row][2].plot(x, shares, **style)
        labels = (
            "CPU time per loaded object (µs)",
            "worst single pause (ms, log scale)",
            "GC share of CPU time (%)",
        )
        for column, label in enumerate(labels):
            ax = axes[row][column]
            ax.set_xscale("log")
            plain_log(ax, "x")
            if column == 1:
                ax.set_yscale("log")
                plain_log(ax)
            ax.set_xlabel("rows in the table (a fifth loaded; log scale)")
            ax.set_ylabel(label)
            ax.set_title(f"{orm} ({mine[0].get('server', 'server unknown')})", fontsize=10)
            ax.grid(alpha=0.3)
        axes[row][0].set_ylim(bottom=0)
        default = sorted((r for r in mine if r["policy"] == "default"), key=lambda r: r["rows"])
        if default and default[0]["rows"] in off and default[-1]["rows"] in off:
            small, big = default[0], default[-1]
            findings.append(
                f"{orm} default: GC {_share(small, off[small['rows']]):.0f}% of CPU and worst "
                f"pause {ms(small['pause_ms']['max'])} at {small['rows']:,} rows, "
                f"{_share(big, off[big['rows']]):.0f}% and {ms(big['pause_ms']['max'])} at "
                f"{big['rows']:,}"
            )
    first = records[0]
    repeats = " or ".join(
        str(n) for n in sorted({r.get("repeat", 1) for r in records}, reverse=True)
    )
    caption = (
        f"ormgc run --rows 1000,...: the published loop, each size in fresh processes, median of "
        f"{repeats}, Python {first['python']}; CPU time of the client process "
        f"(the embedded MongoDB server's own work is not in it); pauses are wall time, longer "
        f"when the shared machine is busy. Source: "
        f"{results.rel(results.scaling.files)}. Machine: {machines(records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0][0])
    return Chart(slug, question, caption, "; ".join(findings))


def overhead_chart(results: ResultSet, out: Path) -> Drawn:
    slug, question = "suite-overhead", "Does the suite's own cost per row stay flat as sizes grow?"
    if not results.overheads:
        return Missing(slug, question, "needs results/scaling/overhead-<orm>.json "
                       "(scripts/bench_scaling_overhead.py --json)")  # fmt: skip
    fig, axes = figure(2, height=5.0)
    panels = (
        ("build_us_per_row", "dataset build time per row (µs)", ""),
        ("probe_us_per_object", "probe per loaded object (µs, log scale)", "{:.2f}"),
    )
    findings, described = [], []
    ranks = orm_order([o.get("orm", "sqlalchemy") for o in results.overheads])
    overheads = sorted(results.overheads, key=lambda o: ranks.index(o.get("orm", "sqlalchemy")))
    for index, overhead in enumerate(overheads):
        sizes: List[Dict[str, Any]] = overhead["sizes"]
        orm = overhead.get("orm", "sqlalchemy")
        x = [size["rows"] for size in sizes]
        colour = ORM_COLOURS.get(orm, VERSION_COLOURS[index % len(VERSION_COLOURS)])
        below = index % 2 == 1  # the second ORM's labels under its points: no overlap
        for ax, (field, _, fmt) in zip(axes, panels):
            y = [size[field] for size in sizes]
            ax.plot(x, y, marker="o", color=colour, label=f"{orm}: wall")
            if fmt:  # values on the log panel only: on the build panel they would collide
                bar_labels_line(ax, x, y, fmt, below)
        if all("build_cpu_s" in size for size in sizes):  # this process's CPU, flat if wall isn't
            cpu = [size["build_cpu_s"] / size["rows"] * 1e6 for size in sizes]
            axes[0].plot(x, cpu, marker="s", linestyle="--", color=colour, label=f"{orm}: CPU")
        judged = [s for s in sizes if s["rows"] >= 10_000]
        if judged:
            build = [s["build_us_per_row"] for s in judged]
            cpu = [s["build_cpu_s"] / s["rows"] * 1e6 for s in judged if "build_cpu_s" in s]
            findings.append(
                f"{orm} from 10,000 rows up: build {min(build):.0f}-{max(build):.0f} µs per row"
                + (f" ({min(cpu):.0f}-{max(cpu):.0f} µs of CPU)" if cpu else "")
                + f", probe at most {max(s['probe_share_model'] for s in judged):.2%} of the query"
            )
        described.append(f"{orm}: {overhead.get('machine')}, Python {overhead.get('python')}")
    for ax, (_, label, _) in zip(axes, panels):
        ax.set_xscale("log")
        plain_log(ax, "x")
        if "log" in label:  # the fixed cost dominates at 1,000 rows: a decade above the rest
            ax.set_yscale("log")
            low, high = ax.get_ylim()
            ax.set_ylim(low / 2, high * 2)
            plain_log(ax)
        else:
            ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.2)  # from zero: flat reads as flat
        ax.set_xlabel("rows in the dataset (log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    caption = (
        "Datasets built from scratch by the fixtures' real path (SQLite: generate, bulk insert, "
        "verify, rename; MongoDB: insert_many into the embedded server, verify), wall time and "
        "the building process's CPU time (a busy machine stretches the first); the probe "
        "priced by its cost model (fixed + per-collection callbacks) over the loaded objects. "
        f"Source: {results.rel(results.overhead_files)}. Machine: {'; '.join(described)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0])
    return Chart(slug, question, caption, "; ".join(findings))


def bar_labels_line(
    ax: Any, x: Sequence[float], y: Sequence[float], fmt: str, below: bool = False
) -> None:
    for xi, yi in zip(x, y):
        offset = (0, -12 if below else 5)
        ax.annotate(fmt.format(yi), (xi, yi), xytext=offset, textcoords="offset points",
                    ha="center", fontsize=8)  # fmt: skip


def published_chart(results: ResultSet, out: Path) -> Drawn:
    slug, question = "published", "Do today's numbers confirm the published experiment?"
    today = [
        r
        for r in results.seed.records
        if all(r.get(k) == v for k, v in PUBLISHED_SCENARIO.items())
        and (r["orm"], r["policy"]) in PUBLISHED
    ]
    if not today:
        return Missing(slug, question, "needs results/seed/vm.json (./dev bench --json ...)")
    groups = [f"{r['orm']}\n{r['policy']}" for r in today]
    published = [PUBLISHED[r["orm"], r["policy"]] for r in today]
    fig, axes = figure(2, height=4.6)
    panels = (
        (0, "collections_total", "collections per query (log scale)", True),
        (1, "wall_ms", "wall time per query (ms)", False),
    )
    x = np.arange(len(today))
    for ax, (column, field, label, log_y) in zip(axes, panels):
        if log_y:
            ax.set_yscale("log")
        then = [float(p[column]) for p in published]
        now = [float(r[field]) for r in today]
        for offset, values, name, colour in (
            (-0.2, then, "published (2022)", "#999999"),
            (0.2, now, f"today (Python {today[0]['python']})", "#0072B2"),
        ):
            bars = ax.bar(x + offset, log_safe(values), 0.4, label=name, color=colour)
            bar_labels(ax, bars, [f"{v:.0f}" for v in values], size=8)
        ax.set_xticks(x, groups, fontsize=8)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        top = max(then + now)
        if log_y:
            ax.set_ylim(top=top * 2.5)
            plain_log(ax)
        else:
            ax.set_ylim(top=top * 1.12)
    finding = "; ".join(
        f"{r['orm']} {r['policy']}: {r['collections_total']} collections (published {p[0]}), "
        f"{r['wall_ms']:.0f} ms (published {p[1]})"
        for r, p in zip(today, published)
    )
    caption = (
        f"The seed scenario ({PUBLISHED_SCENARIO['rows']:,} rows, {PUBLISHED_SCENARIO['loaded']:,} "
        f"loaded, the published loop), median of {today[0].get('repeat', 1)}; published figures "
        f"from the seed experiment (ormgc.views.tables.table.PUBLISHED), another machine; "
        f"MongoEngine's wall time here is mostly the embedded server's. Source: "
        f"{results.rel(results.seed.files)}. Machine: {machines(today)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0])
    return Chart(slug, question, caption, finding)
