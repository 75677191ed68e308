"""The served shape: a real gunicorn serving a real app, under a real load, per GC policy.

One run: a fresh gunicorn (sync workers, ``preload_app``) under the measured interpreter, its
config written from the policy (``served_config``); a warm-up at the target rate that is not
counted; then the measured load (``loadgen``) while the workers' memory is sampled from /proc;
then a graceful stop, after which each worker has written what it saw (``ormgc.worker.served``).
``run_served`` interleaves the policies in rounds, each run a fresh server, and pairs them with
the baseline's (``ormgc.runs.paired``). Every process it starts is stopped on every way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from orm_fixtures import mask_password
from orm_fixtures.served_app import MIX
from ormgc.errors import OrmGcError, UsageError
from ormgc.runs import loadgen, served_figures
from ormgc.runs.envs import Interpreter
from ormgc.runs.served_config import ServedPolicy, config_file
from ormgc.worker.timeline import read_smaps_kb

READY_TIMEOUT_S = 120  # preloading: open the dataset, load the warm set
MEMORY_EVERY_S = 0.25


class ServedScenario(NamedTuple):
    orm: str
    db: str
    rows: int
    seed: int
    load: int  # the warm set the master keeps (the seed's query)
    per_request: int
    workers: int
    rate: float
    duration_s: float
    warmup_s: float
    clients: int = 1
    connections: int = 16
    port: Optional[int] = None  # None: a free port on 127.0.0.1


def free_port(asked: Optional[int]) -> int:
    """``asked`` if it can be bound on 127.0.0.1 (UsageError if in use), else a free one."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", asked or 0))
        except OSError as exc:
            raise UsageError(
                f"--port {asked}: cannot listen on 127.0.0.1 ({exc.strerror})"
            ) from None
        return probe.getsockname()[1]


def _server_db(db: str, folder: Path, rows: int, seed: int) -> str:
    """SQLite: a copy of the dataset file in the run's folder (the writes, though rolled back,
    never touch the cache); PostgreSQL as it is (its writes are rolled back)."""
    if not db.startswith("sqlite"):
        return db
    from orm_fixtures._sql_shared import sqlite_cache_path

    source = sqlite_cache_path(rows, seed) if db == "sqlite" else Path(db[len("sqlite:///") :])
    copy = folder / "dataset.sqlite3"
    shutil.copyfile(source, copy)
    return f"sqlite:///{copy}"


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (loopback)
        return json.loads(answer.read())


def _log_tail(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return mask_password((errors or lines or ["no output"])[-1].strip())[:300]


def _wait_ready(server: subprocess.Popen[Any], url: str, workers: int, log: Path) -> List[int]:
    """The workers' pids once each answers; OrmGcError naming the cause if the server dies."""
    import psutil

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise OrmGcError(f"gunicorn exited before serving: {_log_tail(log)}")
        children = psutil.Process(server.pid).children()
        if len(children) >= workers:
            with contextlib.suppress(OSError, ValueError):
                _get_json(url + "/_ormgc/worker")
                return [child.pid for child in children]
        time.sleep(0.2)
    raise OrmGcError(f"gunicorn did not answer within {READY_TIMEOUT_S} s: {_log_tail(log)}")


class _MemorySampler(threading.Thread):
    """PSS, USS and RSS of each worker every ``MEMORY_EVERY_S``, from /proc, until stopped."""

    def __init__(self, pids: List[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.samples = pids, []  # (monotonic ns, pid, pss, uss, rss) in kB
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            now = time.monotonic_ns()
            for pid in self.pids:
                with contextlib.suppress(OSError, ValueError):
                    pss, uss, _ = read_smaps_kb(pid)
                    with open(f"/proc/{pid}/statm") as statm:
                        rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
                    self.samples.append((now, pid, pss, uss, rss))
            self.done.wait(MEMORY_EVERY_S)


def run_once(interp: Interpreter, scenario: ServedScenario, served: ServedPolicy) -> Dict[str, Any]:
    """One policy, one fresh server: the record of its measured window."""
    folder = Path(tempfile.mkdtemp(prefix="ormgc-served-"))
    server = None
    try:
        port = free_port(scenario.port)
        url = f"http://127.0.0.1:{port}"
        conf = folder / "gunicorn.conf.py"
        conf.write_text(config_file(served, port, scenario.workers, str(folder)))
        spec = {
            "orm": scenario.orm,
            "db": _server_db(scenario.db, folder, scenario.rows, scenario.seed),
            "rows": scenario.rows,
            "seed": scenario.seed,
            "per_request": scenario.per_request,
            "load": scenario.load,
        }
        env = dict(interp.env, ORMGC_SERVED_SPEC=json.dumps(spec))
        log = folder / "gunicorn.log"
        with open(log, "wb") as log_file:
            server = subprocess.Popen(
                [interp.executable, "-m", "gunicorn", "-c", str(conf)]
                + ["ormgc.worker.served_wsgi:application"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,
                preexec_fn=loadgen.pdeathsig_term,
            )
        pids = _wait_ready(server, url, scenario.workers, log)
        live = _get_json(url + "/_ormgc/worker")  # a live worker's settings, read back
        warm = max(1, round(scenario.rate * scenario.warmup_s))
        load = loadgen.run_load  # the warm-up: the same load, not counted
        load(url, scenario.rate, warm, scenario.clients, scenario.connections, MIX, folder, "warm")
        sampler = _MemorySampler(pids)
        count = max(1, round(scenario.rate * scenario.duration_s))
        window_start = time.monotonic_ns()
        sampler.start()
        try:
            client = load(
                url,
                scenario.rate,
                count,
                scenario.clients,
                scenario.connections,
                MIX,
                folder,
                "run",
            )
        finally:
            sampler.done.set()
            sampler.join()
        window_end = time.monotonic_ns()
        loadgen.stop(server, grace_s=15.0)
        dumps = [json.loads(path.read_text()) for path in sorted(folder.glob("worker-*.json"))]
        if not dumps:
            raise OrmGcError(f"no gunicorn worker wrote its figures: {_log_tail(log)}")
        record = served_figures.record(
            scenario, served, client, count, dumps, sampler.samples, (window_start, window_end)
        )
        record["live_worker"] = live
        record["db"] = mask_password(scenario.db)
        return record
    finally:
        if server is not None:
            loadgen.stop(server, grace_s=15.0)
        shutil.rmtree(folder, ignore_errors=True)


Progress = Callable[[str], None]

# Figures folded across rounds (medians) and compared with the baseline's (paired ratios).
_MEDIANS = (
    "throughput_rps", "client_cpu_pct", "collections_total", "gc_ms", "gc_pause_max_ms",
    "gc_ms_in_requests",
    "gc_ms_per_request", "collections_per_request", "cpu_ms_per_request", "worker_pss_mb",
    "worker_uss_mb", "worker_rss_mb", "slow_with_gc_share", "requests_with_gc_share",
)  # fmt: skip
RATIOS = (("p99", "p99_vs_baseline"), ("throughput_rps", "throughput_vs_baseline"),
          ("worker_pss_mb", "pss_vs_baseline"))  # fmt: skip


def _round_figures(run: Dict[str, Any]) -> Dict[str, Any]:
    kept = {field: run[field] for field in _MEDIANS}
    kept.update(p99=run["latency_ms"]["p99"], latency_ms=run["latency_ms"])
    kept.update(errors_total=run["errors_total"], saturated=run["saturated"])
    kept.update(collections=run["collections"], load_average=run.get("load_average"))
    return kept


def fold(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One record from a policy's rounds: the first run's description, medians of the
    figures, every round kept (``runs``) for the paired ratios."""
    import statistics

    record = {key: value for key, value in runs[0].items() if key != "per_worker"}
    record["per_worker"] = runs[-1]["per_worker"]  # the last round's workers, timelines and all
    rounds = [_round_figures(run) for run in runs]
    for field in _MEDIANS:
        values = [value for value in (r[field] for r in rounds) if value is not None]
        record[field] = statistics.median(values) if values else None
    record["latency_ms"] = {
        key: statistics.median(r["latency_ms"][key] for r in rounds)
        for key in rounds[0]["latency_ms"]
    }
    record["errors_total"] = sum(r["errors_total"] for r in rounds)
    record["saturated_rounds"] = sum(
        1 for r in rounds if r["saturated"]["server"] or r["saturated"]["client"]
    )
    record["repeat"] = len(runs)
    record["runs"] = rounds
    return record


def attach_served_ratios(records: List[Dict[str, Any]], baseline: Optional[str]) -> None:
    """p99, throughput and worker PSS of each policy over the baseline's, paired by round."""
    from ormgc.views.stats import paired_ratio, versus

    base = next((record for record in records if record["policy"] == baseline), None)
    if base is None:
        return
    for record in records:
        for field, key in RATIOS:
            mine = [run[field] for run in record["runs"]]
            theirs = [run[field] for run in base["runs"]]
            if None in mine or None in theirs:
                continue
            record[key] = versus(baseline, *paired_ratio(mine, theirs))


def run_served(
    interp: Interpreter,
    scenario: ServedScenario,
    policies: List[ServedPolicy],
    rounds: int,
    baseline: Optional[str],
    progress: Progress,
) -> List[Dict[str, Any]]:
    """Every policy once per round, rotated, each run a fresh server; records with ratios."""
    from ormgc.runs.paired import interleaved_rounds
    from ormgc.runs.runner import Scenario, run_worker

    progress(
        f"preparing {scenario.orm} dataset on {mask_password(scenario.db)} ({scenario.rows} rows)"
    )
    prepare = Scenario(
        scenario.orm, scenario.db, "seed_loop", scenario.rows, scenario.load, scenario.seed
    )
    run_worker(interp, prepare.spec("prepare"))
    total, done = len(policies) * rounds, [0]
    started = time.monotonic()

    def measure(served: ServedPolicy) -> Dict[str, Any]:
        run = run_once(interp, scenario, served)
        run["load_average"] = os.getloadavg()[0]
        done[0] += 1
        eta = (time.monotonic() - started) / done[0] * (total - done[0])
        progress(
            f"[{done[0]}/{total}] {scenario.orm} served {served.name}: p99 "
            f"{run['latency_ms']['p99']:.1f} ms, {run['throughput_rps']:.0f}/s, "
            f"{run['collections_total']} collections (ETA {eta:.0f} s)"
        )
        return run

    runs = interleaved_rounds(policies, measure, rounds)
    records = [fold(runs[served]) for served in policies]
    attach_served_ratios(records, baseline)
    return records
