"""The served shape's load generator: wrk at a fixed rate, latencies from the due times.

Why wrk: it is C with an event loop (a few percent of one core at these rates, where a Python
client such as Locust would take a large share of the 2 cores the server also needs), it is a
Debian package here, and its Lua hooks let ``served_wrk.lua`` do what wrk2 does (not packaged):
send request k at start + k/rate and measure its latency from that due time, so a worker stalled
by a collection delays the requests queued behind it and is seen, not hidden (coordinated
omission). Several wrk processes can share one schedule (``clients``): each takes every
``clients``-th request, and ``merge`` puts their answers together.

Every wrk process runs on loopback only, bounded by a request count and a duration, in its own
process group, and is killed on every way out (``stop``).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Sequence

from ormgc.errors import OrmGcError, UsageError

LUA_SCRIPT = Path(__file__).with_name("served_wrk.lua")
GRACE_S = 10  # after the last due time: answers still in flight (wrk's socket timeout)
SOCKET_TIMEOUT = "10s"
_ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


class Answer(NamedTuple):
    """One answered request, times in microseconds on CLOCK_MONOTONIC."""

    slot: int
    due_us: int
    sent_us: int
    done_us: int
    status: int
    gc_us: int  # the collector's time inside the request, as the worker measured it
    gc_n: int
    pid: int

    @property
    def latency_us(self) -> int:
        """From the due time (or the send, if wrk sent it early): what a user waited."""
        return self.done_us - min(self.due_us, self.sent_us)


class ClientRun(NamedTuple):
    answers: List[Answer]
    unmatched: int  # answers without a slot (an error page that did not come from the app)
    errors: Dict[str, int]  # wrk's own counts: connect, read, write, status (>= 400), timeout
    cpu_s: float  # the load generator's own CPU time (user + system)


def find_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise UsageError("the served shape needs wrk on PATH: apt-get install wrk (Debian)")
    return found


def parse_output(text: str, cpu_s: float = 0.0) -> ClientRun:
    """``served_wrk.lua``'s output file: a ``# errors`` line, then one line per answer."""
    answers, unmatched, errors = [], 0, dict.fromkeys(_ERROR_KINDS, 0)
    for line in text.splitlines():
        if line.startswith("# errors"):
            for word in line.split()[2:]:
                kind, _, count = word.partition("=")
                errors[kind] = int(count)
            continue
        fields = line.split()
        if len(fields) != 8:
            raise ValueError(f"not a served_wrk.lua line: {line[:80]!r}")
        if fields[0] == "-":
            unmatched += 1
            continue
        numbers = [int(field) if field != "-" else -1 for field in fields]
        answers.append(Answer(*numbers))
    return ClientRun(answers, unmatched, errors, cpu_s)


def merge(runs: Sequence[ClientRun]) -> ClientRun:
    """Several clients' runs as one: answers in slot order, counts and CPU time added."""
    errors = {kind: sum(run.errors.get(kind, 0) for run in runs) for kind in _ERROR_KINDS}
    answers = sorted((answer for run in runs for answer in run.answers), key=lambda a: a.slot)
    return ClientRun(
        answers, sum(run.unmatched for run in runs), errors, sum(run.cpu_s for run in runs)
    )


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (no interpolation: a value that was seen)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _die_with_parent(signum: int) -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG


def pdeathsig_kill() -> None:
    """In a child before exec: killed when the driver dies, however it dies (Linux)."""
    _die_with_parent(signal.SIGKILL)


def pdeathsig_term() -> None:
    """As ``pdeathsig_kill`` with SIGTERM: a gunicorn master then stops its workers itself."""
    _die_with_parent(signal.SIGTERM)


def stop(process: subprocess.Popen[Any], grace_s: float = 5.0) -> None:
    """End ``process`` (SIGTERM: a gunicorn master then stops its workers gracefully), then
    SIGKILL whatever is left of its process group after ``grace_s``; reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group, if any
    process.wait()


def _wait_answered(process: subprocess.Popen[Any], out: Path) -> Any:
    """wait4 for a wrk process, ending it (SIGINT: it reports, then exits) as soon as its Lua
    says every answer is in, instead of letting it sleep out its whole -d."""
    marker = out.with_name(out.name + ".done")
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if marker.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
            return os.wait4(process.pid, 0)
        time.sleep(0.05)


def run_load(
    url: str,
    rate: float,
    count: int,
    clients: int,
    connections: int,
    mix: Sequence[str],
    folder: Path,
    label: str,
) -> ClientRun:
    """``count`` requests at ``rate`` per second against ``url`` (loopback) from ``clients`` wrk
    processes sharing one schedule; their answers merged. OrmGcError (one line) if wrk fails."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
        raise UsageError(f"the load generator sends to loopback only, not {url}")
    wrk = find_wrk()
    start_us = time.monotonic_ns() // 1000 + 300_000  # every client up before the first due
    duration_s = math.ceil(count / rate + 0.3 + GRACE_S)
    per_connection = max(1, connections // clients)
    processes = []
    try:
        for index in range(clients):
            share = len(range(index, count, clients))
            out = folder / f"{label}-client{index}.txt"
            env = dict(os.environ, ORMGC_WRK_OUT=str(out))
            command = [
                wrk, "-t1", f"-c{per_connection}", f"-d{duration_s}s", "--timeout",
                SOCKET_TIMEOUT, "-s", str(LUA_SCRIPT), url, "--",
                repr(float(rate)), str(share), str(clients), str(index), str(start_us),
                ",".join(mix),
            ]  # fmt: skip
            processes.append(
                (
                    subprocess.Popen(
                        command,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        start_new_session=True,
                        preexec_fn=pdeathsig_kill,
                    ),
                    out,
                )
            )
        runs = []
        for process, out in processes:
            _, status, usage = _wait_answered(process, out)
            process.returncode = os.waitstatus_to_exitcode(status)
            stderr = (
                process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
            )
            if process.returncode != 0 or not out.exists():
                last = (stderr.splitlines() or [f"exit code {process.returncode}"])[-1]
                raise OrmGcError(f"the load generator (wrk) failed: {last}")
            runs.append(parse_output(out.read_text(), usage.ru_utime + usage.ru_stime))
        return merge(runs)
    finally:
        for process, _ in processes:
            stop(process, grace_s=1.0)
            if process.stderr:
                process.stderr.close()


def latency_figures(run: ClientRun, requested: int, rate: float) -> Dict[str, Any]:
    """What one measured run of the load says: throughput, latency percentiles from the due
    times, errors, the client's own CPU, and whether the server or the client saturated."""
    answers = run.answers
    ok = [a for a in answers if a.status < 400]
    latencies = sorted(a.latency_us / 1000 for a in answers)
    first_due = min((a.due_us for a in answers), default=0)
    last_done = max((a.done_us for a in answers), default=first_due)
    window_s = max((last_done - first_due) / 1e6, 1e-9)
    p99 = percentile(latencies, 0.99)
    slow = [a for a in answers if a.latency_us / 1000 > p99]
    late = sum(1 for a in answers if a.sent_us - a.due_us > 10_000)
    third = len(answers) // 3
    early_median = percentile(sorted(a.latency_us for a in answers[:third]), 0.5)
    late_median = percentile(sorted(a.latency_us for a in answers[-third:]), 0.5) if third else 0
    client_cpu = run.cpu_s / window_s * 100
    reasons = []
    achieved = len(answers) / window_s
    if len(answers) < requested:
        reasons.append(f"{requested - len(answers)} of {requested} requests unanswered")
    if achieved < 0.95 * rate:
        reasons.append(f"answered {achieved:.0f}/s of {rate:g}/s asked")
    if third and late_median > 2 * early_median and late_median > 20_000:
        reasons.append("latency grew through the run (queueing)")
    if late > 0.05 * max(1, len(answers)):
        reasons.append(f"{late} requests sent over 10 ms late (all connections busy)")
    errors = dict(run.errors, unmatched=run.unmatched)
    return {
        "target_rps": rate,
        "requests": len(answers),
        "throughput_rps": len(ok) / window_s,
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p90": percentile(latencies, 0.90),
            "p99": p99,
            "p99.9": percentile(latencies, 0.999),
            "max": latencies[-1] if latencies else math.nan,
        },
        "service_ms_p99": percentile(sorted((a.done_us - a.sent_us) / 1000 for a in answers), 0.99),
        "errors": errors,
        "errors_total": sum(errors.values()) - errors["status"] + (len(answers) - len(ok)),
        "client_cpu_pct": client_cpu,
        "slow_with_gc_share": (sum(1 for a in slow if a.gc_n > 0) / len(slow)) if slow else 0.0,
        "requests_with_gc_share": sum(1 for a in answers if a.gc_n > 0) / max(1, len(answers)),
        "saturated": {
            "server": bool(reasons),
            "client": client_cpu > 80,  # wrk runs one thread per client: near a core's worth
            "why": reasons + ([f"wrk used {client_cpu:.0f}% of a core"] if client_cpu > 80 else []),
        },
        "window_s": window_s,
    }
