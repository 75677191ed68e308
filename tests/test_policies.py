"""GC policies: parsing readable strings, applying them, and the seed's freeze step."""

from __future__ import annotations

import gc

import pytest

from ormgc import DEFAULT_SWEEP, Policy, UsageError, parse_policy, prepare_heap
from ormgc.worker.policies import parse_policies


@pytest.mark.parametrize(
    "text, expected",
    [
        ("default", Policy("default")),
        ("disabled", Policy("disabled")),
        ("threshold:50000", Policy("threshold:50000", 50_000)),
        ("threshold_700", Policy("threshold:700", 700)),
        (" threshold:0100 ", Policy("threshold:100", 100)),
    ],
)
def test_parse(text: str, expected: Policy) -> None:
    assert parse_policy(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "threshold:abc",
        "threshold:-5",
        "threshold:0",
        "threshold:",
        "threshold:1e5",
        "threshold:99999999999",
        "fast",
        "",
        "THRESHOLD:5",
    ],
)
def test_bad_policies_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_policy(text)
    assert "\n" not in str(error.value)


def test_default_sweep_parses_in_order() -> None:
    names = [policy.name for policy in parse_policies(list(DEFAULT_SWEEP))]
    assert names == list(DEFAULT_SWEEP)
    assert parse_policies(["default", "threshold_700", "threshold:700"]) == [
        Policy("default"),
        Policy("threshold:700", 700),
    ]


def test_slug_is_the_asv_spelling() -> None:
    assert parse_policy("threshold:50000").slug == "threshold_50000"
    assert parse_policy(parse_policy("threshold:50000").slug).name == "threshold:50000"


def test_threshold_keeps_the_older_generations(restore_gc: None) -> None:
    gc.set_threshold(700, 11, 12)
    parse_policy("threshold:50000").apply()
    assert gc.get_threshold() == (50_000, 11, 12)


def test_default_leaves_the_interpreter_alone(restore_gc: None) -> None:
    gc.set_threshold(777, 10, 10)
    parse_policy("default").apply()
    assert gc.get_threshold() == (777, 10, 10) and gc.isenabled()


def test_disabled_disables(restore_gc: None) -> None:
    parse_policy("disabled").apply()
    assert not gc.isenabled()


def test_prepare_heap_freezes_survivors() -> None:
    try:
        frozen = prepare_heap(freeze=True)
        assert frozen["freeze"] is True
        assert frozen["frozen_objects"] == gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert prepare_heap(freeze=False) == {"freeze": False, "frozen_objects": 0}
