"""The front doors' figures: README's answer and the landing page quote one headline (what
threshold:50000 saves, from the paired files) and the landing page the exact instructions,
each checked against the committed files, recomputed here without the suite's readers."""

from __future__ import annotations

import html
import json
import math
import statistics
from pathlib import Path

import pytest

from ormgc.runs.pythons import SUPPORTED
from ormgc.views.charts import report_data
from ormgc.views.site.answer import headline
from ormgc.views.site.landing import answer_rows, answer_table

from .conftest import ROOT

RESULTS = ROOT / "results"


def _paired(python: str) -> Path:
    return RESULTS / "paired" / f"seed-sqlalchemy-{python}.json"


def test_readme_and_landing_page_quote_the_same_headline() -> None:
    readme = (ROOT / "README.md").read_text()
    table = answer_table(answer_rows(report_data.load(RESULTS)))
    quoted = 0
    for python in SUPPORTED:
        found = headline(RESULTS, python)
        if found is None:
            continue
        assert found.text() in readme, python
        assert html.escape(found.text()) in table, python
        quoted += 1
    assert quoted == len(SUPPORTED)


def test_headline_recomputed_from_the_rounds() -> None:
    """The ratio is the geometric mean of the per-round CPU ratios; the half-width what the
    interval says; a target not met is said so."""
    for python in SUPPORTED:
        records = json.loads(_paired(python).read_text())
        base = next(r for r in records if r["policy"] == "default")
        raised = next(r for r in records if r["policy"] == "threshold:50000")
        logs = [math.log(a["cpu_ms"] / b["cpu_ms"]) for a, b in zip(raised["runs"], base["runs"])]
        found = headline(RESULTS, python)
        assert found.ratio == pytest.approx(math.exp(statistics.fmean(logs)))
        assert found.rounds == len(logs)
        width = max(found.ratio - found.low, found.high - found.ratio) / found.ratio * 100
        assert found.half_width == pytest.approx(width)
        if found.target is not None:
            assert ("met" in found.text()) == (found.half_width <= found.target)
            assert found.met == (found.half_width <= found.target)


def test_landing_instructions_recomputed_from_the_exact_files() -> None:
    raw = {}
    for path in (RESULTS / "exact").rglob("*.json"):
        data = json.loads(path.read_text())
        for record in data if isinstance(data, list) else []:
            if (
                isinstance(record, dict)
                and "instructions" in record
                and record.get("shape") == "seed_loop"
            ):
                key = (".".join(record["python"].split(".")[:2]), record["orm"], record["rows"])
                older = raw.setdefault(key, {}).get(record["policy"])  # a rerun: the newest
                if older is None or record["timestamp"] > older["timestamp"]:
                    raw[key][record["policy"]] = record
    rows = [row for row in answer_rows(report_data.load(RESULTS)) if row.get("instructions")]
    assert len(rows) >= 14  # SQLAlchemy and MongoEngine on every Python, Django too
    for row in rows:
        exact = row["instructions"]
        counts = {
            policy: record["instructions"]
            for policy, record in raw[row["python"], row["orm"], exact["rows"]].items()
        }
        assert (exact["default"], exact["raised"]) == (counts["default"], counts["threshold:50000"])
        assert exact["saved"] == 1 - counts["threshold:50000"] / counts["default"]
        # the seed's size where both policies were counted there, else the largest counted
        sizes = [
            rows
            for (python, orm, rows), found in raw.items()
            if (python, orm) == (row["python"], row["orm"])
            and {"default", "threshold:50000"} <= set(found)
        ]
        assert exact["rows"] == (100_000 if 100_000 in sizes else max(sizes)), row
