"""The published site's landing page: the answer per Python (one table), the main chart, links.

Every figure comes from the committed results through the report's own readers: collections
from the probe records, the GC's share of the query (exact where valgrind counted it, else
paired or pyperf timing) and what ``threshold:50000`` saves: for SQLAlchemy the one headline
README's answer prints too (``answer.headline``: paired rounds run with ``--precision 5``), for
the other ORMs pyperf medians with a 95% bootstrap interval, labelled as such.
"""

from __future__ import annotations

import html
from typing import Any, Dict, List, Optional, Sequence

from ormgc.views.charts.exact_versions import exact_cells, timing_saving
from ormgc.views.charts.report_data import ResultSet, minor, version_key
from ormgc.views.charts.versions import gc_share

SHAPE = "seed_loop"  # the published loop
RAISED = "threshold:50000"  # the seed's setting
MAIN_CHART = "collections"  # report/<slug>.png, shown on the landing page
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f0f4f8; } td.left, th.left { text-align: left; }
body { padding-bottom: 3em; } img { max-width: 100%; border: 1px solid #ddd; }
.parts li { margin: 0.3em 0; }
.note { color: #555; font-size: 0.9em; } .missing { color: #a05a00; }
"""


class Row(Dict[str, Any]):
    """One line of the answer: a Python, an ORM, and what the results say about them."""


def _percent(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.0%}" if abs(value) >= 0.1 else f"{value:.1%}"


def exact_instructions(results: ResultSet, version: str, orm: str) -> Optional[Dict[str, Any]]:
    """The query's instructions under callgrind at default and at the raised threshold, exact
    and repeatable (results/exact/, the newest record of a cell): the seed's size first, else
    the largest measured."""
    cells = exact_cells(results, orm)
    complete = [
        size
        for (python, policy, size) in cells
        if (python, policy) == (version, "default") and (version, RAISED, size) in cells
    ]
    if not complete:
        return None
    size = max(complete, key=lambda s: (s[0] == 100_000, s))
    default, raised = (cells[version, p, size]["instructions"] for p in ("default", RAISED))
    return {"rows": size[0], "default": default, "raised": raised, "saved": 1 - raised / default}


def answer_rows(results: ResultSet) -> List[Row]:
    """Per Python and ORM: collections by default and raised, GC share, the raised setting's win."""
    probes = [r for r in results.probes.records if r["shape"] == SHAPE]
    counts = {(minor(r["python"]), r["orm"], r["policy"]): r for r in probes}
    versions = sorted({key[0] for key in counts}, key=version_key)
    orms = list(dict.fromkeys(key[1] for key in counts))
    rows = []
    for orm in orms:
        for version in versions:
            default = counts.get((version, orm, "default"))
            if default is None:
                continue
            raised = counts.get((version, orm, RAISED))
            share = gc_share(results, version, orm, "default")
            rows.append(
                Row(
                    python=version,
                    orm=orm,
                    threshold="/".join(map(str, default.get("gc_threshold", []))),
                    collections=default["collections_total"],
                    collections_raised=raised["collections_total"] if raised else None,
                    share=share[0] if share else None,
                    share_how=share[3] if share else "",
                    saving=timing_saving(results, version, orm),
                    instructions=exact_instructions(results, version, orm),
                    loaded=default["loaded"],
                    rows=default["rows"],
                )
            )
    return rows


def answer_table(rows: Sequence[Row]) -> str:
    """The rows as an HTML table (empty rows: a note saying what is missing)."""
    if not rows:
        return (
            '<p class="missing">No probe records (results/pyperf/&lt;machine&gt;/*.probe.json).</p>'
        )
    head = (
        '<tr><th class="left">ORM</th><th class="left">Python</th><th>default thresholds</th>'
        f"<th>collections, default</th><th>collections, {RAISED}</th>"
        "<th>GC share of the query, default</th>"
        f"<th>{RAISED} saves (95% interval)</th>"
        f"<th>instructions per query, default &rarr; {RAISED} (exact)</th></tr>"
    )
    body = []
    for row in rows:
        raised = "" if row["collections_raised"] is None else f"{row['collections_raised']:,}"
        share = _percent(row["share"])
        if share:
            share += f" ({row['share_how']})"
        saving = row["saving"]
        exact = row.get("instructions")
        instructions = ""
        if exact:
            instructions = (
                f"{exact['default'] / 1e9:.2f}G &rarr; {exact['raised'] / 1e9:.2f}G: "
                f"{exact['saved']:.0%} fewer"
                + (f" (at {exact['rows']:,} rows)" if exact["rows"] != row["rows"] else "")
            )
        cells = [row["threshold"], f"{row['collections']:,}", raised, share, saving]
        body.append(
            f'<tr><td class="left">{html.escape(row["orm"])}</td>'
            f'<td class="left">{html.escape(row["python"])}</td>'
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
            + f"<td>{instructions}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def landing_page(results: ResultSet, parts: Sequence[Any], chart: Optional[str]) -> str:
    """index.html: the question, the answer table, the main chart, the site's parts."""
    rows = answer_rows(results)
    size = (
        f"{rows[0]['loaded']:,} ORM objects of {rows[0]['rows']:,} rows" if rows else "ORM objects"
    )
    figure = (
        f'<figure><img src="{html.escape(chart)}" alt="GC collections per query, per Python">'
        "<figcaption>Collections per seed query, per Python and setting (from the report)."
        "</figcaption></figure>"
        if chart
        else '<p class="missing">The main chart was not drawn (see the report).</p>'
    )
    items = []
    for part in parts:
        link = f'<a href="{part.name}/index.html">{html.escape(part.title)}</a>'
        items.append(
            f"<li>{link}: {html.escape(part.note)}</li>"
            if part.built
            else f'<li class="missing">{html.escape(part.title)}: {html.escape(part.note)}</li>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"><title>orm-gc-bench</title>'
        f"<style>{STYLE}</style></head><body>"
        "<h1>What does CPython's cyclic GC cost a query that loads many ORM objects?</h1>"
        f"<p>One query loading {size} (the seed experiment's loop), "
        f"measured on every Python; the GC at its default and at <code>{RAISED}</code>. "
        "Collection counts are deterministic; shares marked <em>exact</em> are valgrind "
        "instruction counts. What the raised threshold saves: for SQLAlchemy the paired CPU "
        "ratio README quotes (rounds until its 95% interval is within +-5%, or marked where that "
        "was not reached), for the other ORMs pyperf medians with a 95% bootstrap interval "
        "(a shared machine: read the intervals).</p>"
        f"{answer_table(rows)}{figure}"
        f'<h2>The site</h2><ul class="parts">{"".join(items)}</ul>'
        f'<p class="note">Built by <code>ormgc site</code> from the committed '
        f"<code>{html.escape(results.root.name)}/</code> folder only.</p>"
        "</body></html>\n"
    )
