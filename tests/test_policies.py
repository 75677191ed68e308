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
        ("threshold:50000,500,1000", Policy("threshold:50000,500,1000", 50_000, (500, 1000))),
        ("threshold_50000_500_1000", Policy("threshold:50000,500,1000", 50_000, (500, 1000))),
        ("threshold:200000,30", Policy("threshold:200000,30", 200_000, (30,))),
        ("threshold:700,0,0", Policy("threshold:700,0,0", 700, (0, 0))),
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
        "threshold:50000,abc",
        "threshold:50000,500,x1",
        "threshold:0,500,1000",
        "threshold:50000,-1",
        "threshold:50000,500,-1",
        "threshold:1,2,3,4",
        "threshold:50000,,1000",
        "threshold:50000,500,",
        "threshold:,500",
        "threshold:50000,99999999999",
        "adaptive:1..2",
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
    three = parse_policy("threshold:50000,500,1000")
    assert three.slug == "threshold_50000_500_1000"
    assert parse_policy(three.slug) == three


@pytest.mark.parametrize(
    "text, expected",
    [
        ("threshold:50000", [50_000, None, None]),
        ("threshold:50000,500", [50_000, 500, None]),
        ("threshold:50000,500,1000", [50_000, 500, 1000]),
        ("threshold:200000,0,0", [200_000, 0, 0]),
    ],
)
def test_unspecified_thresholds_stay_as_the_interpreter_has_them(
    restore_gc: None, text: str, expected: list
) -> None:
    gc.set_threshold(700, 11, 12)
    parse_policy(text).apply()
    kept = (700, 11, 12)
    assert list(gc.get_threshold()) == [
        kept[i] if value is None else value for i, value in enumerate(expected)
    ]


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
