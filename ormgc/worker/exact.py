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

With ``$ORMGC_EXACT_SPLIT`` set (the collector counted without its symbol, ``ormgc.runs.
exact_callbacks``), the block starts with collection off and two ``gc.callbacks`` hooks switch it
on at each collection's "start" (the last callback called) and off at its "stop" (the first), so
the dump holds only what ran between them: the collector, plus a fixed slice of the callbacks'
own calls, which ``python -m ormgc.worker.exact callbacks`` measures so that it can be subtracted.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

LIB_ENV = "ORMGC_EXACT_LIB"
SPLIT_ENV = "ORMGC_EXACT_SPLIT"  # set: count only the collections (see the docstring)
DUMP_NAME = "ormgc-block"  # the dump's description (CALLGRIND_DUMP_STATS_AT's argument)
CALIBRATION_PAIRS = 1000  # start/stop hook pairs called by hand to measure their slice

# Compiled by ormgc.runs.valgrind; callgrind.h is Debian's valgrind package's (any valgrind
# >= 3.x). Client requests are magic no-op instruction sequences outside valgrind.
C_SOURCE = r"""
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>
#include <stddef.h>
#include <sys/types.h>

static int in_block, in_gc;

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

/* $ORMGC_EXACT_SPLIT: collection stays off in the block except inside collections. */
void ormgc_split_start(void) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
    in_block = 1;
}

void ormgc_split_stop(void) {
    if (in_gc) { in_gc = 0; CALLGRIND_TOGGLE_COLLECT; }
    in_block = 0;
    CALLGRIND_DUMP_STATS_AT("ormgc-block");
}

void ormgc_gc_start(void) {  /* a collection outside the block is not counted */
    if (in_block && !in_gc) { in_gc = 1; CALLGRIND_TOGGLE_COLLECT; }
}

void ormgc_gc_stop(void) {
    if (in_gc) { in_gc = 0; CALLGRIND_TOGGLE_COLLECT; }
}

/* The hooks called as CPython's invoke_gc_callback calls them (a fresh phase string and info
   dict per phase, the hook vectorcalled, both released), with no collection in between: what
   the hooks add to each collection's count. The interpreter's own exported C API, declared
   here so that no Python.h is needed; called through ctypes.PyDLL (the GIL held). */
typedef struct _object PyObject;
typedef ssize_t Py_ssize_t;
extern PyObject *Py_BuildValue(const char *, ...);
extern PyObject *PyUnicode_FromString(const char *);
extern PyObject *PyObject_CallFunction(PyObject *, const char *, ...);
/* weak: 3.9/3.10 do not export it (their invoke_gc_callback uses PyObject_CallFunction) */
extern PyObject *PyObject_Vectorcall(PyObject *, PyObject *const *, size_t, PyObject *)
    __attribute__((weak));
extern void Py_DecRef(PyObject *);

static PyObject *info_dict(int n, const char **k) {
    if (n == 5)  /* 3.15+: candidates and duration */
        return Py_BuildValue("{sisnsnsnsd}", k[0], 0, k[1], (Py_ssize_t)0, k[2], (Py_ssize_t)0,
                             k[3], (Py_ssize_t)0, k[4], 0.0);
    return Py_BuildValue("{sisnsn}", k[0], 0, k[1], (Py_ssize_t)0, k[2], (Py_ssize_t)0);
}

static void call(PyObject *hook, const char *phase, int n, const char **k, int vectorcall) {
    PyObject *info = info_dict(n, k), *done;
    if (vectorcall) {  /* 3.12+: one phase string, the hooks vectorcalled */
        PyObject *name = PyUnicode_FromString(phase);
        PyObject *stack[2] = {name, info};
        done = PyObject_Vectorcall(hook, stack, 2, NULL);
        Py_DecRef(name);
    } else {
        done = PyObject_CallFunction(hook, "sO", phase, info);
    }
    if (done) Py_DecRef(done);
    Py_DecRef(info);
}

int ormgc_calibrate(int pairs, PyObject *on, PyObject *off, int n, const char **keys,
                    int vectorcall) {
    if ((n != 3 && n != 5) || (vectorcall && !PyObject_Vectorcall)) return -1;
    ormgc_split_start();
    for (int i = 0; i < pairs; i++) {
        call(on, "start", n, keys, vectorcall);
        call(off, "stop", n, keys, vectorcall);
    }
    ormgc_split_stop();
    return 0;
}
"""

Hook = Callable[[str, Dict[str, Any]], None]


def _function(lib: Any, name: str) -> Any:
    function = getattr(lib, name)
    function.argtypes, function.restype = [], None
    return function


class BlockMarker:
    """Context manager around the measured block; a no-op unless ``$ORMGC_EXACT_LIB`` is set."""

    def __init__(self, lib_path: Optional[str] = None, split: Optional[bool] = None) -> None:
        lib_path = lib_path if lib_path is not None else os.environ.get(LIB_ENV)
        split = split if split is not None else bool(os.environ.get(SPLIT_ENV))
        self._start: Any = None
        self._stop: Any = None
        self.hooks: Optional[Tuple[Hook, Hook]] = None  # split: (on "start", on "stop")
        if lib_path:
            import ctypes  # only in --exact mode

            lib = ctypes.CDLL(lib_path)
            if not lib.ormgc_running_on_valgrind():
                raise RuntimeError(f"${LIB_ENV} is set but this process is not under valgrind")
            prefix = "ormgc_split" if split else "ormgc_block"
            self._start = _function(lib, prefix + "_start")
            self._stop = _function(lib, prefix + "_stop")
            if split:
                on, off = (_function(lib, f"ormgc_gc_{edge}") for edge in ("start", "stop"))
                self.hooks = _hooks(on, off)

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

    def hook(self) -> None:
        """Split mode: the "start" hook called last, the "stop" hook first, of all callbacks."""
        if self.hooks is not None:
            gc.callbacks.append(self.hooks[0])
            gc.callbacks.insert(0, self.hooks[1])

    def unhook(self) -> None:
        if self.hooks is not None:
            for hook in self.hooks:
                gc.callbacks.remove(hook)


def _hooks(on: Any, off: Any) -> Tuple[Hook, Hook]:
    """Two plain functions: each is called at both phases and acts on one."""

    def counting_on(phase: str, info: Dict[str, Any]) -> None:
        if phase == "start":
            on()

    def counting_off(phase: str, info: Dict[str, Any]) -> None:
        if phase == "stop":
            off()

    return counting_on, counting_off


MARKER = BlockMarker()  # at import: see the module's docstring


def callbacks_slice(pairs: int = CALIBRATION_PAIRS) -> None:
    """Under callgrind in split mode: call the hooks as a collection would (from C, through
    the interpreter's own C API), ``pairs`` times with nothing between them: the dump is what
    the hooks add to ``pairs`` collections."""
    import ctypes

    assert MARKER.hooks is not None, f"needs ${SPLIT_ENV}"
    seen: List[str] = []

    def keep(phase: str, info: Dict[str, Any]) -> None:
        seen[:] = list(info)

    gc.callbacks.append(keep)
    gc.collect(0)
    gc.callbacks.remove(keep)
    lib = ctypes.PyDLL(os.environ[LIB_ENV])
    keys = (ctypes.c_char_p * len(seen))(*(key.encode() for key in seen))
    lib.ormgc_calibrate.argtypes = [ctypes.c_int, ctypes.py_object, ctypes.py_object]
    lib.ormgc_calibrate.argtypes += [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
    vectorcall = sys.version_info >= (3, 12)  # how invoke_gc_callback calls the callbacks
    if lib.ormgc_calibrate(pairs, *MARKER.hooks, len(seen), keys, vectorcall) != 0:
        raise SystemExit(f"gc.callbacks' info has {len(seen)} keys: {seen}, not 3 or 5")


if __name__ == "__main__":  # under callgrind: the overhead of an empty block, or the hooks'
    if sys.argv[1:] == ["callbacks"]:
        callbacks_slice()
    else:
        from ormgc.worker.probe import Probe

        with Probe():
            pass
