"""ormgc site: the one folder to publish. It refuses to replace what it did not build, builds
from the committed results (the docs by the real MkDocs), links its
parts both ways, and every page opens in Chromium without a broken link or console error."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ormgc.errors import OrmGcError, UsageError
from ormgc.output_dir import MARKER
from ormgc.views.site import build as site
from ormgc.views.site.landing import answer_rows

from .conftest import ROOT, error_lines, ormgc
from .test_report import png_size, results_with

sys.path.insert(0, str(ROOT / "tools"))
import asv_site  # noqa: E402
import site_check  # noqa: E402
from asv_site import SiteError  # noqa: E402


def _sources(tmp: Path, results: Path, mkdocs_text: str = "") -> site.Sources:
    """The repository's sources with ``results``; the real MkDocs (in the suite's venv) builds
    the repository's mkdocs.yml, or ``mkdocs_text`` if given."""
    sources = site.Sources.of(ROOT, results)
    if not mkdocs_text:
        return sources
    config = tmp / "mkdocs.yml"
    config.write_text(mkdocs_text)
    return sources._replace(mkdocs_conf=config)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the committed results (pyperf, exact, paired, asv: the landing page's and
    asv's inputs; the other charts are left out with a note) and the real docs (MkDocs, about
    1 s). ~1 min: charts + asv publish."""
    tmp = tmp_path_factory.mktemp("site")
    results = results_with(tmp, "pyperf", "exact", "paired", "asv", "asv-releases")
    out = tmp / "out" / "site"
    parts = site.build(out, _sources(tmp, results))
    assert [(part.name, part.built) for part in parts] == [
        ("report", True), ("asv", True), ("asv-releases", True), ("docs", True)
    ]  # fmt: skip
    return out


def test_the_docs_404_page_is_left_out(built: Path) -> None:
    """MkDocs' 404 page links from the server's root: under docs/ every link of it is broken."""
    assert (built / "docs" / "index.html").is_file()
    assert not (built / "docs" / "404.html").exists()
    # every page of the docs' nav was built (mkdocs --strict: none missing, no broken link)
    pages = sorted(path.relative_to(ROOT / "docs") for path in (ROOT / "docs").rglob("*.md"))
    built_pages = sorted(p.relative_to(built / "docs") for p in (built / "docs").rglob("*.html"))
    assert built_pages == [page.with_suffix(".html") for page in pages]


def test_the_landing_page_answers_from_the_results_and_links_every_part(built: Path) -> None:
    page = (built / "index.html").read_text()
    probes = json.loads((ROOT / "results/pyperf/vm/3.9.probe.json").read_text())
    seed = next(r for r in probes if (r["orm"], r["shape"], r["policy"]) ==
                ("sqlalchemy", "seed_loop", "default"))  # fmt: skip
    assert f"<td>{seed['collections_total']:,}</td>" in page
    for href in (
        "report/index.html",
        "asv/index.html",
        "docs/index.html",
        "report/collections.png",
    ):
        assert f'href="{href}"' in page or f'src="{href}"' in page, href
    assert (built / MARKER).is_file()
    for page_path in ("report/index.html", "asv/index.html", "docs/how-to/own-workload.html"):
        text = (built / page_path).read_text()
        depth = "../" * (len(Path(page_path).parts) - 1)
        assert text.count(site.NAV_MARK) == 1, page_path
        assert f'href="{depth}index.html"' in text and f'href="{depth}asv/index.html"' in text


def test_answer_rows_cover_every_python_and_orm_of_the_probes(built: Path) -> None:
    from ormgc.views.charts import report_data

    rows = answer_rows(report_data.load(ROOT / "results"))
    pythons = {
        path.name.split(".probe")[0] for path in (ROOT / "results/pyperf/vm").glob("*.probe.json")
    }
    assert {row["python"] for row in rows} == pythons
    exact = [row for row in rows if row["share_how"] == "exact"]
    assert exact, "the exact shares are used where valgrind counted them"


def test_docs_are_skipped_without_mkdocs_yml_and_a_failing_build_is_one_line(tmp_path) -> None:
    sources = _sources(tmp_path, ROOT / "results")
    missing = sources._replace(mkdocs_conf=tmp_path / "none" / "mkdocs.yml")
    part = site.build_docs(missing, tmp_path / "docs")
    assert not part.built and "no mkdocs.yml" in part.note
    assert not (tmp_path / "docs").exists()
    broken = _sources(tmp_path, ROOT / "results", mkdocs_text="nav: broken\n")
    with pytest.raises(OrmGcError, match=r"mkdocs build failed \(exit 1\): ERROR +- +Config value"):
        site.build_docs(broken, tmp_path / "docs")


def test_a_missing_site_module_is_one_line_naming_the_extra_before_anything_is_built(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """pip install "orm-gc-bench[all]" gave no mkdocs; now the extra [site] (in [all]) does, and
    without it the command says so before building (tests/test_install.py installs [all])."""
    import importlib.util

    from ormgc import cli, cli_publish

    real = importlib.util.find_spec
    monkeypatch.setattr(
        cli_publish, "find_spec", lambda name: None if name == "mkdocs" else real(name)
    )
    code = cli.main(["site", "--output", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "ormgc site needs mkdocs: pip install 'orm-gc-bench[site]'" in err
    assert not (tmp_path / "site").exists()


def test_the_site_refuses_what_it_did_not_build(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (tmp_path / "a-file").write_text("mine")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-folder" / "notes.txt").write_text("mine")
    refused = {
        tmp_path / "a-file": "it is a file, not an ormgc site",
        tmp_path / "a-folder": "not an ormgc site",
        results / "site": "is, holds or is inside",
        tmp_path: "is, holds or is inside",
    }
    for output, message in refused.items():
        with pytest.raises(UsageError, match=message):
            site.check_target(output, results)
    done = ormgc("site", "--output", str(tmp_path / "a-folder"), cache_dir=tmp_path, timeout=60)
    assert done.returncode == 2 and len(error_lines(done)) == 1
    assert (tmp_path / "a-folder" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "a-file").read_text() == "mine"


def test_a_rebuild_replaces_only_its_own_site_and_a_failure_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def quick(folder: Path, sources: site.Sources) -> list:
        (folder / "index.html").write_text("new")
        (folder / MARKER).write_text("")
        return []

    monkeypatch.setattr(site, "build_into", quick)
    sources = site.Sources.of(ROOT)
    out = tmp_path / "site"
    site.build(out, sources)
    (out / "index.html").write_text("old")
    site.build(out, sources)  # an earlier site of ours: replaced
    assert (out / "index.html").read_text() == "new"

    def failing(folder: Path, sources: site.Sources) -> list:
        (folder / "index.html").write_text("half")
        raise OrmGcError("asv publish failed (exit 1): boom")

    monkeypatch.setattr(site, "build_into", failing)
    with pytest.raises(OrmGcError, match="boom"):
        site.build(out, sources)
    assert (out / "index.html").read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["site"]  # no temp folders left


@pytest.mark.slow
def test_every_page_of_the_site_in_chromium(built: Path, tmp_path: Path) -> None:
    browser, driver = asv_site.find_browser()
    if not browser or not driver:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("chromium (.ci/install-tools)")
    if not asv_site.NODE_MODULES.is_dir():
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "asv's libraries (.ci/install-tools)"
        )
    found = site_check.check_site(built, screenshots=tmp_path)
    assert found["pages"] == len(list(built.rglob("*.html")))
    assert png_size(tmp_path / "index.png")[0] >= 1000
    # Not a no-op: a missing chart is found on the landing page.
    (built / "report" / "collections.png").rename(tmp_path / "collections.png")
    try:
        with pytest.raises(SiteError, match="index.html: images that did not load"):
            site_check.check_site(built)
    finally:
        (tmp_path / "collections.png").rename(built / "report" / "collections.png")
