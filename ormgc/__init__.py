"""Measure what CPython's cyclic GC does while ORMs load objects.

The public surface is small: ``Probe`` measures a block, ``parse_policy`` names GC settings,
``gc_identity`` says what the interpreter's GC is. Everything else is internal, arranged by
role in the order data flows:

- ``ormgc.worker``: runs inside the measured interpreter (probe, policies, one measurement);
- ``ormgc.runs``: drives runs and interpreters (fresh worker processes, venvs, the pyperf matrix);
- ``ormgc.views``: turns records into tables and cross-version comparisons;
- ``ormgc.cli``: the ``ormgc`` command; ``ormgc.results``: result files, written atomically.
"""

from ormgc.errors import OrmGcError, UsageError
from ormgc.worker.policies import DEFAULT_SWEEP, Policy, parse_policy, prepare_heap
from ormgc.worker.probe import Probe, ProbeMismatch, gc_identity

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
