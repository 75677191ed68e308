"""The committed served sweeps (results/served/, scripts/served_results.sh): each figure the
findings page and the report show is checked against the raw rounds, recomputed here."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ormgc.views.tables.served_summary import BEGIN, END, PAGE, block

from .conftest import ROOT

RESULTS = ROOT / "results"
FILES = sorted((RESULTS / "served").glob("*.json"))
pytestmark = pytest.mark.skipif(not FILES, reason="no committed served results yet")


def _records() -> List[Dict[str, Any]]:
    return [record for path in FILES for record in json.loads(path.read_text())]


def test_every_python_and_both_orms_are_committed() -> None:
    found = {(r["orm"], ".".join(r["python"].split(".")[:2])) for r in _records()}
    for version in ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"):
        for orm in ("sqlalchemy", "django"):
            assert (orm, version) in found, (orm, version)


def test_files_hold_what_their_names_say_and_the_policies_as_applied() -> None:
    for path in FILES:
        orm, version = path.stem.split("-")
        for record in json.loads(path.read_text()):
            assert record["orm"] == orm and record["python"].startswith(version + ".")
            assert record["errors_total"] == 0 and record["repeat"] >= 3
            for worker in record["per_worker"]:
                assert worker["enabled"]
                if "threshold:50000" in record["policy"]:
                    assert worker["thresholds"][0] == 50000
                frozen = worker["frozen_objects"]
                assert (frozen > 10_000) == record["policy"].startswith("freeze+"), frozen


def _geometric_ratio(values: List[float], base: List[float]) -> float:
    return math.exp(statistics.fmean(math.log(v / b) for v, b in zip(values, base)))


def test_ratios_recomputed_from_the_rounds() -> None:
    """p99, throughput and PSS ratios: the geometric mean of the per-round ratios to the
    same round of default, computed here without the suite's statistics module."""
    records = _records()
    checked = 0
    for record in records:
        base = next(
            r for r in records
            if (r["orm"], r["python"], r["policy"]) == (record["orm"], record["python"], "default")
        )  # fmt: skip
        for field, key in (("p99", "p99_vs_baseline"), ("throughput_rps", "throughput_vs_baseline"),
                           ("worker_pss_mb", "pss_vs_baseline")):  # fmt: skip
            mine = [run[field] for run in record["runs"]]
            theirs = [run[field] for run in base["runs"]]
            assert record[key]["ratio"] == pytest.approx(_geometric_ratio(mine, theirs), rel=1e-9)
            checked += 1
        assert record["latency_ms"]["p99"] == statistics.median(r["p99"] for r in record["runs"])
    assert checked == 3 * len(records)


def test_findings_page_shows_the_committed_results() -> None:
    text = (ROOT / PAGE).read_text()
    inner = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert inner == "\n" + block(RESULTS), "python scripts/served_table.py --write"


def test_latency_chart_draws_each_p99(tmp_path: Path) -> None:
    """The chart's finding lists the p99 it drew for every ORM, Python and policy: the
    median of the rounds' p99 in the records."""
    from ormgc.views.charts import report_data, served

    drawn = served.latency_chart(report_data.load(RESULTS), tmp_path)
    assert (tmp_path / "served-latency.png").stat().st_size > 20_000
    shown = dict(part.rsplit(": p99 ", 1) for part in drawn.finding.split("; "))
    for record in _records():
        label = f"{record['orm']} {'.'.join(record['python'].split('.')[:2])} {record['policy']}"
        median = statistics.median(run["p99"] for run in record["runs"])
        assert shown.pop(label) == f"{median:.1f} ms"
    assert not shown


@pytest.mark.parametrize("width", [80, 120])
def test_served_tables_fit_the_terminal(width: int) -> None:
    """ormgc run --shape served's table and advice at 80 and 120 columns: no line wraps."""
    from ormgc.views.advice.served import ServedBounds, format_served_advice, served_advice
    from ormgc.views.tables.served import format_served

    for path in FILES:
        records = json.loads(path.read_text())
        text = format_served(records, width)
        text += "\n" + format_served_advice(served_advice(records, "default", ServedBounds()))
        too_long = [line for line in text.splitlines() if len(line) > width]
        assert not too_long, (path.name, too_long)
        assert "p99 ms" in text and "policy" in text  # the two columns that answer
