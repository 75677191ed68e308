"""Property-based fuzzing of the parsers of user text: any text either parses to a valid value
or is the one-line usage error, never another exception (a traceback for the user)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ormgc.cli import build_parser
from ormgc.cli_run import row_counts
from ormgc.errors import UsageError
from ormgc.runs.workloads import resolve_workload
from ormgc.worker.policies import MAX_THRESHOLD, parse_policy

FUZZ = settings(max_examples=200, deadline=None)
# Text near the grammar finds more than random text: kinds, separators, digits of every script.
ODD_DIGITS = "0123456789²³¹⁰٠١٢٣٤٥٦٧٨٩۰۱۲０１２３४५๓߀𝟎𝟗"
PIECES = st.sampled_from(
    ["threshold", "adaptive", "default", "disabled", ":", "_", ",", "..", " ", "\n", "-", "+"]
    + ["0", "1", "700", "99999999999", "2147483647", "2147483648", "1" * 5000, "e3", "0x10"]
)
NEAR = st.lists(st.one_of(PIECES, st.text(alphabet=ODD_DIGITS, min_size=1)), max_size=8).map(
    "".join
)
ANY_TEXT = st.one_of(st.text(), NEAR)


@FUZZ
@given(ANY_TEXT)
@example("threshold:²")
@example("threshold:٧٠٠")
@example("threshold:７００")
@example("adaptive:²..³")
@example("adaptive:1" + "0" * 5000 + "..2")
def test_policy_text_is_a_policy_or_one_line(text: str) -> None:
    try:
        policy = parse_policy(text)
    except UsageError as exc:
        assert len(str(exc).splitlines()) == 1
        return
    assert parse_policy(policy.name) == policy  # canonical spelling: it parses to itself
    assert policy.name.isascii()
    numbers = [policy.threshold0, *policy.older, *[b for b in policy.bounds if type(b) is int]]
    assert all(0 <= number <= MAX_THRESHOLD for number in numbers)


@FUZZ
@given(st.one_of(st.text(), NEAR.map(lambda text: text.replace(":", ","))))
@example("1000,²")
@example("１０００")
def test_rows_text_is_sizes_or_one_line(text: str) -> None:
    try:
        sizes = row_counts(text)
    except argparse.ArgumentTypeError as exc:
        assert len(str(exc).splitlines()) == 1
    else:
        assert sizes and all(type(size) is int and size >= 1 for size in sizes)
    stderr = io.StringIO()  # and through the command line: one line, status 2
    with contextlib.redirect_stderr(stderr), contextlib.suppress(SystemExit):
        build_parser().parse_args(["run", "--rows", text])
    assert len(stderr.getvalue().splitlines()) <= 1


@FUZZ
@given(
    st.one_of(
        st.text(),
        st.tuples(
            st.text(), st.sampled_from([".py:", ":", "/x.py:", "~/", "~nobody_x/"]), st.text()
        ).map("".join),
    )
)
@example("~no_such_user_ormgc/bench.py:loads")
@example("a\x00b.py:loads")
@example("a\nb.py:loads")
@example("a\u2028b.py:loads")
@example("bench.py:lo\x00ads")
def test_workload_text_is_a_target_or_one_line(text: str) -> None:
    try:
        target = resolve_workload(text)
    except UsageError as exc:
        assert len(str(exc).splitlines()) == 1
        return
    where, _, name = target.rpartition(":")
    assert name.isidentifier() and where


@pytest.mark.parametrize("text", ["threshold:²", "threshold:٧٠٠", "adaptive:¹..²"])
def test_odd_digits_in_a_policy_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="bad GC"):
        parse_policy(text)


def test_workload_files_resolve_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "bench.py").write_text("def loads():\n    return list\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert resolve_workload("bench.py:loads") == f"{tmp_path / 'bench.py'}:loads"
    finally:
        os.chdir(cwd)
