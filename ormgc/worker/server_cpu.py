"""Where the wall time goes: the database server's CPU time over the measured block (psutil).

Per measurement: the client's CPU (the probe's ``cpu_ms``), the server process's user+system CPU
over the same block (``server_cpu_ms``) and the rest of the wall time (``wait_ms``: neither
process on a CPU for this query: I/O, the network stack, the scheduler, other load). ``wait_ms``
is negative when client and server ran at once, e.g. the server preparing the next batch while
the client builds objects from the last one (two cores).

The server is the embedded MongoDB server (the parent started it and passes its pid in the spec)
or the PostgreSQL backend serving the worker's connection (``pg_backend_pid()``) when it runs on
this machine; SQLite runs inside the client, which ``server_cpu_source`` says instead of a 0.

The reads must not change the GC counts. psutil finds and checks the process before the heap is
prepared, but its ``cpu_times()`` cannot be the read around the block: just after the full
collection that emptied the interpreter's free lists it leaves 16 tracked objects behind on 3.11
(tests/test_server_cpu.py), which moves the next collection. On Linux the reads around the block
are therefore ``os.pread`` of ``/proc/PID/stat`` into bytes, which the GC does not track, parsed
after the block exactly as psutil parses that file; elsewhere psutil's own reads are used.
Linux counts a process's CPU time in clock ticks (10 ms): ``server_cpu_ms`` has that resolution.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Dict, Optional

_LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def cpu_seconds(read: Any) -> float:
    """User+system seconds from a raw /proc/PID/stat line, parsed as psutil parses it (fields
    14 and 15, in clock ticks, after the command name's closing parenthesis)."""
    if not isinstance(read, bytes):
        return float(read)
    fields = read[read.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """The server's CPU time read just before and just after the measured block."""

    def __init__(self, source: str, process: Any = None) -> None:
        self.source = source
        self._process = process  # a psutil.Process, or None: nothing to read
        self._stat_fd = -1  # Linux: /proc/PID/stat, read raw around the block
        self._before: Any = 0.0  # set now: the reads store into existing slots
        self._after: Any = 0.0
        self._failed = ""
        self.backend_pid: Optional[int] = None  # PostgreSQL: checked against the block's

    @classmethod
    def locate(cls, spec: Dict[str, Any], fixture: Any) -> ServerCpu:
        """Find the server of this measurement (before the heap is prepared)."""
        db = str(spec["db"])
        if spec["orm"] == "sqlalchemy" and db.startswith("sqlite"):
            return cls("in-process")  # no psutil import: SQLite runs nothing outside us
        pid = spec.get("server_pid")
        if spec["orm"] == "mongoengine" and not pid:
            return cls("unavailable: external MongoDB server (no process id known)")
        try:
            import psutil
        except ImportError:
            return cls("unavailable: psutil is not installed in this interpreter's environment")
        if spec["orm"] == "mongoengine":
            return cls._watch(psutil, pid, f"embedded-mongodb pid {pid}")
        host = fixture.engine.url.host or ""
        if host not in _LOCAL_HOSTS:
            return cls(f"unavailable: PostgreSQL runs on {host}, not on this machine")
        with fixture.engine.connect() as connection:  # the pooled connection the block reuses
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        watched = cls._watch(psutil, pid, f"postgresql backend pid {pid}")
        watched.backend_pid = pid
        return watched

    @classmethod
    def _watch(cls, psutil: Any, pid: int, source: str) -> ServerCpu:
        try:
            process = psutil.Process(pid)
            process.cpu_times()  # fails here, not around the block, if it cannot be read
        except psutil.Error as exc:
            return cls(f"unavailable: cannot read process {pid} ({type(exc).__name__})")
        watched = cls(source, process)
        with contextlib.suppress(OSError):  # not Linux: psutil's own reads
            watched._stat_fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        return watched

    def _read(self) -> Any:
        """The server's /proc stat line (bytes: not tracked by the GC), else psutil's seconds."""
        try:
            if self._stat_fd >= 0:
                return os.pread(self._stat_fd, 4096, 0)
            times = self._process.cpu_times()
            return times.user + times.system
        except Exception as exc:  # the server exited
            self._failed = f"unavailable: {type(exc).__name__} reading the server's CPU time"
            return 0.0

    def start(self) -> None:
        """Just before the block (after the policy is applied, before the probe starts)."""
        if self._process is not None:
            self._before = self._read()

    def stop(self) -> None:
        """Just after the block (after the probe stopped)."""
        if self._process is not None:
            self._after = self._read()
            if self._stat_fd >= 0:
                os.close(self._stat_fd)
                self._stat_fd = -1

    def check_backend(self, handle: Any) -> None:
        """PostgreSQL: the block's connection must be the backend measured (libpq knows its
        pid: no query); a different one makes the figure unavailable, not wrong."""
        expected = self.backend_pid
        if expected is None or self._process is None:
            return
        from sqlalchemy.orm import Session  # imported already, by the fixture

        try:
            connection = handle.connection() if isinstance(handle, Session) else handle
            actual = connection.connection.dbapi_connection.info.backend_pid
        except Exception as exc:
            self._failed = f"unavailable: cannot check the block's backend ({exc!r:.60})"
            return
        if actual != expected:
            self._failed = f"unavailable: the block ran on backend {actual}, not {expected}"

    def result(self, wall_ms: float, cpu_ms: float) -> Dict[str, Any]:
        """The record's keys: ``server_cpu_ms``, ``wait_ms`` and ``server_cpu_source``."""
        server_ms: Optional[float] = None
        wait_ms: Optional[float] = None
        source = self._failed or self.source
        if self._process is not None and not self._failed:
            server_ms = (cpu_seconds(self._after) - cpu_seconds(self._before)) * 1e3
            wait_ms = wall_ms - cpu_ms - server_ms
        elif source == "in-process":
            wait_ms = wall_ms - cpu_ms
        return {"server_cpu_ms": server_ms, "wait_ms": wait_ms, "server_cpu_source": source}
