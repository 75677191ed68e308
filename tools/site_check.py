"""Open every page of ``ormgc site``'s folder in headless Chromium, as a reader would.

Every HTML file of the site is opened: each image loads, each local link reaches a file the
server has (and an anchor on a static page exists), the console shows no error. asv's page
loads its libraries from CDNs; here they come from npm (asv_site's rewriting, the same as
``asv_site.py serve``). Links leaving the site are not followed (the check runs offline).

    python tools/site_check.py SITE [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import ContextManager, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asv_site import SiteError, chromium, serve  # noqa: E402
from asv_site import _Handler as AsvHandler  # noqa: E402
from report_site import _IDS, _IMAGES, _LINKS, _reachable  # noqa: E402

ASV_PARTS = ("asv", "asv-releases")  # the site's folders that asv publish wrote


class _Handler(AsvHandler):
    """The site as GitHub Pages serves it; asv's pages (under asv/ and asv-releases/) with
    their CDN libraries from npm."""

    PAGES = {
        f"/{part}/{name}": f"{part}/{name or 'index.html'}"
        for part in ASV_PARTS
        for name in ("", "index.html", "error.html")
    }


def serving(site: Path) -> ContextManager[str]:
    return serve(site, _Handler)


def pages(site: Path) -> List[str]:
    """Every HTML page of the site, relative to it, the landing page first."""
    found = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    return sorted(found, key=lambda page: (page != "index.html", page))


def _check_page(driver: object, base: str, page: str, checked: Dict[str, bool]) -> int:
    url = f"{base}/{page}"
    driver.get("about:blank")  # type: ignore[attr-defined]
    driver.get(url)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    images: List[list] = driver.execute_script(_IMAGES)  # type: ignore[attr-defined]
    while not all(complete for _, complete, _ in images) and time.monotonic() < deadline:
        time.sleep(0.25)
        images = driver.execute_script(_IMAGES)  # type: ignore[attr-defined]
    broken = [src for src, _, width in images if not width]
    if broken:
        raise SiteError(f"{page}: images that did not load: {', '.join(broken)}")
    # asv routes by #fragment, not by element id
    single_page_app = page.split("/", 1)[0] in ASV_PARTS
    ids = set(driver.execute_script(_IDS))  # type: ignore[attr-defined]
    for link in driver.execute_script(_LINKS):  # type: ignore[attr-defined]
        target, _, anchor = link.partition("#")
        if not target.startswith(base):
            continue  # leaves the site: not followed offline
        if target == url and anchor and not single_page_app and anchor not in ids:
            raise SiteError(f"{page}: link to #{anchor}: no such element on the page")
        if target not in checked:
            checked[target] = _reachable(target)
        if not checked[target]:
            raise SiteError(f"{page}: broken link: {link}")
    time.sleep(0.5)  # let asv's scripts load their JSON before reading the console
    errors = [
        entry["message"]
        for entry in driver.get_log("browser")  # type: ignore[attr-defined]
        if entry.get("level") == "SEVERE"
    ]
    if errors:
        raise SiteError(f"{page}: console error: {errors[0]}")
    return len(images)


def check_site(site: Path, screenshots: Optional[Path] = None) -> Dict[str, int]:
    """Open every page; SiteError naming the first thing a reader would find broken."""
    if not (site / "index.html").is_file():
        raise SiteError(f"no index.html in {site}: run ormgc site --output {site}")
    checked: Dict[str, bool] = {}
    images = 0
    all_pages = pages(site)
    with serving(site) as base, chromium() as driver:
        for page in all_pages:
            images += _check_page(driver, base, page, checked)
            if screenshots is not None and page in ("index.html", "report/index.html"):
                screenshots.mkdir(parents=True, exist_ok=True)
                height = driver.execute_script("return document.body.scrollHeight")  # type: ignore[attr-defined]
                driver.set_window_size(1400, min(int(height) + 100, 6000))  # type: ignore[attr-defined]
                name = page.replace("/", "-").replace(".html", ".png")
                driver.save_screenshot(str(screenshots / name))  # type: ignore[attr-defined]
                driver.set_window_size(1400, 900)  # type: ignore[attr-defined]
    return {"pages": len(all_pages), "images": images, "links": len(checked)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the folder ormgc site wrote")
    parser.add_argument("--screenshots", type=Path, help="save PNGs of the landing page here")
    args = parser.parse_args(argv)
    try:
        found = check_site(args.site, args.screenshots)
    except SiteError as exc:
        print(f"site_check: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"ok: {found['pages']} pages, {found['images']} images loaded, "
        f"{found['links']} local links reached, no console error"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
