"""asv's ExactCost.track_gc_instructions: the collector's instructions of the query, exact, the
same figure as the committed ``ormgc run --exact`` records' gc_instructions."""

from __future__ import annotations

import json

from .conftest import ROOT

RESULTS = ROOT / "results"


def test_asv_tracks_the_collectors_instructions_exactly(monkeypatch) -> None:
    """track_gc_instructions: the record's count where the summary has it, else instructions x
    share, which gives back every committed exact record's count to the instruction."""
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.common import _ExactCost

    bench = _ExactCost()
    checked = 0
    for path in RESULTS.rglob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        for r in data if isinstance(data, list) else []:
            if isinstance(r, dict) and r.get("gc_instructions") is not None and "gc_share" in r:
                bench.summary = {"instructions": r["instructions"], "gc_share": r["gc_share"]}
                assert bench.track_gc_instructions() == r["gc_instructions"], path
                checked += 1
    assert checked >= 100
    bench.summary = {"instructions": 1000, "gc_share": 0.5, "gc_instructions": 123}
    assert bench.track_gc_instructions() == 123
    assert _ExactCost.track_gc_instructions.unit == "instructions"
