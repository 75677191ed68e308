"""Charts across Python versions x GC policies, from the pyperf matrix (results/pyperf/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from orm_fixtures import DEFAULT_ROWS
from ormgc.views.charts.common import (
    Chart,
    Missing,
    bar_labels,
    bootstrap_median,
    figure,
    finish,
    grid_figure,
    log_safe,
    ms,
    plain_log,
    policy_colour,
    policy_order,
    share_interval,
)
from ormgc.views.charts.exact_versions import (
    Size,
    common_size,
    draw_instructions,
    exact_cells,
    savings,
    share_title,
    size_text,
    table,
)
from ormgc.views.charts.exact_versions import finding as exact_finding
from ormgc.views.charts.report_data import ResultSet, machines, minor, version_key

Drawn = Union[Chart, Missing]
_SHAPE = "seed_loop"  # the published loop: the matrix's common shape


def _matrix(results: ResultSet) -> Tuple[List[str], List[str], List[Dict[str, Any]]]:
    records = [r for r in results.probes.records if r["shape"] == _SHAPE]
    versions = sorted({minor(r["python"]) for r in records}, key=version_key)
    orms = list(dict.fromkeys(r["orm"] for r in records))
    return versions, orms, records


def _grouped(
    ax: Any,
    versions: Sequence[str],
    policies: Sequence[str],
    value: Any,
    labels: bool = True,
    fmt: str = "{:.0f}",
) -> None:
    """Bars per version (groups) and policy (colours); value(version, policy) -> (y, lo, hi)."""
    width = 0.8 / max(1, len(policies))
    x = np.arange(len(versions))
    for index, policy in enumerate(policies):
        points = [value(version, policy) for version in versions]
        heights = [p[0] if p else None for p in points]
        errors = None
        if any(p and p[1] is not None for p in points):
            errors = np.array(
                [[p[0] - p[1], p[2] - p[0]] if p and p[1] is not None else [0, 0] for p in points]
            ).T
        bars = ax.bar(
            x + (index - (len(policies) - 1) / 2) * width,
            log_safe(heights) if ax.get_yscale() == "log" else [h or 0 for h in heights],
            width,
            yerr=errors,
            capsize=2,
            label=policy,
            color=policy_colour(policy, index),
        )
        if labels:
            bar_labels(ax, bars, [fmt.format(h) if h else "" for h in heights])
        for bar, height in zip(bars, heights):  # measured as zero: said, not left blank
            if height == 0 and ax.get_yscale() != "log":
                ax.annotate("0", (bar.get_x() + bar.get_width() / 2, 0), ha="center",
                            va="bottom", fontsize=7, xytext=(0, 1), textcoords="offset points",
                            color=policy_colour(policy, index), fontweight="bold")  # fmt: skip
    tops = [p[2] if p[2] is not None else p[0] for policy in policies for p in
            (value(version, policy) for version in versions) if p and p[0]]  # fmt: skip
    if tops:  # room above the tallest bar for its label
        ax.set_ylim(top=max(tops) * (2.0 if ax.get_yscale() == "log" else 1.12))
    ax.set_xticks(x, versions)
    ax.set_xlabel("Python version")
    ax.grid(axis="y", alpha=0.3)


def collections_chart(results: ResultSet, out: Path) -> Drawn:
    slug, question = "collections", "How many GC collections does one query trigger, per Python?"
    versions, orms, records = _matrix(results)
    if not records:
        return Missing(slug, question, "needs results/pyperf/<machine>/<X.Y>.probe.json")
    policies = [p for p in policy_order([r["policy"] for r in records]) if p != "disabled"]
    index = {(minor(r["python"]), r["orm"], r["policy"]): r for r in records}
    fig, axes = figure(len(orms), height=4.6, width=min(16.0, 5.5 * max(2, len(orms))))
    for ax, orm in zip(axes, orms):
        ax.set_yscale("log")

        def value(version: str, policy: str, orm: str = orm) -> Optional[Tuple]:
            record = index.get((version, orm, policy))
            return (record["collections_total"], None, None) if record else None

        _grouped(ax, versions, policies, value)
        plain_log(ax)
        ax.set_title(f"{orm}: {records[0]['loaded']:,} objects loaded of {records[0]['rows']:,}")
        ax.set_ylabel("collections per query (log scale)")
    finding = "; ".join(
        f"{orm} {policy}: "
        + ", ".join(
            f"{v} {index[v, orm, policy]['collections_total']}"
            for v in versions
            if (v, orm, policy) in index
        )
        for orm in orms
        for policy in policies
    )
    caption = (
        f"Deterministic counts from the probe, shape {_SHAPE}; 'disabled' triggers none (not "
        f"drawn on a log scale). Source: {results.rel(results.probes.files)}. "
        f"Machine: {machines(records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0])
    return Chart(slug, question, caption, finding)


def gc_share(
    results: ResultSet, version: str, orm: str, policy: str, size: Optional[Size] = None
) -> Optional[Tuple]:
    """(share, lo, hi, how): exact share, else a paired ratio, else the pyperf values; exact
    at ``size`` (rows, loaded) when given and counted there."""
    exact = [
        record
        for record in results.exact.records
        if (minor(record["python"]), record.get("orm"), record.get("shape"), record["policy"])
        == (version, orm, _SHAPE, policy)
    ]
    if size is not None and (version, policy, size) in exact_cells(results, orm):
        exact = [exact_cells(results, orm)[version, policy, size]]
    if exact:  # the seed's size first, else the largest measured (exact runs are slow)
        best = max(exact, key=lambda r: (r.get("rows") == DEFAULT_ROWS, r.get("rows") or 0))
        rows = best.get("rows") or DEFAULT_ROWS
        return best["gc_share"], None, None, "exact" + f" at {rows:,} rows" * (rows != DEFAULT_ROWS)
    for record in results.paired.records:
        if (minor(record["python"]), record.get("orm"), record.get("shape")) != (
            version,
            orm,
            _SHAPE,
        ):
            continue
        versus = record["cpu_vs_baseline"]
        interval = versus.get("ci95") or [versus["ratio"], versus["ratio"]]
        if record["policy"] == policy and versus.get("baseline") == "disabled":
            share = [1 - 1 / versus["ratio"], 1 - 1 / interval[0], 1 - 1 / interval[1]]
            return share[0], share[1], share[2], "paired"
        if record["policy"] == "disabled" and versus.get("baseline") == policy:
            return 1 - versus["ratio"], 1 - interval[1], 1 - interval[0], "paired"
    values = {(t.policy): t.values for t in results.timings if (t.python, t.orm) == (version, orm)}
    if policy in values and "disabled" in values:
        return (*share_interval(values[policy], values["disabled"]), "timing")
    return None


def time_share_chart(results: ResultSet, out: Path) -> Drawn:
    slug = "time-and-gc-share"
    question = "How long does one query take, and how much of it is the GC?"
    timings = [t for t in results.timings if t.shape == _SHAPE]
    if not timings:
        return Missing(slug, question, "needs results/pyperf/<machine>/<X.Y>.json (pyperf)")
    versions = sorted({t.python for t in timings}, key=version_key)
    orms = list(dict.fromkeys(t.orm for t in timings))
    policies = policy_order([t.policy for t in timings])
    values = {(t.python, t.orm, t.policy): t.values for t in timings}
    timer = "CPU" if timings[0].timer == "cpu" else "wall-clock"
    fig, axes = grid_figure(len(orms), 3, height=3.6 * len(orms) + 1.4, width=16.5)
    hows: Dict[Tuple[str, str, str], str] = {}
    findings, blocks = [], []
    for row, orm in enumerate(orms):
        left, middle, right = axes[row]

        def time_of(version: str, policy: str, orm: str = orm) -> Optional[Tuple]:
            found = values.get((version, orm, policy))
            return tuple(x * 1e3 for x in bootstrap_median(found)) if found else None

        _grouped(left, versions, policies, time_of, labels=False)
        left.set_ylabel(f"{timer} time per query (ms)")
        left.set_title(f"{orm}: {timer} time (timing)\nmedian, 95% bootstrap interval", fontsize=10)
        shared = [p for p in policies if p != "disabled"]
        size = common_size(results, orm, versions)
        if size is not None:  # the exact panel: instructions at one size per ORM
            rows = savings(results, orm, versions, size)
            draw_instructions(middle, rows, orm, size)
            blocks.append((orm, size, rows))
        else:
            middle.set_axis_off()
            middle.text(0.5, 0.5, f"{orm}: no exact records\n(ormgc run --exact)", ha="center")
        share_size = common_size(results, orm, versions, shared)

        def share_of(
            version: str, policy: str, orm: str = orm, size: Optional[Size] = share_size
        ) -> Optional[Tuple]:
            found = gc_share(results, version, orm, policy, size)
            if not found:
                return None
            hows[version, orm, policy] = found[3]
            return (
                tuple(x * 100 for x in found[:3])
                if found[1] is not None
                else (found[0] * 100, None, None)
            )

        _grouped(right, versions, shared, share_of, labels=False)
        right.axhline(0, color="#666666", linewidth=0.8)
        right.set_ylabel("GC share of the query (%)")
        here = [(v, how) for (v, o, _), how in hows.items() if o == orm]
        right.set_title(share_title(orm, here, share_size), fontsize=10)
        for version in (versions[0], versions[-1]):
            found = gc_share(results, version, orm, "default", share_size)
            if found:
                findings.append(f"{orm} on {version}: GC {found[0]:.0%} of the default query")
    kinds = list(hows.values())
    how = ", ".join(f"{kinds.count(kind)} from {kind}" for kind in sorted(set(kinds)))
    sizes = {(r["rows"], r["loaded"]) for r in results.probes.records if r["shape"] == _SHAPE}
    timed = size_text(sizes.pop()) if len(sizes) == 1 else "see the probe records"
    caption = (
        f"Left, timing: pyperf {timer} time of the query (GC on), {_SHAPE}, {timed}, "
        f"{len(timings[0].values)} values per bar. Middle, exact: the query's instructions under "
        "callgrind (one run per bar, at the size in the panel's title), the collector's part "
        "hatched; -X%: what threshold:50000 saves of them. Instructions are not time: the "
        f"collector's share of the time is higher. Right: GC shares, {how} (exact = valgrind "
        "instructions, 0 = the collector never ran; timing = bootstrap of pyperf values, noisy "
        f"on a shared machine). Source: {results.rel(results.timing_files)}; results/exact/ "
        f"(ormgc run --exact). Machine: {machines(results.probes.records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0][0])
    findings += [exact_finding(orm, rows, size) for orm, size, rows in blocks]
    return Chart(slug, question, caption, "; ".join(f for f in findings if f), table(blocks, timed))


def pauses_chart(results: ResultSet, out: Path) -> Drawn:
    slug, question = "pauses", "How long does the GC stop the query, at worst and at the 99th pct?"
    versions, orms, records = _matrix(results)
    if not records:
        return Missing(slug, question, "needs results/pyperf/<machine>/<X.Y>.probe.json")
    policies = [p for p in policy_order([r["policy"] for r in records]) if p != "disabled"]
    index = {(minor(r["python"]), r["orm"], r["policy"]): r for r in records}
    fig, axes = grid_figure(len(orms), 2, height=3.4 * len(orms) + 1.2)
    findings = []
    for row, orm in enumerate(orms):
        for column, (key, label) in enumerate((("max", "worst"), ("p99", "99th percentile"))):
            ax = axes[row][column]
            ax.set_yscale("log")

            def value(version: str, policy: str, orm: str = orm, key: str = key) -> Optional:
                record = index.get((version, orm, policy))
                return (record["pause_ms"][key], None, None) if record else None

            _grouped(ax, versions, policies, value, fmt="{:.1f}")
            plain_log(ax)
            ax.set_ylabel(f"{label} pause (ms, log scale)")
            ax.set_title(f"{orm}: {label} single collection")
        worst = [
            index[v, orm, "default"]["pause_ms"]["max"]
            for v in versions
            if (v, orm, "default") in index
        ]
        if worst:
            findings.append(
                f"{orm} default: worst pause {ms(min(worst))} to {ms(max(worst))} across versions"
            )
    caption = (
        "Each collection's start-to-stop time from gc.callbacks, in the ormgc run record of the "
        f"matrix ({_SHAPE}); 'disabled' has no pauses. Source: "
        f"{results.rel(results.probes.files)}. Machine: {machines(records)}."
    )
    finish(fig, out, slug, question, caption, legend=axes[0][0])
    return Chart(slug, question, caption, "; ".join(findings))
