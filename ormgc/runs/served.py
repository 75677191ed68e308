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
from ormgc.worker.served import INFO_PATH
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
                _get_json(url + INFO_PATH)
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
        live = _get_json(url + INFO_PATH)  # a live worker's settings, read back
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
    from ormgc.runs.runner import ProgressCounter, Scenario, run_worker

    progress(
        f"preparing {scenario.orm} dataset on {mask_password(scenario.db)} ({scenario.rows} rows)"
    )
    prepare = Scenario(
        scenario.orm, scenario.db, "seed_loop", scenario.rows, scenario.load, scenario.seed
    )
    run_worker(interp, prepare.spec("prepare"))
    counter = ProgressCounter(len(policies) * rounds, progress)

    def measure(served: ServedPolicy) -> Dict[str, Any]:
        run = run_once(interp, scenario, served)
        run["load_average"] = os.getloadavg()[0]
        counter.tick(
            f"{scenario.orm} served {served.name}: p99 {run['latency_ms']['p99']:.1f} ms, "
            f"{run['throughput_rps']:.0f}/s, {run['collections_total']} collections"
        )
        return run

    runs = interleaved_rounds(policies, measure, rounds)
    records = [served_figures.fold(runs[served]) for served in policies]
    served_figures.attach_ratios(records, baseline)
    return records
