"""The docs site builds cleanly, README's figures match results/, and the docs' examples run."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from ormgc.cli import build_parser
from ormgc.runs import pyperf_plan
from ormgc.views.site.answer import ANSWER_PAGES, block, replace_block

from .conftest import ROOT

README = (ROOT / "README.md").read_text()
PAGES = sorted((ROOT / "docs").rglob("*.md"))
PAGES_TEXT = {str(page.relative_to(ROOT / "docs")): page.read_text() for page in PAGES}
COMMAND = re.compile(r"(?:\.venv/bin/)?ormgc (.*)")


def code_blocks(text: str, language: str) -> List[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def command_lines(path: Path) -> Iterator[Tuple[str, List[str]]]:
    """Every ``ormgc ...`` line of the page's console blocks: (the line, its arguments)."""
    for code in code_blocks(path.read_text(), "console"):
        for line in code.replace("\\\n", " ").splitlines():
            found = COMMAND.match(line.strip())
            if found:
                words = shlex.split(found.group(1), comments=True)
                yield line.strip(), [word for word in words if word != "..."]


def test_mkdocs_build_is_strict_and_clean(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    built = {path.relative_to(site).with_suffix(".md") for path in site.rglob("*.html")}
    assert {page.relative_to(ROOT / "docs") for page in PAGES} <= built
    # the report's charts join the site through tools/mkdocs_results.py, and pages show them
    assert (site / "images" / "report" / "time-and-gc-share.png").is_file()
    assert "../images/report/collections.png" in (site / "findings" / "versions.html").read_text()


def test_readme_is_a_front_page_whose_answer_matches_the_results() -> None:
    assert len(README.splitlines()) <= 150
    answer = block(ROOT / "results")
    for page in ANSWER_PAGES:
        text = (ROOT / page).read_text()
        assert replace_block(text, answer) == text, (
            f"{page}'s answer differs from results/: python scripts/readme_answer.py --write"
        )


# Student's t, 97.5% quantile, from the printed tables (not from ormgc.views.stats)
T975 = {4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201}
SEED_DEFAULT = ("sqlalchemy", "seed_loop", "default", 100_000, 20_000)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _seed_records(path: Path, policy: str) -> List[dict]:
    data = json.loads(path.read_text())
    return [
        r
        for r in (data if isinstance(data, list) else [])
        if isinstance(r, dict)
        and (r.get("orm"), r.get("shape"), r.get("policy"), r.get("rows"), r.get("loaded"))
        == (*SEED_DEFAULT[:2], policy, *SEED_DEFAULT[3:])
    ]


def test_readme_answer_figures_recomputed_from_the_raw_results() -> None:
    """Each figure family of the answer (README and the docs' front page), recomputed here from
    the raw data rather than the fields the code summarised: collections from the probe runs'
    per-generation counts; the GC's share from the exact records' raw instruction counts; the
    paired ratio and its 95% interval from the paired rounds' CPU times (geometric mean of the
    per-round ratios, t interval on their logs)."""
    inner = README.split("<!-- answer:begin -->")[1].split("<!-- answer:end -->")[0]
    assert inner in (ROOT / "docs" / "index.md").read_text()
    rows = [line.split(" | ") for line in inner.splitlines() if line.startswith("| 3.")]
    assert [_minor(row[0][2:].split()[0]) for row in rows] == list(pyperf_plan_versions())
    exact = {}
    for path in (ROOT / "results" / "exact").glob("*.json"):
        for record in _seed_records(path, "default"):
            exact.setdefault(_minor(record["python"]), []).append(record)
    for row in rows:
        python = _minor(row[0][2:].split()[0])
        probes = ROOT / "results" / "pyperf" / "vm" / f"{python}.probe.json"
        counts = [
            {sum(run["collections"]) for run in record["runs"]}
            for policy in ("default", "threshold:50000")
            for record in _seed_records(probes, policy)
        ]
        assert all(len(count) == 1 for count in counts)  # every run the same: deterministic
        default, raised = (count.pop() for count in counts)
        assert row[1] == f"{default:,} / {raised:,}"
        (record,) = exact[python]
        share = record["gc_instructions"] / record["instructions"]
        assert row[2] == f"{share:.1%} of instructions (exact)"
        assert 0.2 < share < 0.35  # the seed query's collector, 3.9-3.15 (23-33%)
        counts = [
            r["instructions"]
            for policy in ("default", "threshold:50000")
            for path in (ROOT / "results" / "exact").glob("*.json")
            for r in _seed_records(path, policy)
            if _minor(r["python"]) == python
        ]
        before, after = counts  # one exact record per policy at the seed's size
        saved = f"{1 - after / before:.1%} fewer"
        assert row[3] == f"{saved}: {before / 1e6:,.0f}M → {after / 1e6:,.0f}M", row[3]
        paired = ROOT / "results" / "paired" / f"seed-sqlalchemy-{python}.json"
        cpu = {
            policy: [run["cpu_ms"] for run in r["runs"]]
            for policy in ("default", "threshold:50000")
            for r in _seed_records(paired, policy)
        }
        logs = [math.log(a / b) for a, b in zip(cpu["threshold:50000"], cpu["default"])]
        centre = statistics.mean(logs)
        half = T975[len(logs) - 1] * statistics.stdev(logs) / math.sqrt(len(logs))
        ratio, low, high = (math.exp(x) for x in (centre, centre - half, centre + half))
        assert f"{ratio:.2f}x [{low:.2f}, {high:.2f}]" in row[4], (row[4], ratio, low, high)
        assert f"{1 - ratio:.0%} less CPU" in row[4] and f", {len(logs)} rounds," in row[4]


def pyperf_plan_versions() -> List[str]:
    return [path.name.split(".probe")[0] for path in sorted(
        (ROOT / "results" / "pyperf" / "vm").glob("3.*.probe.json"),
        key=lambda p: int(p.name.split(".")[1]),
    )]  # fmt: skip


def test_readme_answer_changes_with_the_results(tmp_path: Path) -> None:
    """The check can fail: one changed count in results/ gives another block."""
    results = tmp_path / "results"
    (results / "pyperf" / "vm").mkdir(parents=True)
    for kind in ("exact", "paired"):
        (results / kind).symlink_to(ROOT / "results" / kind)
    for path in (ROOT / "results" / "pyperf" / "vm").glob("3.*.json"):
        (results / "pyperf" / "vm" / path.name).symlink_to(path)
    assert block(results) == block(ROOT / "results")
    probes = results / "pyperf" / "vm" / "3.9.probe.json"
    records = json.loads(probes.read_text())
    for record in records:
        record["collections_total"] += record["orm"] == "sqlalchemy"
    probes.unlink()
    probes.write_text(json.dumps(records))
    changed = block(results)
    assert changed != block(ROOT / "results")
    with pytest.raises(AssertionError):
        assert replace_block(README, changed) == README


def test_readme_links_resolve() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert local and all((ROOT / link).is_file() for link in local), local


@pytest.mark.parametrize("page", PAGES + [ROOT / "README.md"], ids=lambda path: path.name)
def test_command_lines_parse(page: Path) -> None:
    """Each ``ormgc`` line of a console block is accepted by the command's own parser."""
    parser = build_parser()
    for line, args in command_lines(page):
        try:
            parsed, forwarded = parser.parse_known_args(args)
        except SystemExit:
            pytest.fail(f"{page.name}: the parser refuses {line!r}")
        if parsed.command == "pyperf":  # the rest goes to pyperf_main: ormgc's own options
            ours = argparse.ArgumentParser()
            pyperf_plan.add_arguments(ours)
            forwarded = ours.parse_known_args(forwarded)[1]
        assert not forwarded, f"{page.name}: unknown options in {line!r}: {forwarded}"


@pytest.mark.parametrize("page", PAGES + [ROOT / "README.md"], ids=lambda path: path.name)
def test_python_examples_compile(page: Path) -> None:
    """Every Python block is valid Python (the runnable ones also run: here and in the tests
    of test_workloads, test_advise and test_adaptive)."""
    for code in code_blocks(page.read_text(), "python"):
        compile(code, f"{page.name} example", "exec")


def test_cli_reference_shows_every_command() -> None:
    page = ROOT / "docs" / "reference" / "cli.md"
    shown = {args[0] for _, args in command_lines(page)}
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert shown == set(commands)


def test_readme_measure_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README's five lines, on the docs' my_workload.py (500 authors, 5,000 books)."""
    (workload,) = [c for c in code_blocks(PAGES_TEXT["how-to/own-workload.md"], "python")
                   if c.startswith("# my_workload.py")]  # fmt: skip
    (tmp_path / "my_workload.py").write_text(workload)
    (example,) = [c for c in code_blocks(README, "python") if "ormgc.measure(" in c]
    assert len(example.strip().splitlines()) <= 5
    monkeypatch.chdir(tmp_path)
    printed: List[Tuple] = []
    exec(example, {"print": lambda *values: printed.append(values)})
    (default, raised) = printed
    assert (default[0], raised[0]) == ("default", "threshold:50000")
    assert default[1] > raised[1] and all(cpu > 0 for cpu in (default[2], raised[2]))
