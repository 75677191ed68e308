"""The callgrind reader on a small synthetic dump whose answers are worked out by hand."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ormgc.errors import OrmGcError
from ormgc.runs.callgrind import base_name, estimated_cycles, gc_cost, inclusive, parse

# gc_collect_main (self 100) calls visit_decref (50), a gc.callbacks hook through
# invoke_gc_callback.isra.0 (70, of which 60 in an extension) and its own cold part (9);
# move_unreachable (20) recurses once (move_unreachable'2, 15); visit calls itself (an edge
# to itself, as with --separate-recs=1, already inside its self cost). An extension module
# has a function named ``collect`` that is not the interpreter's. Names are compressed.
SYNTHETIC = """\
# callgrind format
version: 1
creator: hand
positions: line
events: Ir
summary: 279

ob=(1) /opt/python/lib/libpython3.11.so.1.0
fl=(1) Python/gc.c
fn=(1) gc_collect_main
10 60
+2 40
cfn=(2) visit_decref
calls=5 20
11 50
cfn=(3) invoke_gc_callback.isra.0
calls=2 30
12 70
cfn=(4) gc_collect_main.cold
calls=1 40
* 9
cfn=(5) move_unreachable
calls=1 50
13 35
fn=(2)
20 50
fn=(3)
30 10
cob=(2) /opt/ext/_hook.cpython-311-x86_64-linux-gnu.so
cfn=(6) user_hook
calls=2 1
31 60
fn=(4)
40 9
fn=(5)
50 20
cfn=(7) move_unreachable'2
calls=1 50
51 15
fn=(7)
50 15
fn=(8) visit
60 12
cfn=(8)
calls=3 60
61 4
ob=(2)
fl=(2) hook.c
fn=(6)
1 60
fn=(9) collect
2 3
"""


@pytest.fixture
def dump_path(tmp_path: Path) -> Path:
    path = tmp_path / "callgrind.out.1"
    path.write_text(SYNTHETIC)
    return path


def test_self_costs_calls_and_totals(dump_path: Path) -> None:
    dump = parse(str(dump_path))
    lib = "/opt/python/lib/libpython3.11.so.1.0"
    assert dump.events == ["Ir"] and dump.totals == [279]
    assert dump.self_cost[(lib, "gc_collect_main")] == [100]  # two lines, "+2" relative
    assert dump.calls[((lib, "gc_collect_main"), (lib, "gc_collect_main.cold"))] == [9]  # "*"
    hook = (
        (lib, "invoke_gc_callback.isra.0"),
        ("/opt/ext/_hook.cpython-311-x86_64-linux-gnu.so", "user_hook"),
    )
    assert dump.calls[hook] == [60]  # cob= names the callee's object for one call only
    assert sum(cost[0] for cost in dump.self_cost.values()) == 279  # every instruction once


def test_inclusive_folds_clones_follows_recursion_and_skips_self_edges(dump_path: Path) -> None:
    dump = parse(str(dump_path))
    assert base_name("collect.constprop.0.isra.1") == "collect"
    assert base_name("move_unreachable'2") == "move_unreachable'2"
    assert inclusive(dump, "move_unreachable") == [20 + 15]
    assert inclusive(dump, "visit") == [12]  # the edge to itself is in its self cost already
    # self 100, cold part 9 (folded, not counted twice), visit_decref 50, hook 70, recursion 35
    assert inclusive(dump, "gc_collect_main") == [100 + 9 + 50 + 70 + 35]
    assert inclusive(dump, "gc_collect_main", exclude=("invoke_gc_callback",)) == [194]


def test_gc_cost_leaves_out_callbacks_and_extension_functions(dump_path: Path) -> None:
    found = gc_cost(parse(str(dump_path)))
    assert found.function == "gc_collect_main" and found.costs == [194]
    # Python 3.9 names it collect: only the interpreter's own counts, not an extension's
    older = dump_path.with_name("older.out")
    older.write_text(SYNTHETIC.replace("gc_collect_main", "collect"))
    found = gc_cost(parse(str(older)))
    assert found.function == "collect" and found.costs == [194]


def test_no_collector_function_means_none(dump_path: Path) -> None:
    renamed = dump_path.with_name("renamed.out")
    renamed.write_text(SYNTHETIC.replace("gc_collect_main", "something_else"))
    found = gc_cost(parse(str(renamed)))
    assert found.function is None and found.costs == [0]


def test_matches_callgrind_annotate_inclusive(dump_path: Path) -> None:
    """callgrind_annotate folds no clones and leaves no callbacks out: with both, ours agrees."""
    if shutil.which("callgrind_annotate") is None:
        pytest.skip("callgrind_annotate (Debian's valgrind package) is not installed")
    shown = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(dump_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {
        name: int(number.replace(",", ""))
        for number, name in re.findall(r"^\s*([\d,]+) .*?:(\S+) \[", shown, re.M)
    }
    dump = parse(str(dump_path))
    assert figures["gc_collect_main"] == inclusive(dump, "gc_collect_main")[0] == 264
    assert figures["move_unreachable"] == inclusive(dump, "move_unreachable")[0]


def test_estimated_cycles_and_bad_file(tmp_path: Path) -> None:
    events = ["Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"]
    # 160 accesses, 10 L1 misses of which 2 went to RAM: 150 + 5 x 8 + 35 x 2
    assert estimated_cycles(events, [100, 40, 20, 4, 4, 2, 1, 1, 0]) == 150 + 40 + 70
    junk = tmp_path / "junk"
    junk.write_text("hello\n")
    with pytest.raises(OrmGcError, match="not a callgrind dump"):
        parse(str(junk))
