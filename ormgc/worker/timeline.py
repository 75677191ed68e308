"""Memory over time: a sample every K requests of RSS, the GC's counts and its collections.

A single peak per run cannot show a backlog that grows request after request (the 3.14.0-3.14.4
incremental GC's memory reports came from long runs), so the request loop samples as it goes.
Sampling allocates as little as it can: numbers go into a preallocated ``array`` (untracked),
RSS is read with ``os.pread`` from a file opened before measuring and parsed from bytes slices
(untracked); only ``gc.get_count()``'s tuple is a tracked object, made and freed at once.
"""

from __future__ import annotations

import gc
import os
from array import array
from typing import Any, Dict, List, Optional, Tuple

DEFAULT_EVERY = 10  # requests between samples: 21 points for the default 200 requests
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_COUNTS = 3  # gc.get_count() entries kept (3 on every build so far; fewer are padded with -1)
# Per sample: request, RSS kB, counts, collections, candidates, PSS/USS/shared kB (or -1).
_WIDTH = 1 + 1 + _COUNTS + 2 + 3


def _kb_after(raw: bytes, label: bytes) -> int:
    """The number after ``label`` in /proc's ``Label:   123 kB`` text, without a list."""
    start = raw.find(label)
    if start < 0:
        return -1
    start += len(label)
    end = raw.find(b" kB", start)
    return int(raw[start:end])


def smaps_kb(raw: bytes) -> Tuple[int, int, int]:
    """PSS, USS (private clean + dirty) and shared (clean + dirty) of smaps_rollup, in kB."""
    private = _kb_after(raw, b"\nPrivate_Clean:") + _kb_after(raw, b"\nPrivate_Dirty:")
    shared = _kb_after(raw, b"\nShared_Clean:") + _kb_after(raw, b"\nShared_Dirty:")
    return _kb_after(raw, b"\nPss:"), private, shared


def read_smaps_kb(pid: Any = "self") -> Tuple[int, int, int]:
    """PSS, USS and shared memory of process ``pid`` now, in kB."""
    with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
        return smaps_kb(rollup.read())


class Timeline:
    """Samples for one request loop; ``sample(request)`` is what ``RequestLoop`` calls."""

    def __init__(self, requests: int, every: int = DEFAULT_EVERY, shared: bool = False) -> None:
        self.every = max(1, every)
        self._data = array("q", bytes(8 * _WIDTH * (requests // self.every + 2)))
        self._used = 0
        self._probe: Optional[Any] = None
        self._statm = os.open("/proc/self/statm", os.O_RDONLY)
        # smaps_rollup walks every mapping: read only where per-worker shared memory matters.
        self._smaps = os.open("/proc/self/smaps_rollup", os.O_RDONLY) if shared else -1
        self.shared = shared

    def attach(self, probe: Any) -> None:
        """The probe whose collections (and 3.15's candidates) the samples count."""
        self._probe = probe

    def wanted(self, request: int) -> bool:
        return request % self.every == 0

    def sample(self, request: int) -> None:
        if self._used + _WIDTH > len(self._data):
            return  # more samples than sized for: keep the first ones
        raw = os.pread(self._statm, 128, 0)
        first = raw.index(b" ")
        rss_kb = int(raw[first + 1 : raw.index(b" ", first + 1)]) * _PAGE_KB
        at, data = self._used, self._data
        data[at], data[at + 1] = request, rss_kb
        counts = gc.get_count()
        for index in range(_COUNTS):
            data[at + 2 + index] = counts[index] if index < len(counts) else -1
        del counts
        probe = self._probe
        data[at + 2 + _COUNTS] = len(probe.starts_ns) if probe is not None else 0
        data[at + 3 + _COUNTS] = probe.candidates if probe is not None else 0
        if self._smaps >= 0:
            pss, uss, shared = smaps_kb(os.pread(self._smaps, 4096, 0))  # a tuple, freed
            base = at + 4 + _COUNTS
            data[base], data[base + 1], data[base + 2] = pss, uss, shared
        self._used += _WIDTH

    def close(self) -> None:
        for fd in (self._statm, self._smaps):
            if fd >= 0:
                os.close(fd)
        self._statm = self._smaps = -1

    def records(self) -> List[Dict[str, Any]]:
        """The samples as ``rss_timeline`` entries (MB); ``candidates`` only where the GC
        reports them (3.15), PSS/USS/shared only where asked for."""
        with_candidates = self._probe is not None and self._probe.has_candidates
        samples = []
        for at in range(0, self._used, _WIDTH):
            row = self._data[at : at + _WIDTH]
            sample: Dict[str, Any] = {
                "request": row[0],
                "rss_mb": row[1] / 1024,
                "gc_count": [count for count in row[2 : 2 + _COUNTS] if count >= 0],
                "collections": row[2 + _COUNTS],
            }
            if with_candidates:
                sample["candidates"] = row[3 + _COUNTS]
            if self.shared:
                sample.update(
                    pss_mb=row[4 + _COUNTS] / 1024,
                    uss_mb=row[5 + _COUNTS] / 1024,
                    shared_mb=row[6 + _COUNTS] / 1024,
                )
            samples.append(sample)
        return samples
