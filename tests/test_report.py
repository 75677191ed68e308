"""ormgc report: charts from the committed results, notes for missing kinds, one line for a
corrupt file (the old report untouched), links with the asv site, and the page in Chromium."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import struct
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from .conftest import ROOT, error_lines, ormgc

sys.path.insert(0, str(ROOT / "tools"))
import asv_site  # noqa: E402
import report_site  # noqa: E402
from asv_site import SiteError  # noqa: E402

RESULTS = ROOT / "results"
CHARTS = [
    "collections",
    "time-and-gc-share",
    "threshold-curve",
    "pauses",
    "scaling",
    "suite-overhead",
    "published",
    "memory-over-requests",
    "prefork-memory",
    "served-latency",
    "served-memory",
]


def png_size(path: Path) -> tuple:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def results_with(tmp_path: Path, *kinds: str) -> Path:
    """A results folder holding only some kinds of the committed results."""
    folder = tmp_path / "results"
    folder.mkdir()
    for kind in kinds:
        shutil.copytree(RESULTS / kind, folder / kind)
    return folder


FIGURES: Dict[str, Any] = {}  # slug -> the matplotlib figure the committed report drew


@pytest.fixture(scope="module")
def committed_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the committed results, built afresh by the README's command, in this
    process: each figure is kept as it is saved, so that the tests can read back what it
    plotted (its PNG alone says only that something was drawn)."""
    from matplotlib.figure import Figure

    from ormgc import cli

    out = tmp_path_factory.mktemp("report") / "report"
    save = Figure.savefig

    def keep(fig: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        FIGURES[Path(path).stem] = fig
        save(fig, path, *args, **kwargs)

    handler = signal.getsignal(signal.SIGTERM)  # cli.main sets its own
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as said:
        patch.setattr(Figure, "savefig", keep)
        patch.setenv("ORMGC_CACHE_DIR", str(out.parent))
        try:
            assert cli.main(["report", "--output", str(out)]) == 0
        finally:
            signal.signal(signal.SIGTERM, handler)
    assert f"{len(CHARTS)} charts" in said.getvalue() and "left out" not in said.getvalue()
    assert sorted(FIGURES) == sorted(CHARTS)
    return out


def test_every_chart_is_drawn_from_the_committed_results(committed_report: Path) -> None:
    page = (committed_report / "index.html").read_text()
    for slug in CHARTS:
        width, height = png_size(committed_report / f"{slug}.png")
        assert width >= 800 and height >= 400, slug
        assert f'<img src="{slug}.png"' in page
    assert "Not drawn" not in page and "<script" not in page and "http" not in page


def _series(fig: Any) -> Dict[str, List[List[float]]]:
    """Label -> the values of every bar group or line so labelled, over the figure's axes."""
    found: Dict[str, List[List[float]]] = {}
    for ax in fig.axes:
        for container in ax.containers:
            if hasattr(container, "patches") and container.get_label():
                heights = [float(bar.get_height()) for bar in container.patches]
                found.setdefault(container.get_label(), []).append(heights)
        for line in ax.lines:
            if not line.get_label().startswith("_"):
                found.setdefault(line.get_label(), []).append([float(y) for y in line.get_ydata()])
    return found


def _bars(ax: Any) -> Dict[str, List[float]]:
    return {
        c.get_label(): [float(bar.get_height()) for bar in c.patches]
        for c in ax.containers
        if hasattr(c, "patches")
    }


def _probes() -> Dict[tuple, Dict[str, Any]]:
    """(X.Y, orm, policy) -> the pyperf matrix's probe record of the seed loop."""
    found = {}
    for path in (RESULTS / "pyperf" / "vm").glob("3.*.probe.json"):
        for record in json.loads(path.read_text()):
            if record["shape"] == "seed_loop":
                key = (".".join(record["python"].split(".")[:2]), record["orm"], record["policy"])
                found[key] = record
    return found


def test_every_chart_draws_the_series_its_legend_names(committed_report: Path) -> None:
    """Each named series has data somewhere in its figure, and every panel plots something."""
    for slug in CHARTS:
        fig = FIGURES[slug]
        series = _series(fig)
        named = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
        assert named, slug
        for label in named:
            values = [v for group in series.get(label, []) for v in group if v == v and v != 0]
            assert values, f"{slug}: {label!r} is in the legend but drew nothing"
        for ax in fig.axes:
            drawn = [c for c in ax.containers if hasattr(c, "patches")] + [
                line for line in ax.lines if len(line.get_ydata())
            ]
            assert drawn, f"{slug}: a panel ({ax.get_title()!r}) plots nothing"


def test_charts_plot_the_figures_of_the_raw_results(committed_report: Path) -> None:
    """Values read back from the figures, against the raw records read here."""
    probes = _probes()

    def collections(python: str, orm: str, policy: str) -> int:
        (count,) = {sum(run["collections"]) for run in probes[python, orm, policy]["runs"]}
        return count

    for ax in FIGURES["collections"].axes:  # per ORM: bars per policy over the versions
        orm = ax.get_title().split(":")[0]
        versions = [label.get_text() for label in ax.get_xticklabels()]
        assert len(versions) == 7
        for policy, heights in _bars(ax).items():
            assert heights == [collections(v, orm, policy) for v in versions], (orm, policy)
    # the GC's share (README's chart): SQLAlchemy's default, from the exact instruction counts
    share_ax = FIGURES["time-and-gc-share"].axes[2]
    assert share_ax.get_title() == (
        "sqlalchemy: the collector's share of the instructions\n"
        "(exact, callgrind; 100,000 rows, 20,000 loaded)"
    )
    exact = {}
    for path in (RESULTS / "exact").glob("*.json"):
        data = json.loads(path.read_text())
        for r in data if isinstance(data, list) else []:
            if (
                isinstance(r, dict)
                and r.get("gc_instructions") is not None
                and (r.get("orm"), r.get("shape"), r.get("policy"), r.get("rows"))
                == ("sqlalchemy", "seed_loop", "default", 100_000)
            ):
                exact[".".join(r["python"].split(".")[:2])] = r
    versions = [label.get_text() for label in share_ax.get_xticklabels()]
    expected = [100 * exact[v]["gc_instructions"] / exact[v]["instructions"] for v in versions]
    assert _bars(share_ax)["default"] == pytest.approx(expected, abs=1e-9)
    # the threshold curves (results/thresholds) meet the matrix's probes (results/pyperf) at
    # 50,000, and fall as the threshold rises
    curves = [line for line in FIGURES["threshold-curve"].axes[0].lines if len(line.get_xdata())]
    assert len(curves) >= 5
    for line in curves:
        python = line.get_label().split()[-1]
        points = dict(zip(map(float, line.get_xdata()), map(float, line.get_ydata())))
        assert points[50_000] == collections(python, "sqlalchemy", "threshold:50000"), python
        ys = [points[x] for x in sorted(points)]
        assert ys == sorted(ys, reverse=True), python
    # the published chart's "today" bars are the 3.11 probes' counts
    (counts_ax, _) = FIGURES["published"].axes
    today = next(label for label in _bars(counts_ax) if label.startswith("today (Python 3.11"))
    assert _bars(counts_ax)[today] == [
        collections("3.11", orm, policy)
        for orm in ("sqlalchemy", "mongoengine")
        for policy in ("default", "threshold:50000")
    ]
    # the worst pauses: each probe's longest collection
    worst = FIGURES["pauses"].axes[0]
    assert worst.get_title() == "sqlalchemy: worst single collection"
    versions = [label.get_text() for label in worst.get_xticklabels()]
    for policy, heights in _bars(worst).items():
        assert heights == pytest.approx(
            [probes[v, "sqlalchemy", policy]["pause_ms"]["max"] for v in versions]
        )


def test_the_committed_report_is_the_one_the_results_give(committed_report: Path) -> None:
    """results/report/ is regenerated by the command, not edited by hand."""
    committed = RESULTS / "report"
    assert (committed / "index.html").read_text() == (committed_report / "index.html").read_text()
    for slug in CHARTS:
        assert png_size(committed / f"{slug}.png") == png_size(committed_report / f"{slug}.png")


def test_missing_kinds_leave_their_chart_out_with_a_note(tmp_path: Path) -> None:
    results = results_with(tmp_path, "seed")
    done = ormgc("report", "--results", str(results), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "1 charts" in done.stdout
    page = (results / "report" / "index.html").read_text()
    assert page.count('class="missing"') == len(CHARTS) - 1
    assert "nox -s thresholds" in page and sorted(
        p.name for p in (results / "report").iterdir()
    ) == [
        ".ormgc-output",
        "index.html",
        "published.png",
    ]


def test_an_empty_folder_gives_a_page_of_notes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = ormgc("report", "--results", str(tmp_path / "empty"), cache_dir=tmp_path)
    assert done.returncode == 0 and "0 charts" in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"python": "3.9",', "is not valid JSON"),
        ('{"not": "a list"}', "is not a list of ormgc records"),
        ('[{"python": "3.9", "policy": "default"}]', "a record has no orm"),
    ],
)
def test_a_corrupt_file_is_one_line_and_the_old_report_stays(
    tmp_path: Path, content: str, message: str
) -> None:
    results = results_with(tmp_path, "seed")
    assert ormgc("report", "--results", str(results), cache_dir=tmp_path).returncode == 0
    before = (results / "report" / "index.html").read_text()
    (results / "thresholds").mkdir()
    (results / "thresholds" / "3.9.json").write_text(content)
    done = ormgc("report", "--results", str(results), cache_dir=tmp_path)
    assert done.returncode == 1
    (line,) = error_lines(done)
    assert line.startswith("ormgc: error: ") and "3.9.json" in line and message in line
    assert (results / "report" / "index.html").read_text() == before
    assert sorted(p.name for p in results.iterdir()) == ["report", "seed", "thresholds"]


def _fake_asv_site(folder: Path) -> Path:
    folder.mkdir()
    (folder / "index.html").write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head>'
        "<body><h1>airspeed velocity</h1></body></html>"
    )
    return folder


def test_published_beside_the_asv_site_each_links_to_the_other(tmp_path: Path) -> None:
    results = results_with(tmp_path, "seed")
    site = _fake_asv_site(tmp_path / "html")
    for _ in range(2):  # twice: the asv page gets one link, not two
        done = ormgc(
            "report", "--results", str(results), "--asv-site", str(site), cache_dir=tmp_path
        )
        assert done.returncode == 0, done.stderr
    assert (site / "index.html").read_text().count('href="report/index.html"') == 1
    assert 'href="../index.html"' in (site / "report" / "index.html").read_text()
    assert not (results / "report").exists()


@pytest.mark.slow
def test_the_page_in_chromium_loads_every_image_and_link(
    committed_report: Path, tmp_path: Path
) -> None:
    browser, driver = asv_site.find_browser()  # the one launcher report_site drives
    if not browser or not driver:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("chromium (.ci/install-tools)")
    shot = tmp_path / "report.png"
    found = report_site.check_report(committed_report, screenshot=shot)
    assert found["images"] == len(CHARTS)
    assert png_size(shot)[0] >= 1000
    assert report_site.main([str(committed_report)]) == 0  # the README's command
    # Published layout: the asv site at the root, the report in report/, linked both ways.
    site = _fake_asv_site(tmp_path / "html")
    results = results_with(tmp_path, "seed")
    done = ormgc("report", "--results", str(results), "--asv-site", str(site), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    report_site.check_report(site, "report/index.html")
    report_site.check_report(site, "index.html")
    # Not a no-op: a missing chart and a dead link are each found.
    (site / "report" / "published.png").unlink()
    with pytest.raises(SiteError, match="images that did not load: published.png"):
        report_site.check_report(site, "report/index.html")
    shutil.copy(committed_report / "published.png", site / "report" / "published.png")
    (site / "index.html").unlink()
    with pytest.raises(SiteError, match="broken link"):
        report_site.check_report(site, "report/index.html")


def test_gc_share_is_exact_where_measured_then_paired_then_from_timings(tmp_path: Path) -> None:
    import json

    from ormgc.views.charts import report_data
    from ormgc.views.charts.versions import gc_share

    results = results_with(tmp_path, "pyperf")
    base = {"python": "3.11.7", "orm": "sqlalchemy", "shape": "seed_loop", "rows": 100_000}
    base.update(loaded=20_000, collections_total=0)
    paired = dict(base, policy="disabled")
    paired["cpu_vs_baseline"] = {"baseline": "default", "ratio": 0.6, "ci95": [0.55, 0.65]}
    (results / "paired").mkdir()
    (results / "paired" / "3.11.json").write_text(json.dumps([paired]))
    share = gc_share(report_data.load(results), "3.11", "sqlalchemy", "default")
    assert share[3] == "paired" and share[:3] == pytest.approx((0.4, 0.35, 0.45))
    (results / "exact").mkdir()
    exact = dict(base, policy="default", collections_total=1708, gc_share=0.42, instructions=1)
    (results / "exact" / "3.11.json").write_text(json.dumps([exact]))
    loaded = report_data.load(results)
    assert gc_share(loaded, "3.11", "sqlalchemy", "default") == (0.42, None, None, "exact")
    # A smaller exact run (3.14/3.15, Django) beats timing; the seed's size beats a smaller one
    small = dict(exact, rows=10_000, loaded=2_000, gc_share=0.3)
    (results / "exact" / "3.11-r10000.json").write_text(json.dumps([small]))
    (results / "exact" / "3.9-r10000.json").write_text(json.dumps([dict(small, python="3.9.18")]))
    loaded = report_data.load(results)
    assert gc_share(loaded, "3.11", "sqlalchemy", "default") == (0.42, None, None, "exact")
    assert gc_share(loaded, "3.9", "sqlalchemy", "default") == (
        0.3, None, None, "exact at 10,000 rows"
    )  # fmt: skip
    point, low, high, how = gc_share(loaded, "3.10", "sqlalchemy", "default")
    assert how == "timing" and low < point < high
