"""An adaptive GC policy: the first threshold backs off while young collections find nothing.

The seed's wish, built from public pieces: ``gc.callbacks`` says after every collection how many
objects it collected, and ``gc.set_threshold`` may be called at any time (also from a callback).
After a first-generation collection that collected nothing (or less than 1/64 of the threshold),
the first threshold doubles, up to ``upper``; after a collection that found more, it comes down
at least one halving, and as far as the objects that survived, never below ``lower``.

Use it in your own application (one file, standard library only; copy it if you like)::

    from ormgc import adaptive
    adaptive.install()           # or install(lower=700, upper=100_000)
    ...
    adaptive.remove()            # the thresholds and gc.callbacks exactly as they were

The new threshold applies from the next collection: the collector has already reset its count
when callbacks run ("stop"). On 3.12+ collections run from the eval breaker, between bytecodes,
so the callback runs there too; nothing here depends on where.
``install`` twice without ``remove`` raises RuntimeError: two rules fighting over one threshold
would each undo the other. The callback allocates nothing the collector tracks: the thresholds
it moves between are computed once, as ready-made argument tuples, and it only steps an index.
"""

from __future__ import annotations

import gc
from typing import Any, Dict, List, Optional, Tuple

DEFAULT_UPPER = 100_000  # see README: 1,000,000 saved a few collections, held 40 MB more garbage
MAX_THRESHOLD = 2**31 - 1  # gc.set_threshold takes a C int
GROWTH = 2
# The rule kept, "tolerant": garbage under 1/64 of the threshold counts as none; more pulls the
# threshold down at least one step and on below the number of young objects that survived.
# Tried and kept selectable for the measurements (scripts/bench_adaptive_rules.py): "halve"
# (any garbage: one step down), "reset" (any garbage: back to lower), "anygen" (halve, and also
# back off after older generations' empty collections), "proportional" (tolerant without the
# tolerance).
RULES = ("tolerant", "halve", "reset", "anygen", "proportional")
TOLERANCE_SHIFT = 6  # "tolerant": garbage under threshold >> 6 (1/64) does not pull it down

_installed: Optional[AdaptiveThreshold] = None


class AdaptiveThreshold:
    """The rule's state; its ``callback`` is what goes in ``gc.callbacks``."""

    def __init__(self, lower: int, upper: int, rule: str = RULES[0]) -> None:
        check_bounds(lower, upper, rule)
        self.saved_threshold = gc.get_threshold()  # what remove() restores
        older = self.saved_threshold[1:]
        ladder: List[int] = [lower]
        while ladder[-1] < upper:
            ladder.append(min(ladder[-1] * GROWTH, upper))
        self.lower, self.upper, self.rule = lower, upper, rule
        self._settings: List[Tuple[int, ...]] = [(step, *older) for step in ladder]
        self._top = len(ladder) - 1
        self._step = 0
        self._highest = 0
        self._changes = 0
        self._reset = rule == "reset"
        self._any_generation = rule == "anygen"
        self._tolerant = rule == "tolerant"
        self._proportional = rule in ("proportional", "tolerant")

    def callback(self, phase: str, info: Dict[str, int]) -> None:
        """Step the first threshold after each collection (hot path: no tracked allocation)."""
        if phase == "start":
            return
        step = self._step
        collected = info["collected"]
        if collected and self._tolerant and collected << TOLERANCE_SHIFT < self._settings[step][0]:
            collected = 0  # under 1/64 of the young objects were garbage: count it as none
        if collected:
            if not step:
                return
            if self._reset:
                step = 0
            elif self._proportional:
                # down at least one step, and on below what survived of the young objects
                survivors = self._settings[step][0] - collected
                step -= 1
                while step and self._settings[step][0] > survivors:
                    step -= 1
            else:
                step -= 1
        elif step == self._top or (info["generation"] and not self._any_generation):
            return
        else:
            step += 1
            if step > self._highest:
                self._highest = step
        self._step = step
        self._changes += 1
        gc.set_threshold(*self._settings[step])

    def start(self) -> None:
        gc.set_threshold(*self._settings[0])

    def summary(self) -> Dict[str, Any]:
        """The thresholds it went through: start, end, highest, and how many changes."""
        return {
            "rule": self.rule,
            "lower": self.lower,
            "upper": self.upper,
            "start": self._settings[0][0],
            "end": self._settings[self._step][0],
            "max": self._settings[self._highest][0],
            "changes": self._changes,
        }


def check_bounds(lower: int, upper: int, rule: str = RULES[0]) -> None:
    """Raise ValueError (one line) unless 1 <= lower <= upper <= 2**31-1 and the rule is known."""
    for name, value in (("lower", lower), ("upper", upper)):
        if type(value) is not int or not 1 <= value <= MAX_THRESHOLD:
            raise ValueError(
                f"adaptive GC: {name} must be a whole number from 1 to {MAX_THRESHOLD}, "
                f"got {value!r}"
            )
    if lower > upper:
        raise ValueError(f"adaptive GC: lower ({lower}) is above upper ({upper})")
    if rule not in RULES:
        raise ValueError(f"adaptive GC: rule must be one of {', '.join(RULES)}, got {rule!r}")


def install(
    lower: Optional[int] = None, upper: int = DEFAULT_UPPER, rule: str = RULES[0]
) -> AdaptiveThreshold:
    """Start adapting the first threshold between ``lower`` (default: the current one) and
    ``upper``; the older generations' thresholds are kept. Returns the rule's state."""
    global _installed
    if _installed is not None:
        raise RuntimeError("adaptive GC is already installed: call remove() first")
    adaptive = AdaptiveThreshold(gc.get_threshold()[0] if lower is None else lower, upper, rule)
    adaptive.start()
    gc.callbacks.append(adaptive.callback)
    _installed = adaptive
    return adaptive


def remove() -> Optional[Dict[str, Any]]:
    """Stop adapting: restore the thresholds as they were before install; return the summary
    (None when it was not installed)."""
    global _installed
    adaptive, _installed = _installed, None
    if adaptive is None:
        return None
    gc.callbacks.remove(adaptive.callback)
    gc.set_threshold(*adaptive.saved_threshold)
    return adaptive.summary()


def installed() -> Optional[AdaptiveThreshold]:
    """The installed rule's state, or None."""
    return _installed
