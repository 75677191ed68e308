"""Open ``ormgc report``'s page in headless Chromium and check it as a person would see it.

Every image loaded (natural width > 0), every link leads somewhere (a page or file that the
server has, or an anchor on the page), no console error; optionally a screenshot of the page.

    python tools/report_site.py results/report --screenshot docs/report.png
"""

from __future__ import annotations

import argparse
import http.server
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import ContextManager, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asv_site import SiteError, chromium, serve  # noqa: E402

_IMAGES = """return Array.from(document.images).map(function(img) {
    return [img.getAttribute('src'), img.complete, img.naturalWidth];
});"""
_LINKS = "return Array.from(document.links).map(function(a) { return a.href; });"
_IDS = "return Array.from(document.querySelectorAll('[id]')).map(function(e) { return e.id; });"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serving(folder: Path) -> ContextManager[str]:
    """Serve ``folder`` on 127.0.0.1 (as GitHub Pages would); yield its base URL."""
    return serve(folder, _Quiet)


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (local server)
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def check_report(
    site: Path, page: str = "index.html", screenshot: Optional[Path] = None
) -> Dict[str, int]:
    """Open ``site/page``; SiteError naming the first thing a reader would find broken."""
    if not (site / page).is_file():
        raise SiteError(f"no {page} in {site}: run ormgc report")
    with serving(site) as base, chromium() as driver:
        url = f"{base}/{page}"
        driver.get(url)  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        images: List[list] = driver.execute_script(_IMAGES)  # type: ignore[attr-defined]
        while not all(complete for _, complete, _ in images) and time.monotonic() < deadline:
            time.sleep(0.25)
            images = driver.execute_script(_IMAGES)  # type: ignore[attr-defined]
        broken = [src for src, _, width in images if not width]
        if broken:
            raise SiteError(f"images that did not load: {', '.join(broken)}")
        ids = set(driver.execute_script(_IDS))  # type: ignore[attr-defined]
        for link in driver.execute_script(_LINKS):  # type: ignore[attr-defined]
            target, _, anchor = link.partition("#")
            if target == url and anchor:
                if anchor not in ids:
                    raise SiteError(f"link to #{anchor}: no such element on the page")
            elif target.startswith(base) and not _reachable(target):
                raise SiteError(f"broken link: {link}")
            elif not target.startswith(base):
                raise SiteError(f"link leaves the site (must work offline): {link}")
        errors = [
            entry["message"]
            for entry in driver.get_log("browser")  # type: ignore[attr-defined]
            if entry.get("level") == "SEVERE"
        ]
        if errors:
            raise SiteError(f"console error: {errors[0]}")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            height = driver.execute_script("return document.body.scrollHeight")  # type: ignore[attr-defined]
            driver.set_window_size(1400, min(int(height) + 100, 16000))  # type: ignore[attr-defined]
            driver.save_screenshot(str(screenshot))  # type: ignore[attr-defined]
    return {"images": len(images), "links": len(ids)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="folder served as the site root")
    parser.add_argument("--page", default="index.html", help="page within it (%(default)s)")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the whole page")
    args = parser.parse_args(argv)
    try:
        found = check_report(args.site, args.page, args.screenshot)
    except SiteError as exc:
        print(f"report_site: error: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {found['images']} images loaded, every link works, no console error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
