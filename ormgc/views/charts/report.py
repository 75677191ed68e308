"""``ormgc report``: a static page (index.html + PNG charts) from a results folder.

Every chart is drawn from whatever results the folder holds; a kind that is missing leaves its
chart out with a note on the page. The report is built by ``ormgc.output_dir`` (a temporary
folder beside the output, renamed into place; never a folder that is not an earlier report),
so a failure (a corrupt result file: one line) leaves the old report as it was. No script, no
CDN: the page works offline and on GitHub Pages.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Callable, List, Optional, Union

from ormgc.errors import OrmGcError
from ormgc.output_dir import build_output_dir, check_output_dir
from ormgc.results import write_atomic
from ormgc.views.charts import report_data
from ormgc.views.charts.common import Chart, Missing

Drawn = Union[Chart, Missing]
ASV_LINK_MARK = "<!-- ormgc report link -->"


def chart_makers() -> List[Callable[[report_data.ResultSet, Path], Drawn]]:
    """The charts in page order (imported late: matplotlib loads only for the report)."""
    from ormgc.views.charts import curves, memory, served, versions

    return [
        versions.collections_chart,
        versions.time_share_chart,
        curves.threshold_chart,
        versions.pauses_chart,
        curves.scaling_chart,
        curves.overhead_chart,
        curves.published_chart,
        memory.timeline_chart,
        memory.prefork_chart,
        served.latency_chart,
        served.memory_chart,
    ]


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
figure { margin: 2.2em 0; } img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; } .finding { background: #f4f8fb; padding: 0.5em 1em; }
.missing { background: #fff6e0; border-left: 4px solid #e69f00; padding: 0.6em 1em; }
nav a { margin-right: 1.2em; }
table.exact { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
table.exact th, table.exact td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
table.exact th { background: #f0f4f8; } table.exact .left { text-align: left; }
"""


def _section(drawn: Drawn) -> str:
    question = html.escape(drawn.question)
    if isinstance(drawn, Missing):
        return (
            f'<section id="{drawn.slug}"><h2>{question}</h2>'
            f'<p class="missing">Not drawn: this results folder has no such results '
            f"({html.escape(drawn.note)}).</p></section>"
        )
    finding = (
        f'<p class="finding">In numbers: {html.escape(drawn.finding)}.</p>' if drawn.finding else ""
    )
    return (
        f'<section id="{drawn.slug}"><h2>{question}</h2>{finding}<figure>'
        f'<img src="{drawn.slug}.png" alt="{question}">'
        f"<figcaption>{html.escape(drawn.caption)}</figcaption></figure>{drawn.table}</section>"
    )


def page(drawn: List[Drawn], results: Path, asv_link: Optional[str]) -> str:
    """The index.html text: a title, links, one section per chart."""
    links = [f'<a href="#{d.slug}">{html.escape(d.slug.replace("-", " "))}</a>' for d in drawn]
    if asv_link:
        links.append(f'<a href="{html.escape(asv_link)}">asv site (history across commits)</a>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        "<title>orm-gc-bench: what the cyclic GC costs ORM queries</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>What does CPython's cyclic GC cost a query that loads many ORM objects?</h1>"
        f"<p>Built by <code>ormgc report</code> from <code>{html.escape(results.name)}/</code>"
        " (the same results give the same page). Counts are deterministic; times carry "
        "their intervals. The asv site (history across commits) is published beside this page."
        f"</p><nav>{''.join(links)}</nav>"
        + "".join(_section(d) for d in drawn)
        + "</body></html>\n"
    )


def build(results: Path, output: Path, asv_link: Optional[str] = None) -> List[Drawn]:
    """Draw every chart from ``results`` into ``output`` (replaced whole, only on success)."""
    check_output_dir(output, "report", report_data.inputs(results))  # before reading anything
    loaded = report_data.load(results)
    with build_output_dir(output, "report", report_data.inputs(results)) as scratch:
        drawn = [make(loaded, scratch) for make in chart_makers()]
        (scratch / "index.html").write_text(page(drawn, results, asv_link), encoding="utf-8")
    return drawn


def check_asv_site(asv_html: Path) -> Path:
    """asv's index page in ``asv_html``, or one line (before anything is made) if there is none."""
    index = asv_html / "index.html"
    if not index.is_file():
        raise OrmGcError(f"no asv site in {asv_html} (no index.html): run asv publish")
    return index


def link_from_asv_site(asv_html: Path, report_href: str) -> None:
    """Add a link to the report on asv's index page (once), for the published site."""
    index = check_asv_site(asv_html)
    try:
        text = index.read_text(encoding="utf-8")
    except OSError as exc:
        raise OrmGcError(f"no asv site in {asv_html} ({exc.strerror}): run asv publish") from None
    if ASV_LINK_MARK in text:
        return
    link = (
        f'{ASV_LINK_MARK}<a href="{html.escape(report_href)}" style="position:fixed;right:1em;'
        "bottom:1em;z-index:1000;background:#0072B2;color:#fff;padding:0.4em 0.8em;"
        'border-radius:4px">Charts: the GC report</a>'
    )
    text, count = re.subn(r"</body>", link + "</body>", text, count=1, flags=re.IGNORECASE)
    if not count:
        raise OrmGcError(f"{index} has no </body>: not an asv page")
    write_atomic(index, lambda out: out.write(text))  # asv's page: whole, never half-written
