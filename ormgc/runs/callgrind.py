"""Reads callgrind's output: the block's totals and the collector's inclusive cost.

The format (valgrind manual, "Callgrind Format Specification"), as far as used here:

- ``events: Ir [Dr ...]`` names the columns of every cost line; ``positions:`` how many
  position columns come first (default one: the line).
- ``ob=``/``fl=``/``fi=``/``fe=`` set the current object and file, ``fn=`` the current function:
  the cost lines after it are that function's **self** cost.
- ``cob=``/``cfi=``/``cfn=`` name the callee of the next ``calls=COUNT TARGET`` line; the cost
  line right after ``calls=`` is the **inclusive** cost of those calls, charged to the caller.
- A position may be absolute, ``+N``/``-N`` or ``*``; missing trailing values are 0.
- Names are compressed: ``(id) name`` defines ``id``, ``(id)`` alone reuses it; ``fn``/``cfn``
  share one id space, ``ob``/``cob`` another, ``fl``/``fi``/``fe``/``cfi``/``cfl`` a third.

Inclusive cost: ``self(f) + sum of f's call edges to other functions``. A recursive
activation is a different name (``f'2``, callgrind's default ``--separate-recs=2``), so its
cost arrives through the edge ``f -> f'2``; an edge ``f -> f`` (``--separate-recs=1``) is
skipped, its cost being already in f's own. GCC's clones (``f.isra.0``, ``f.constprop.1``,
``f.part.0``, ``f.cold``) are folded into ``f``. This is what ``callgrind_annotate
--inclusive=yes`` prints (tests/test_exact_parse.py checks it against that tool).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ormgc.errors import OrmGcError

_CLONE = re.compile(r"(\.(isra|constprop|part|cold|lto_priv|localalias)(\.\d+)?)+$")
_NAME_REF = re.compile(r"\((\d+)\)(?:\s(.*))?$")
# The interpreter's own code: the executable (python3.X) or libpython3.X.so, not extensions.
INTERPRETER_OBJECT = re.compile(r"(^|/)(lib)?python[0-9][^/]*$")
# Where each CPython version collects, newest first after the classic two: 3.10-3.13 (and
# 3.14.5+, generational again) gc_collect_main; 3.9 and older collect; 3.14.0-3.14.4's
# incremental GC the rest. The first one present with a non-zero cost is the collector.
GC_FUNCTIONS = (
    "gc_collect_main",
    "collect",
    "gc_collect_region",
    "gc_collect_full",
    "gc_collect_young",
    "gc_collect_increment",
)
# gc.callbacks run through these (inside gc_collect_main on 3.13): user code, not GC work.
CALLBACK_FUNCTIONS = ("invoke_gc_callback",)

Function = Tuple[str, str]  # (object, function name)


class Dump(NamedTuple):
    events: List[str]
    totals: List[int]
    self_cost: Dict[Function, List[int]]
    calls: Dict[Tuple[Function, Function], List[int]]


def base_name(function: str) -> str:
    """``gc_collect_main.constprop.0`` -> ``gc_collect_main``; keeps a recursion mark (``f'2``)."""
    return _CLONE.sub("", function)


def _add(table: Dict, key: object, values: List[int]) -> None:
    current = table.get(key)
    if current is None:
        table[key] = list(values)
    else:
        for index, value in enumerate(values):
            current[index] += value


def parse(path: str) -> Dump:
    """Self costs per function and inclusive costs per call edge of one callgrind dump."""
    names: Dict[str, Dict[str, str]] = {"ob": {}, "fn": {}, "fl": {}}
    spaces = {"ob": "ob", "cob": "ob", "fn": "fn", "cfn": "fn"}
    spaces.update(dict.fromkeys(("fl", "fi", "fe", "cfi", "cfl"), "fl"))
    events: List[str] = []
    totals: Optional[List[int]] = None
    positions = 1
    self_cost: Dict[Function, List[int]] = {}
    calls: Dict[Tuple[Function, Function], List[int]] = {}
    current = {"ob": "", "fn": "", "cob": "", "cfn": ""}
    call_pending = False

    def name(space: str, text: str) -> str:
        match = _NAME_REF.match(text)
        if not match:
            return text
        ids = names[space]
        if match.group(2) is not None:
            ids[match.group(1)] = match.group(2)
        return ids.get(match.group(1), text)

    with open(path) as dump:
        for line in dump:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            if line[0].isdigit() or line[0] in "+-*":
                fields = line.split()[positions:]
                values = [int(field) for field in fields] + [0] * (len(events) - len(fields))
                caller = (current["ob"], current["fn"])
                if call_pending:
                    callee = (current["cob"] or current["ob"], current["cfn"])
                    _add(calls, (caller, callee), values)
                    call_pending, current["cob"] = False, ""
                else:
                    _add(self_cost, caller, values)
                continue
            key, sep, rest = line.partition("=")
            if sep and key in spaces:
                value = name(spaces[key], rest)
                if key in current:
                    current[key] = value
                    if key == "fn":
                        current["cob"] = ""
            elif sep and key == "calls":
                call_pending = True
            elif line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("positions:"):
                positions = len(line.split()) - 1
            elif line.startswith(("summary:", "totals:")):
                totals = [int(field) for field in line.split()[1:]]
    if not events:
        raise OrmGcError(f"{path}: not a callgrind dump (no events line)")
    if totals is None:  # no summary line: the sum of all self costs is the total
        totals = [sum(costs[i] for costs in self_cost.values()) for i in range(len(events))]
    return Dump(events, totals + [0] * (len(events) - len(totals)), self_cost, calls)


def inclusive(
    dump: Dump, function: str, exclude: Sequence[str] = (), objects: re.Pattern = INTERPRETER_OBJECT
) -> Optional[List[int]]:
    """Inclusive cost of ``function`` (clones folded) in the objects matching ``objects``,
    leaving out calls to functions whose base name starts with one of ``exclude``;
    None when the dump has no such function."""
    keys = [
        key for key in dump.self_cost if base_name(key[1]) == function and objects.search(key[0])
    ]
    keys += [  # a function may appear only as a callee-with-calls, never with self cost
        caller
        for caller, _ in dump.calls
        if caller not in keys and base_name(caller[1]) == function and objects.search(caller[0])
    ]
    if not keys:
        return None
    total = [0] * len(dump.events)
    for key in dict.fromkeys(keys):
        for index, value in enumerate(dump.self_cost.get(key, ())):
            total[index] += value
    for (caller, callee), costs in dump.calls.items():
        if caller not in keys:
            continue
        target = base_name(callee[1])
        if target == function or target.startswith(tuple(exclude)):
            continue
        for index, value in enumerate(costs):
            total[index] += value
    return total


class GcCost(NamedTuple):
    function: Optional[str]  # None: no collector function ran in the block
    costs: List[int]  # per event, like Dump.totals


def gc_cost(dump: Dump, candidates: Sequence[str] = GC_FUNCTIONS) -> GcCost:
    """The collector's inclusive cost without gc.callbacks: the first candidate that ran."""
    for function in candidates:
        costs = inclusive(dump, function, exclude=CALLBACK_FUNCTIONS)
        if costs is not None and costs[0] > 0:
            return GcCost(function, costs)
    return GcCost(None, [0] * len(dump.events))


# Cache geometry fixed so that the estimate does not depend on the machine's CPU.
CACHE_SIM_OPTIONS = ("--cache-sim=yes", "--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64")


def estimated_cycles(events: Sequence[str], costs: Sequence[int]) -> int:
    """L1 hits + 5 x last-level hits + 35 x RAM accesses (iai-callgrind's estimate), from a
    ``--cache-sim=yes`` dump; an estimate of time from a cache model, not a measurement."""
    value = dict(zip(events, costs))
    accesses = value["Ir"] + value["Dr"] + value["Dw"]
    l1_misses = value["I1mr"] + value["D1mr"] + value["D1mw"]
    ram = value["ILmr"] + value["DLmr"] + value["DLmw"]
    return (accesses - l1_misses) + 5 * (l1_misses - ram) + 35 * ram


def exact_fields(
    dump: Dump, setup: Any, collections: int, label: str, by_callbacks: Any = None
) -> Dict[str, Any]:
    """The record's exact figures from the block's dump (the collector's from ``by_callbacks``
    when given); fail rather than report a GC of 0."""
    gc = gc_cost(dump)
    if by_callbacks is None and gc.function is None and collections > 0:
        raise OrmGcError(
            f"{label}: {collections} collections ran in the block, but none of the collector "
            f"functions ({', '.join(GC_FUNCTIONS)}) is in callgrind's profile of this "
            "interpreter: its GC instructions cannot be told (--exact-gc callbacks can)"
        )
    instructions = dump.totals[0]
    gc_costs = gc.costs if by_callbacks is None else by_callbacks.costs
    fields: Dict[str, Any] = {
        "instructions": instructions,
        "gc_instructions": gc_costs[0],
        "gc_share": gc_costs[0] / instructions if instructions else 0.0,
        "gc_function": gc.function,
        "gc_method": "symbol" if by_callbacks is None else "callbacks",
        "valgrind": setup.valgrind_version,
        "exact_method": "callgrind, client requests around the probed block",
    }
    if by_callbacks is not None:
        fields.update(
            gc_instructions_between_callbacks=by_callbacks.counted,
            gc_callbacks_slice=by_callbacks.slice_per_collection,
        )
        if gc.function is not None:  # both methods: how far they agree
            fields["gc_instructions_symbol"] = gc.costs[0]
    if setup.mode == "cache":
        cycles = estimated_cycles(dump.events, dump.totals)
        gc_cycles = estimated_cycles(dump.events, gc_costs)
        fields.update(
            {
                "cache_sim": " ".join(CACHE_SIM_OPTIONS[1:]),
                "estimated_cycles": cycles,
                "gc_estimated_cycles": gc_cycles,
                "gc_share_estimated_cycles": gc_cycles / cycles if cycles else 0.0,
            }
        )
    return fields
