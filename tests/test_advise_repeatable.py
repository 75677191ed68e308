"""``ormgc advise`` as a user runs it, twice: the same recommendation from two sweeps of the same
workload (the seed's query; a user's workload that makes no garbage), never ``disabled``
without --allow-disabled, and ``--exact`` end to end (valgrind), ranking by instructions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from .conftest import SMALL_LOAD, SMALL_ROWS, ormgc
from .test_exact import needs_valgrind

# freeze on only (6 settings), 3 rounds, at most 4: the stopping rule is tested on synthetic
# sweeps (tests/test_advice_rule.py); here, that real sweeps agree
QUICK = ("--quick", "--freeze", "on", "--repeat", "3", "--max-rounds", "4")
CUSTOMERS = "examples/sqlalchemy_customers.py:all_customers"


def advise(cache: Path, out: Path, *args: str) -> Dict[str, Any]:
    done = ormgc("advise", *args, "--json", str(out), cache_dir=cache)
    assert done.returncode == 0, done.stderr
    advice = json.loads(out.read_text())
    assert advice["repeat"] in (3, 4) and advice["max_rounds"] == 4
    assert f"Recommended: {advice['recommended']['policy']} " in done.stdout
    return advice


def same_advice_twice(cache: Path, tmp_path: Path, *args: str) -> None:
    """Two sweeps never give two different decisions. A sweep whose budget ends before every
    smaller setting is significant says so and keeps the default (the rule's contract,
    ormgc/views/advice/rule.py): at 4 rounds beside the asv test's valgrind runs, one sweep of two
    decided and the other did not, for both workloads, in one fresh-clone CI run."""
    first, second = (advise(cache, tmp_path / f"{n}.json", *args) for n in (1, 2))
    chosen = [(a["recommended"]["policy"], a["recommended"]["freeze"]) for a in (first, second)]
    decided = [advice["decided"] for advice in (first, second)]
    print("two advise runs:", chosen, decided)
    if all(decided):
        assert chosen[0] == chosen[1]  # an undecided one keeps the default and says why: below
    assert not any("disabled" in choice for choice in chosen)
    for advice in (first, second):
        counts = {r["policy"]: r["collections_total"] for r in advice["records"]}
        assert counts["disabled"] == 0 and counts["default"] > 0  # counts: deterministic
        if not advice["decided"]:
            assert advice["recommended"]["policy"] == "default"
            assert "no choice is significant after" in advice["recommended"]["reason"]


@pytest.mark.slow  # two sweeps of 18-24 fresh processes each: about a minute
def test_two_advise_runs_on_the_seed_workload_agree(use_shared_cache: Path, tmp_path: Path) -> None:
    rows = ("--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD))
    same_advice_twice(use_shared_cache, tmp_path, *rows, *QUICK)


@pytest.mark.slow  # as above
def test_two_advise_runs_on_a_workload_without_garbage_agree(
    use_shared_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORMGC_EXAMPLE_CUSTOMERS", "3000")
    same_advice_twice(use_shared_cache, tmp_path, "--workload", CUSTOMERS, *QUICK)


@pytest.mark.slow  # 6 settings under valgrind, then timing rounds: 1-4 minutes here
@needs_valgrind
def test_advise_exact_ranks_by_the_collectors_instructions(
    use_shared_cache: Path, tmp_path: Path
) -> None:
    rows = ("--rows", str(SMALL_ROWS), "--load", str(SMALL_LOAD))
    out = tmp_path / "exact.json"
    small = ("--quick", "--freeze", "on", "--repeat", "2", "--max-rounds", "3")
    done = ormgc("advise", "--exact", *rows, *small, "--json", str(out), cache_dir=use_shared_cache)
    assert done.returncode == 0, done.stderr
    advice = json.loads(out.read_text())
    assert advice["exact"] and "gc share" in done.stdout
    rows_by = {row["policy"]: row for row in advice["table"]}
    assert all(row["win_by"] == "instructions" for row in rows_by.values())
    assert rows_by["disabled"]["gc_instructions"] == 0
    default = rows_by["default"]["gc_instructions"]
    assert default > 0
    for row in rows_by.values():  # the win is the share of the collector's work removed
        if row["policy"] != "default":
            assert row["win"] == pytest.approx(1 - row["gc_instructions"] / default)
    chosen = advice["recommended"]
    if chosen["policy"] != "default":  # by instructions, confirmed by timing
        assert (
            chosen["figures"]["win"] >= 0.9 and chosen["figures"]["cpu_vs_default"]["ci95"][1] < 1
        )
        smaller = [  # the baseline itself (win 0, "excluded" as the baseline) is no candidate
            r
            for name, r in rows_by.items()
            if name != "default" and r["win"] is not None and r["win"] < 0.9
        ]
        assert all("wins " in ", ".join(r["excluded_by"]) for r in smaller)
    else:
        assert not advice["decided"] or "no setting wins" in chosen["reason"]
    again = tmp_path / "again.json"
    done = ormgc("advise", "--from", str(out), "--json", str(again), cache_dir=use_shared_cache)
    assert done.returncode == 0, done.stderr
    assert json.loads(again.read_text())["recommended"]["policy"] == chosen["policy"]
