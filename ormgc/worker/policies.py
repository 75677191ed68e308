"""Named GC policies, parsed from readable strings: ``default``, ``threshold:N``, ``disabled``.

``threshold:N`` sets only the first threshold and keeps the others as the interpreter has them,
as the seed experiment did (``threshold_N`` is accepted too, the asv parameter spelling).
The pre-measurement step the seed used, ``gc.collect(2)`` then ``gc.freeze()``, is separate
(``prepare_heap``) so that it is applied uniformly to every policy, or to none.
"""

from __future__ import annotations

import gc
import re
from typing import Any, Dict, List, NamedTuple

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
_THRESHOLD = re.compile(r"threshold[:_](.*)\Z")
MAX_THRESHOLD = 2**31 - 1  # gc.set_threshold takes a C int


class Policy(NamedTuple):
    """A GC setting applied just before the measured block."""

    name: str  # canonical spelling: "default", "threshold:50000", "disabled"
    threshold0: int = 0

    def apply(self) -> None:
        if self.name == "disabled":
            gc.disable()
        elif self.threshold0:
            gc.set_threshold(self.threshold0, *gc.get_threshold()[1:])

    @property
    def slug(self) -> str:
        """The same policy as an identifier-friendly string (asv parameters, file names)."""
        return self.name.replace(":", "_")


def parse_policy(text: str) -> Policy:
    """Parse a policy string; raise UsageError with one readable line when it is not one."""
    text = text.strip()
    if text in ("default", "disabled"):
        return Policy(text)
    match = _THRESHOLD.match(text)
    if not match:
        raise UsageError(f"unknown GC policy {text!r}: use default, disabled or threshold:N")
    value = match.group(1)
    if not value.isdigit() or not 1 <= int(value) <= MAX_THRESHOLD:
        raise UsageError(
            f"bad GC threshold in {text!r}: need a whole number from 1 to {MAX_THRESHOLD}"
        )
    return Policy(f"threshold:{int(value)}", int(value))


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
