"""``ormgc site``: the one folder to publish, built offline from committed results only.

    index.html   the answer per Python, the main chart, links (landing.py)
    report/      ``ormgc report``'s charts
    asv/         ``asv publish`` of results/asv (the history across commits and library series)
    asv-releases/  ``asv publish`` of results/asv-releases (the history across library releases)
    docs/        ``mkdocs build`` of mkdocs.yml, when the repository has one

Each part links to the others through a small bar added to its pages. ``build_into`` fills a
fresh folder; ``build`` is the safe wrapper around it: it refuses to touch what it did not
create and swaps the finished site into place in one rename.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import List, Sequence

from ormgc.output_dir import build_output_dir, check_output_dir
from ormgc.views.charts import report, report_data
from ormgc.views.charts.common import Chart
from ormgc.views.site.asv_parts import build_asv, build_asv_releases
from ormgc.views.site.landing import MAIN_CHART, landing_page
from ormgc.views.site.parts import TITLES, Part, Sources, read_asv_conf, run_tool

__all__ = ["Part", "Sources", "TITLES", "build", "build_into", "check_target", "read_asv_conf"]

KIND = "site"  # the marker ormgc.output_dir writes in every folder this command built
NAV_MARK = "<!-- ormgc site nav -->"


def build_docs(sources: Sources, output: Path) -> Part:
    """``mkdocs build`` into ``output``; skipped, saying why, where there is no mkdocs.yml."""
    if not sources.mkdocs_conf.is_file():
        return Part(
            "docs",
            TITLES["docs"],
            False,
            f"not built: no {sources.mkdocs_conf.name} in this checkout",
        )
    command = [
        *sources.mkdocs,
        "build",
        "--strict",
        "--config-file",
        str(sources.mkdocs_conf),
        "--site-dir",
        str(output),
    ]
    run_tool(command, "mkdocs build", sources.root)
    # MkDocs writes its 404 page for a site served at the root, with links from "/": under
    # docs/ they lead nowhere, and a host serves only the site's own root 404 page anyway.
    (output / "404.html").unlink(missing_ok=True)
    return Part("docs", TITLES["docs"], True, "how to run it, what it measures, the findings")


def nav_bar(parts: Sequence[Part], depth: int) -> str:
    """Links to the home page and every built part, from a page ``depth`` folders down."""
    up = "../" * depth
    links = [(f"{up}index.html", TITLES[""])] + [
        (f"{up}{part.name}/index.html", part.title) for part in parts if part.built
    ]
    items = " | ".join(
        f'<a href="{href}" style="color:#fff">{html.escape(title)}</a>' for href, title in links
    )
    return (
        f'{NAV_MARK}<div style="position:fixed;left:0;right:0;bottom:0;z-index:100000;'
        "background:#0072B2;color:#fff;font:13px system-ui,sans-serif;padding:0.35em 1em;"
        f'opacity:0.95">orm-gc-bench: {items}</div>'
    )


def add_nav(page: Path, bar: str) -> None:
    """Put ``bar`` before ``</body>`` of ``page`` (once)."""
    text = page.read_text(encoding="utf-8")
    if NAV_MARK in text:
        return
    text, count = re.subn(r"</body>", lambda _: bar + "</body>", text, count=1, flags=re.I)
    if count:
        page.write_text(text, encoding="utf-8")


def link_parts(folder: Path, parts: Sequence[Part]) -> None:
    """Every page of every built part links back home and to the other parts."""
    for part in parts:
        if not part.built:
            continue
        for page in sorted((folder / part.name).rglob("*.html")):
            depth = len(page.relative_to(folder).parts) - 1
            add_nav(page, nav_bar(parts, depth))


def build_into(folder: Path, sources: Sources) -> List[Part]:
    """Build the whole site into ``folder`` (new and empty); the parts as built."""
    scratch = Path(tempfile.mkdtemp(prefix="ormgc-site-"))
    try:
        drawn = report.build(sources.results, folder / "report")
        charts = [d.slug for d in drawn if isinstance(d, Chart)]
        parts = [
            Part("report", TITLES["report"], True, f"{len(charts)} charts from results/"),
            build_asv(sources, folder / "asv", scratch),
            build_asv_releases(sources, folder / "asv-releases", scratch),
            build_docs(sources, folder / "docs"),
        ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    link_parts(folder, parts)
    chart = f"report/{MAIN_CHART}.png" if MAIN_CHART in charts else None
    loaded = report_data.load(sources.results)
    page = landing_page(loaded, parts, chart) + "\n"
    (folder / "index.html").write_text(
        page.replace("</body>", nav_bar(parts, 0) + "</body>"), encoding="utf-8"
    )
    return parts


def check_target(output: Path, results: Path) -> Path:
    """Refuse an output this command did not make, or one that holds or is inside results/."""
    return check_output_dir(output, KIND, [results])


def build(output: Path, sources: Sources) -> List[Part]:
    """The safe wrapper (ormgc.output_dir): checked first, built beside, swapped in at the end."""
    check_target(output, sources.results)
    with build_output_dir(output, KIND, [sources.results]) as fresh:
        parts = build_into(fresh, sources)
        os.chmod(fresh, 0o755)
    return parts
