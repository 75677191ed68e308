"""Measure what CPython's cyclic GC does while ORMs load objects.

The public surface is small: ``Probe`` measures a block, ``parse_policy`` names GC settings,
``gc_identity`` says what the interpreter's GC is; everything else is private.
"""

from ._errors import OrmGcError, UsageError
from ._policies import DEFAULT_SWEEP, Policy, parse_policy, prepare_heap
from ._probe import Probe, ProbeMismatch, gc_identity

__all__ = [
    "DEFAULT_SWEEP",
    "OrmGcError",
    "Policy",
    "Probe",
    "ProbeMismatch",
    "UsageError",
    "gc_identity",
    "parse_policy",
    "prepare_heap",
]
