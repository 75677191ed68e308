"""Named GC policies, parsed from readable strings: ``default``, ``threshold:N[,N1[,N2]]``,
``disabled``, ``adaptive[:LO..HI]``.

``threshold:N`` sets only the first threshold and keeps the others as the interpreter has them,
as the seed experiment did; ``threshold:50000,500,1000`` sets two or three of them, as real
projects do (``threshold_50000_500_1000`` is the same policy in the asv parameter spelling).
Instagram's set-up, ``gc.freeze()`` at start-up then the collector off, is ``disabled`` with the
freeze step on (the default; ``--no-freeze`` skips it).
``adaptive`` is ``ormgc.adaptive`` installed for the block (first threshold from the interpreter's
own up to 100,000; ``adaptive:700..1000000`` gives both bounds, asv spelling
``adaptive_700_1000000``); ``finish()`` removes it and returns the thresholds it went through.
The pre-measurement step the seed used, ``gc.collect(2)`` then ``gc.freeze()``, is separate
(``prepare_heap``) so that it is applied uniformly to every policy, or to none.
"""

from __future__ import annotations

import gc
import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from ormgc import adaptive
from ormgc.errors import UsageError

DEFAULT_SWEEP = (
    "default",
    "threshold:700",
    "threshold:2000",
    "threshold:10000",
    "threshold:50000",
    "threshold:100000",
    "disabled",
)
_KIND = re.compile(r"([a-z]+)[:_](.*)\Z", re.DOTALL)
# ASCII digits only, at most 10 (2**31-1 has 10): str.isdigit() and int() also take '²' or
# '٣', and int() refuses over 4300 digits with a ValueError.
_NUMBER = re.compile(r"[0-9]{1,10}\Z")
MAX_THRESHOLD = 2**31 - 1  # gc.set_threshold takes a C int
# gc.set_threshold takes any C int; a first threshold of 0 switches collection off (that is
# ``disabled``), a negative one too. For the older generations 0 is meaningful (collect that
# generation on every collection of the younger one), a negative value is not.
_LOWEST = (1, 0, 0)


class Policy(NamedTuple):
    """A GC setting applied just before the measured block."""

    name: str  # canonical spelling: "default", "threshold:50000", "threshold:50000,500,1000"...
    threshold0: int = 0
    older: Tuple[int, ...] = ()  # thresholds 1 and 2 when given; the others stay as they are
    bounds: Tuple[Any, ...] = ()  # adaptive: (lower or None for the interpreter's, upper, rule)

    def apply(self) -> None:
        if self.name == "disabled":
            gc.disable()
        elif self.bounds:
            adaptive.install(*self.bounds)
        elif self.threshold0:
            given = (self.threshold0, *self.older)
            gc.set_threshold(*given, *gc.get_threshold()[len(given) :])

    def finish(self) -> Optional[Dict[str, Any]]:
        """Undo what ``apply`` hooked in (the adaptive callback); its summary, else None."""
        return adaptive.remove() if self.bounds else None

    def changed_by_workload(
        self, before: Tuple[List[int], bool], after: Tuple[List[int], bool]
    ) -> Optional[Dict[str, Any]]:
        """What the measured call left different from this policy's GC: (thresholds, enabled)
        as the policy set them, then at the end of the call. ``{"thresholds": [...], "enabled":
        bool}`` as the call left them, or None: the figures are this policy's. The adaptive
        policy moves the thresholds itself, so under it only the enabled state is compared."""
        thresholds_changed = list(after[0]) != list(before[0]) and not self.bounds
        if not thresholds_changed and after[1] == before[1]:
            return None
        return {"thresholds": list(after[0]), "enabled": after[1]}

    @property
    def slug(self) -> str:
        """The same policy as an identifier-friendly string (asv parameters, file names)."""
        return self.name.replace(":", "_").replace(",", "_").replace("..", "_")


def _parse_threshold(text: str, values: str) -> Policy:
    """``threshold:N``, ``threshold:N,N1`` or ``threshold:N,N1,N2`` (or with ``_``)."""
    parts = re.split(r"[,_]", values)
    if len(parts) > len(_LOWEST):
        raise UsageError(f"bad GC policy {text!r}: at most {len(_LOWEST)} thresholds")
    numbers = []
    for position, (part, lowest) in enumerate(zip(parts, _LOWEST)):
        if not _NUMBER.match(part) or not lowest <= int(part) <= MAX_THRESHOLD:
            which = ("first", "second", "third")[position]
            raise UsageError(
                f"bad GC threshold in {text!r}: the {which} must be a whole number "
                f"from {lowest} to {MAX_THRESHOLD}, got {part!r}"
            )
        numbers.append(int(part))
    return Policy("threshold:" + ",".join(map(str, numbers)), numbers[0], tuple(numbers[1:]))


ADAPTIVE = Policy("adaptive", bounds=(None, adaptive.DEFAULT_UPPER, adaptive.RULES[0]))
_ADAPTIVE_VALUES = re.compile(r"([0-9]{1,10})(?:\.\.|_)([0-9]{1,10})(?:[,_]([a-z]+))?\Z")


def _parse_adaptive(text: str, values: str) -> Policy:
    """``adaptive:LO..HI`` or ``adaptive:LO..HI,RULE`` (or ``adaptive_LO_HI[_RULE]``)."""
    match = _ADAPTIVE_VALUES.match(values)
    if not match:
        raise UsageError(
            f"bad GC policy {text!r}: use adaptive or adaptive:LO..HI, e.g. adaptive:700..1000000"
        )
    lower, upper, rule = int(match.group(1)), int(match.group(2)), match.group(3)
    try:
        adaptive.check_bounds(lower, upper, rule or adaptive.RULES[0])
    except ValueError as exc:
        raise UsageError(f"bad GC policy {text!r}: {str(exc).split(': ', 1)[1]}") from None
    name = f"adaptive:{lower}..{upper}" + (f",{rule}" if rule and rule != adaptive.RULES[0] else "")
    return Policy(name, bounds=(lower, upper, rule or adaptive.RULES[0]))


# Parametrised policy kinds: "KIND:VALUES" (or "KIND_VALUES") -> parser(text, VALUES).
KINDS: Dict[str, Callable[[str, str], Policy]] = {
    "threshold": _parse_threshold,
    "adaptive": _parse_adaptive,
}


def parse_policy(text: str) -> Policy:
    """Parse a policy string; raise UsageError with one readable line when it is not one."""
    text = text.strip()
    if text in ("default", "disabled"):
        return Policy(text)
    if text == "adaptive":
        return ADAPTIVE
    match = _KIND.match(text)
    if not match or match.group(1) not in KINDS:
        raise UsageError(
            f"unknown GC policy {text!r}: use default, disabled, threshold:N, "
            "threshold:N,N1,N2 or adaptive[:LO..HI]"
        )
    return KINDS[match.group(1)](text, match.group(2))


def parse_policies(texts: List[str]) -> List[Policy]:
    """Parse several policies, dropping repeats but keeping the order given."""
    policies: Dict[str, Policy] = {}
    for text in texts:
        policy = parse_policy(text)
        policies.setdefault(policy.name, policy)
    return list(policies.values())


def prepare_heap(freeze: bool) -> Dict[str, Any]:
    """The seed's step before measuring: a full collection, then freeze what survives."""
    if not freeze:
        return {"freeze": False, "frozen_objects": 0}
    gc.collect(2)
    gc.freeze()
    return {"freeze": True, "frozen_objects": gc.get_freeze_count()}
