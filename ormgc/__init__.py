"""Measure what CPython's cyclic GC does while ORMs load objects.

The public surface is small: ``measure`` measures your own workload under GC policies in fresh
processes, ``Probe`` measures a block, ``parse_policy`` names GC settings, ``gc_identity`` says
what the interpreter's GC is; ``ormgc.adaptive`` is an adaptive GC policy for your own
application (standard library only). Everything else is internal, arranged by
role in the order data flows:

- ``ormgc.worker``: runs inside the measured interpreter (probe, policies, one measurement);
- ``ormgc.runs``: drives runs and interpreters (fresh worker processes, venvs, the pyperf matrix);
- ``ormgc.views``: turns records into what the user reads: tables, cross-version comparisons,
  the report's charts, the advice and the published site (one subpackage each);
- ``ormgc.cli``: the ``ormgc`` command; ``ormgc.results``: result files, written atomically.
"""

from typing import Any, Dict, List, Optional, Sequence

from ormgc.errors import OrmGcError, UsageError
from ormgc.worker.policies import DEFAULT_SWEEP, Policy, parse_policy, prepare_heap
from ormgc.worker.probe import Probe, ProbeMismatch, gc_identity


def measure(
    workload: Any,
    policies: Optional[Sequence[Any]] = None,
    repeat: int = 1,
    python: Optional[str] = None,
    **options: Any,
) -> List[Dict[str, Any]]:
    """Measure a workload (``"file.py:name"``, ``"package.module:name"`` or a top-level function
    of a file) under each policy (default: the ``ormgc run`` sweep), ``repeat`` fresh processes
    each, on ``python`` (None: this one; ``"3.9"``: a managed venv); a list of records, one per
    policy. Options: ``freeze``, ``orm`` and ``db`` (a server for the workload), ``profile``."""
    from ormgc.runs.workloads import measure as measure_workload  # the worker never needs it

    return measure_workload(workload, policies, repeat, python, **options)


__all__ = [
    "DEFAULT_SWEEP",
    "OrmGcError",
    "Policy",
    "Probe",
    "ProbeMismatch",
    "UsageError",
    "gc_identity",
    "measure",
    "parse_policy",
    "prepare_heap",
]
