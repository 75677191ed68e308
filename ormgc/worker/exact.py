"""Inside the measured interpreter: mark the measured block for callgrind (``ormgc run --exact``).

The marks are callgrind client requests issued from a tiny C library (``ormgc.runs.valgrind``
compiles it and names it in ``$ORMGC_EXACT_LIB``): zero the counters and switch collection on at
the start, switch it off and dump the block's costs at the end. Natively they are no-ops, and
without ``$ORMGC_EXACT_LIB`` the marker does nothing at all, so ``ormgc run`` is unchanged.
The probe (``ormgc.worker.probe``) sets the marks as the last step of entering its block and
the first of leaving it, so the instructions counted are those of the block it times. The library
is loaded when this module is imported (the worker imports the probe first), long before the
heap is prepared (``gc.freeze``); the marks and the probe's edges cost a fixed ~2,000
instructions per block (``python -m ormgc.worker.exact`` under callgrind measures them).
"""

from __future__ import annotations

import os
from typing import Any, Optional

LIB_ENV = "ORMGC_EXACT_LIB"
DUMP_NAME = "ormgc-block"  # the dump's description (CALLGRIND_DUMP_STATS_AT's argument)

# Compiled by ormgc.runs.valgrind; callgrind.h is Debian's valgrind package's (any valgrind
# >= 3.x). Client requests are magic no-op instruction sequences outside valgrind.
C_SOURCE = r"""
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

int ormgc_running_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }

void ormgc_block_start(void) {
    CALLGRIND_ZERO_STATS;            /* drop anything counted so far */
    CALLGRIND_START_INSTRUMENTATION; /* --instr-atstart=no: imports ran uninstrumented */
    CALLGRIND_TOGGLE_COLLECT;        /* --collect-atstart=no: collection is now on */
}

void ormgc_block_stop(void) {
    CALLGRIND_TOGGLE_COLLECT;               /* off again */
    CALLGRIND_DUMP_STATS_AT("ormgc-block"); /* the block's costs: <out-file>.1 */
}
"""


class BlockMarker:
    """Context manager around the measured block; a no-op unless ``$ORMGC_EXACT_LIB`` is set."""

    def __init__(self, lib_path: Optional[str] = None) -> None:
        lib_path = lib_path if lib_path is not None else os.environ.get(LIB_ENV)
        self._start: Any = None
        self._stop: Any = None
        if lib_path:
            import ctypes  # only in --exact mode

            lib = ctypes.CDLL(lib_path)
            self._start, self._stop = lib.ormgc_block_start, lib.ormgc_block_stop
            for function in (self._start, self._stop):
                function.argtypes, function.restype = [], None
            if not lib.ormgc_running_on_valgrind():
                raise RuntimeError(f"${LIB_ENV} is set but this process is not under valgrind")

    @property
    def active(self) -> bool:
        """Marks are set: the probe leaves out what would make the counts vary (/proc reads)."""
        return self._start is not None

    def start(self) -> None:
        if self._start is not None:
            self._start()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


MARKER = BlockMarker()  # at import: see the module's docstring


if __name__ == "__main__":  # under callgrind: what an empty probed block counts (the overhead)
    from ormgc.worker.probe import Probe

    with Probe():
        pass
