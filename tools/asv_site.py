"""Serve asv's published site locally and check it in headless Chromium, as a person sees it.

asv's page loads jQuery, flot and Bootstrap from public CDNs. The published copy (GitHub Pages)
keeps those links; this server, for machines that reach package registries only, hands the
browser the same libraries from npm (``tools/node_modules``, installed by .ci/install-tools)
and drops the integrity attributes of the links it redirects. Nothing else is changed.

    python tools/asv_site.py serve .asv/html            # look at it: http://127.0.0.1:8080
    python tools/asv_site.py check .asv/html --screenshot docs/images/asv-site.png
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
VENDOR = "/_vendor/"
# asv 0.6's CDN links -> the same library in an npm package (versions pinned in package.json).
CDN_FILES = {
    "https://code.jquery.com/jquery-3.3.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": "flot/jquery.flot.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": (
        "flot/jquery.flot.time.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": (
        "flot/jquery.flot.selection.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": (
        "flot/jquery.flot.categories.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": (
        "stupid-table-plugin/stupidtable.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": (
        "blueimp-md5/js/md5.min.js"
    ),
}
JSDELIVR_NPM = re.compile(r"https://cdn\.jsdelivr\.net/npm/(?P<name>[^@/]+)@[^/]+/(?P<path>\S+)")
_EXTERNAL = re.compile(r'(?P<attr>src|href)="(?P<url>https?://[^"]+)"(?P<rest>[^>]*)>')
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
)


class SiteError(Exception):
    """The site does not show what it should; one line for the user."""


def local_copy(url: str) -> Optional[str]:
    """The npm file standing in for a CDN url, relative to node_modules; None if none."""
    if url in CDN_FILES:
        return CDN_FILES[url]
    match = JSDELIVR_NPM.match(url)
    return f"{match['name']}/{match['path']}" if match else None


def rewrite_page(html: str) -> str:
    """Point asv's CDN script and style links at the local copies; fail on an unknown one."""

    def replace(match: re.Match) -> str:
        url = match["url"]
        if url.endswith(".xml") or "github.com" in url:  # feeds and project links stay
            return match.group(0)
        path = local_copy(url)
        if path is None:
            raise SiteError(f"asv's page loads {url}, which has no local copy in {__file__}")
        rest = re.sub(r'\s(integrity|crossorigin|referrerpolicy)="[^"]*"', "", match["rest"])
        return f'{match["attr"]}="{VENDOR}{path}"{rest}>'

    return _EXTERNAL.sub(replace, html)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """asv's pages with their CDN libraries from npm (``rewrite_page``); the rest as files."""

    PAGES = {"/": "index.html", "/index.html": "index.html", "/error.html": "error.html"}

    def log_message(self, *args: object) -> None:  # quiet: the check prints what matters
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if path.startswith(VENDOR):
            target = (NODE_MODULES / path[len(VENDOR) :]).resolve()
            if NODE_MODULES in target.parents and target.is_file():
                return self._send(target.read_bytes(), self.guess_type(str(target)))
            return self.send_error(404, f"no local copy {path}: run .ci/install-tools")
        if path in self.PAGES:
            page = Path(self.directory, self.PAGES[path]).read_text()
            return self._send(rewrite_page(page).encode(), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def site_index(html_dir: Path) -> Dict[str, Any]:
    """asv's index.json of the published site: benchmarks, environments, commits."""
    try:
        return json.loads((html_dir / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise SiteError(
            f"{html_dir} holds no readable asv site ({exc}): run 'asv publish'"
        ) from None


@contextlib.contextmanager
def serve(folder: Path, handler: type = _Handler, port: int = 0) -> Iterator[str]:
    """Serve ``folder`` with ``handler`` on 127.0.0.1 in a thread; yield its base URL."""
    bound = functools.partial(handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), bound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serving(html_dir: Path, port: int = 0) -> Iterator[str]:
    """Serve the asv site ``html_dir`` (checked first) on 127.0.0.1; yield its base URL."""
    site_index(html_dir)
    with serve(html_dir, _Handler, port) as base:
        yield base


def find_browser() -> Tuple[Optional[str], Optional[str]]:
    """Debian's chromium and chromedriver; GitHub's Ubuntu runners ship Chrome instead."""
    browser = shutil.which("chromium") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if driver is None and os.environ.get("CHROMEWEBDRIVER"):
        driver = shutil.which("chromedriver", path=os.environ["CHROMEWEBDRIVER"])
    return browser, driver


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's headless Chromium driven by its chromedriver, in a fresh profile, keeping the
    page's console log (the report's check reads it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_browser()
    if not browser or not driver_path:
        raise SiteError("chromium and chromedriver not found: run .ci/install-tools")
    with tempfile.TemporaryDirectory(prefix="ormgc-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def _wait(driver: object, script: str, what: str, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)  # type: ignore[attr-defined]
        if value:
            return value
        time.sleep(0.25)
    raise SiteError(f"timed out after {timeout:.0f} s waiting for {what}")


_LISTED = "return $('#summarylist-body a').map(function(){return $(this).text();}).get();"
# flot keeps its plot object on the placeholder; asv labels each line by what differs. A line
# counts once flot has placed at least one point of it at finite coordinates.
_SERIES = """
var plot = $('#main-graph').data('plot');
if (!plot) return null;
var drawn = plot.getData().filter(function(s) {
    var p = s.datapoints.points, size = s.datapoints.pointsize;
    for (var i = 0; i + 1 < p.length; i += size) {
        if (isFinite(p[i]) && isFinite(p[i + 1]) && p[i] !== null && p[i + 1] !== null) return true;
    }
    return false;
});
return drawn.length ? drawn.map(function(s) { return s.label || ''; }) : null;
"""


def graph_url(
    base: str, benchmark: str, selection: Dict[str, str], x_axis: str, scale: str = ""
) -> str:
    """A graph page: one line per Python version; ``x_axis`` is "commit" or a parameter;
    ``scale`` "even" spaces the measured commits evenly, "date" by date (asv's settings)."""
    parts = [f"x-axis={x_axis}"] + [f"p-{key}='{value}'" for key, value in selection.items()]
    parts += [f"x-axis-scale={scale}"] if scale else []
    return f"{base}/index.html#{benchmark}?{'&'.join(parts)}"


# asv's "plot settings" toggle of the graph's legend (a list entry, on by default)
_LEGEND_OFF = """
const toggle = Array.from(document.querySelectorAll("a, button, li"))
    .find(element => element.textContent.trim() === "legend");
if (toggle) { toggle.click(); }
"""


def check_site(
    html_dir: Path,
    benchmarks: List[str],
    graph: str,
    selection: Dict[str, str],
    x_axis: str,
    screenshot: Optional[Path],
    min_pythons: int = 2,
    legend: bool = True,
    scale: str = "",
) -> Dict[str, object]:
    """Open the site; check the list shows ``benchmarks`` and ``graph`` has a line per Python."""
    pythons_run = site_index(html_dir)["params"].get("python", [])
    with serving(html_dir) as base, chromium() as driver:
        listed: List[str] = []
        for python in pythons_run or [""]:  # the list shows one environment at a time
            driver.get("about:blank")  # type: ignore[attr-defined]
            driver.get(f"{base}/index.html#/summarylist?python={python}")  # type: ignore[attr-defined]
            listed += _wait(driver, _LISTED, f"the benchmark list of Python {python}")
        missing = [name for name in benchmarks if not any(name in item for item in listed)]
        if missing:
            raise SiteError(f"the benchmark list lacks {', '.join(missing)}")
        driver.get(graph_url(base, graph, selection, x_axis, scale))  # type: ignore[attr-defined]
        labels = _wait(driver, _SERIES, f"the graph of {graph}")
        pythons = sorted(
            {p for label in labels for p in re.findall(r"python-(\S+?)(?:;|$)", label)}
        )
        if len(pythons) < min_pythons:
            raise SiteError(f"the graph shows Python {pythons or 'none'}; need {min_pythons}")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not legend:  # with a line per Python and series the legend hides the lines
                driver.execute_script(_LEGEND_OFF)  # type: ignore[attr-defined]
            time.sleep(1)  # let flot finish drawing the overview
            driver.save_screenshot(str(screenshot))  # type: ignore[attr-defined]
    return {"listed": len(listed), "lines": labels, "pythons": pythons}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the site for a browser")
    serve.add_argument("html_dir", type=Path)
    serve.add_argument("--port", type=int, default=8080)
    check = commands.add_parser("check", help="open the site in headless Chromium and check it")
    check.add_argument("html_dir", type=Path)
    check.add_argument("--graph", default="bench_sqlalchemy.LoadTime.time_load")
    check.add_argument("--select", default="backend=sqlite,shape=seed_loop,policy=threshold_700")
    # asv 0.6.6 can put a parameter on the x-axis (bars), but with several Pythons flot's
    # orderBars plugin places all bars but one at NaN: the commit axis draws every line.
    check.add_argument("--x-axis", default="commit")
    check.add_argument(
        "--x-axis-scale", choices=("even", "date"), help="space the commits evenly, or by date"
    )
    check.add_argument("--screenshot", type=Path)
    check.add_argument("--no-legend", action="store_true", help="screenshot without the legend")
    # A benchmark measured only at older commits, in environments named before the library
    # series joined the matrix, has a graph but no row in the list's default view: --listed
    # limits the list check to the benchmarks a regular expression matches.
    check.add_argument("--listed", default="", help="regex: check only these in the list")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            with serving(args.html_dir, args.port) as base:
                print(f"serving {args.html_dir} at {base}/ (Ctrl-C stops)")
                threading.Event().wait()
        index = site_index(args.html_dir)
        selection = dict(item.split("=", 1) for item in args.select.split(",") if item)
        report = check_site(
            args.html_dir,
            sorted(name for name in index["benchmarks"] if re.search(args.listed, name)),
            args.graph,
            selection,
            args.x_axis,
            args.screenshot,
            legend=not args.no_legend,
            scale=args.x_axis_scale or "",
        )
    except SiteError as exc:
        print(f"asv_site: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print(
        f"ok: {report['listed']} benchmarks listed; {args.graph} shows Python "
        f"{', '.join(report['pythons'])} in {len(report['lines'])} lines"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
