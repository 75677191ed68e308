"""The served shape: a real gunicorn, a real app per ORM, wrk at a fixed rate (loopback only).

Small on purpose (2,000 rows, 2-second runs): what is checked is that every figure is there and
means what it says, that the policy reaches the workers, and that no process outlives a run,
however it ends. The sweeps whose figures are quoted run from scripts/served_results.sh.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import psutil
import pytest

from ormgc.errors import OrmGcError
from ormgc.runs import loadgen
from ormgc.runs.envs import interpreter
from ormgc.runs.served import ServedScenario, run_once
from ormgc.runs.served_config import config_file, parse_served_policy, user_block

from .conftest import ROOT, SMALL_ROWS

pytestmark = pytest.mark.skipif(
    loadgen.shutil.which("wrk") is None, reason="wrk: ./dev test installs it"
)
QUICK = ["--rows", str(SMALL_ROWS), "--load", "500", "--per-request", "20", "--rate", "40",
         "--duration", "2", "--warmup", "0.5"]  # fmt: skip
MARKERS = ("ormgc.worker.served_wsgi", "served_wrk.lua", "ormgc-served")


def _ours(folder: Path) -> List[psutil.Process]:
    """Every gunicorn master or worker and every wrk that a run with TMPDIR=``folder`` started
    (its gunicorn config lies there; wrk inherits the variable): other runs on the machine,
    such as a results sweep, are not this test's."""
    found = []
    for process in psutil.process_iter(["cmdline", "name"]):
        text = " ".join(process.info["cmdline"] or []) + " " + (process.info["name"] or "")
        if not any(marker in text for marker in MARKERS) or process.pid == os.getpid():
            continue
        try:
            mine = str(folder) in text or process.environ().get("TMPDIR") == str(folder)
        except psutil.Error:
            continue
        if mine:
            found.append(process)
    return found


def _none_left(folder: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _ours(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p.info["cmdline"] for p in _ours(folder)], "served processes left running"


def _ormgc(folder: Path, *args: str, command: str = "run") -> subprocess.CompletedProcess:
    """``ormgc run --shape served ARGS`` (or ``advise``) with its temporary files in ``folder``."""
    shape = ["--shape", "served"] if "--shape" not in args else []
    return subprocess.run(
        [sys.executable, "-m", "ormgc", command, *shape, *args],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, TMPDIR=str(folder)),
    )  # fmt: skip


def test_django_two_policies_every_figure(use_shared_cache: Path, tmp_path: Path) -> None:
    """The issue's command, small: records with every figure, the policy as the workers ran it."""
    out = tmp_path / "served.json"
    policies = ["--policy", "default", "--policy", "threshold:50000"]
    done = _ormgc(
        tmp_path,
        "--orm",
        "django",
        "--workers",
        "2",
        *policies,
        "--clients",
        "2",
        "--json",
        str(out),
        *QUICK,
    )
    assert done.returncode == 0, done.stderr
    records = {record["policy"]: record for record in json.loads(out.read_text())}
    assert set(records) == {"default", "threshold:50000"}
    for name, record in records.items():
        assert record["requests"] == 80 and record["errors_total"] == 0, record["errors"]
        assert 0 < record["latency_ms"]["p50"] <= record["latency_ms"]["p99"]
        assert (
            record["latency_ms"]["p99"]
            <= record["latency_ms"]["p99.9"]
            <= record["latency_ms"]["max"]
        )
        assert 20 < record["throughput_rps"] < 60  # 40/s asked; two clients' answers merged
        assert len(record["per_worker"]) == 2
        for worker in record["per_worker"]:
            first = 50000 if name == "threshold:50000" else worker["thresholds"][0]
            assert worker["thresholds"][0] == first and worker["enabled"]
            assert worker["frozen_objects"] == 0  # no freeze+ in either policy
            assert worker["pss_mb"] > 5 and worker["uss_mb"] > 1 and worker["timeline"]
            assert worker["requests"] > 0 and worker["cpu_ms_per_request"] > 0
        assert sum(w["requests"] for w in record["per_worker"]) == record["requests"]
        assert record["live_worker"]["thresholds"][0] == record["per_worker"][0]["thresholds"][0]
    default, high = records["default"], records["threshold:50000"]
    # Collections are counted, not timed: 700 -> 50,000 must leave far fewer in the window.
    assert default["collections_total"] > 20 * max(1, high["collections_total"])
    assert default["gc_ms_in_requests"] <= default["gc_ms"] + 1e-6
    assert high["p99_vs_baseline"]["baseline"] == "default"
    assert "threshold:50000 vs default: p99" in done.stdout
    _none_left(tmp_path)


_TRIVIAL_APP = (
    "import gc, json, os\n"
    "CACHE = [{'row': i} for i in range(5000)]  # what --preload keeps in the master\n"
    "def application(environ, start_response):\n"
    "    body = json.dumps([os.getpid(), gc.get_threshold(), gc.isenabled(),\n"
    "                       gc.get_freeze_count()]).encode()\n"
    "    start_response('200 OK', [('Content-Type', 'application/json')])\n"
    "    return [body]\n"
)


def _live_workers(block: str, folder: Path) -> Dict[int, Any]:
    """Run ``block`` as a user's gunicorn.conf.py (2 workers, preload) over a small app; what
    each live worker answers: (thresholds, enabled, frozen objects) by pid."""
    (folder / "app.py").write_text(_TRIVIAL_APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = folder / "gunicorn.conf.py"
    conf.write_text(block + f"\nbind = '127.0.0.1:{port}'\nworkers = 2\npreload_app = True\n")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(conf), "--chdir", str(folder)]
        + ["app:application"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        answers: Dict[int, Any] = {}
        deadline = time.monotonic() + 30
        while len(answers) < 2 and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                    conn.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                    reply = b"".join(iter(lambda: conn.recv(65536), b""))
                pid, thresholds, enabled, frozen = json.loads(reply.split(b"\r\n\r\n", 1)[1])
                answers[pid] = (thresholds, enabled, frozen)
            except (OSError, ValueError):
                time.sleep(0.2)
        return answers
    finally:
        loadgen.stop(server)


def test_freeze_block_reaches_live_workers(tmp_path: Path) -> None:
    """The block ormgc prints for freeze+threshold:50000,20,30, run as a user would paste it
    into gunicorn.conf.py: each live worker answers the thresholds and the frozen objects."""
    answers = _live_workers(
        user_block(parse_served_policy("freeze+threshold:50000,20,30")), tmp_path
    )
    assert len(answers) == 2, "both workers answer"
    for thresholds, enabled, frozen in answers.values():
        assert thresholds == [50000, 20, 30] and enabled
        assert frozen >= 5000  # the preloaded cache was frozen in the master


def test_advise_block_is_what_the_workers_get(use_shared_cache: Path, tmp_path: Path) -> None:
    """ormgc advise --shape served: the advice's gunicorn block, run under a real gunicorn,
    gives every worker the recommended setting (whichever the sweep picked)."""
    out = tmp_path / "advice.json"
    done = _ormgc(tmp_path, "--shape", "served", "--orm", "sqlalchemy", "--policy",
                  "threshold:50000,20,30", "--repeat", "2", "--json", str(out), *QUICK,
                  command="advise")  # fmt: skip
    assert done.returncode == 0, done.stderr
    advice = json.loads(out.read_text())["advice"]
    assert advice["recommended"] in ("default", "threshold:50000,20,30")
    assert advice["gunicorn_conf"] in done.stdout
    answers = _live_workers(advice["gunicorn_conf"], tmp_path)
    assert len(answers) == 2
    expected = [50000, 20, 30] if advice["recommended"] != "default" else None
    for thresholds, enabled, frozen in answers.values():
        assert enabled and frozen == 0
        assert thresholds == (expected or thresholds) and (expected or thresholds[0] in (700, 2000))
    _none_left(tmp_path)


def test_config_runs_policy_then_measuring_hooks() -> None:
    served = parse_served_policy("freeze+adaptive")
    text = config_file(served, 8000, 2, "/tmp/x")
    compile(text, "gunicorn.conf.py", "exec")  # valid Python
    assert 'bind = "127.0.0.1:8000"' in text and "preload_app = True" in text
    assert text.index("adaptive.install(") < text.index("_served.worker_started")
    assert "gc.freeze()" in text and "gc.enable()" in text
    with pytest.raises(Exception, match="freeze\\+disabled"):
        parse_served_policy("freeze+disabled")


def test_merge_of_two_clients_equals_one_schedule() -> None:
    """Two clients' files merged: the answers of one schedule, counts and CPU added."""
    first = "# errors connect=0 read=1 write=0 status=0 timeout=0\n" + "".join(
        f"{slot} {slot * 1000} {slot * 1000} {slot * 1000 + 5000 + slot} 200 0 0 7\n"
        for slot in range(0, 10, 2)
    )
    second = "# errors connect=2 read=0 write=0 status=0 timeout=1\n" + "".join(
        f"{slot} {slot * 1000} {slot * 1000} {slot * 1000 + 5000 + slot} 200 0 0 8\n"
        for slot in range(1, 10, 2)
    )
    merged = loadgen.merge([loadgen.parse_output(first, 0.5), loadgen.parse_output(second, 0.25)])
    assert [answer.slot for answer in merged.answers] == list(range(10))
    assert merged.errors == {"connect": 2, "read": 1, "write": 0, "status": 0, "timeout": 1}
    assert merged.cpu_s == 0.75
    latencies = sorted(answer.latency_us / 1000 for answer in merged.answers)
    assert latencies == [5 + slot / 1000 for slot in range(10)]
    assert loadgen.percentile(latencies, 0.5) == 5.004  # nearest rank: the 5th of 10
    assert loadgen.percentile(latencies, 0.99) == 5.009


def test_latency_counts_from_the_due_time() -> None:
    """A request sent 40 ms late (the connections were busy) waited 40 ms more than its service."""
    text = "1 1000 41000 46000 200 0 0 7\n2 2000 2000 7000 200 1500 1 7\n"
    answers = loadgen.parse_output(text).answers
    assert [a.latency_us for a in answers] == [45000, 5000]
    figures = loadgen.latency_figures(loadgen.parse_output(text), 2, 1000.0)
    assert figures["latency_ms"]["max"] == 45.0 and figures["service_ms_p99"] == 5.0


def test_saturated_run_is_reported_as_such(use_shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "sat.json"
    args = [a for a in QUICK]
    for option, value in (("--rate", "400"), ("--per-request", "400"), ("--duration", "0.5")):
        args[args.index(option) + 1] = value  # 200 requests of ~15 ms on one worker: a queue
    done = _ormgc(
        tmp_path,
        "--orm",
        "sqlalchemy",
        "--workers",
        "1",
        "--policy",
        "default",
        "--json",
        str(out),
        *args,
    )
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(out.read_text())
    assert record["saturated_rounds"] == 1 and record["saturated"]["why"]
    assert "rounds saturated" in done.stdout
    _none_left(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--orm", "mongoengine"], "--shape served runs sqlalchemy and django, not mongoengine"),
        (["--rate", "0"], "argument --rate: need a number above 0"),
        (["--clients", "300"], "argument --clients: need a whole number from 1 to 8"),
        (["--rate", "1000", "--duration", "600"], "requests per run"),
        (["--policy", "freeze+nonsense"], "unknown GC policy 'nonsense'"),
        (["--shape", "served", "--shape", "seed_loop"], "--shape served runs alone"),
        (["--connections", "1", "--clients", "2"], "fewer than --clients"),
    ],
)
def test_bad_input_is_one_line(args: List[str], message: str, tmp_path: Path) -> None:
    done = _ormgc(tmp_path, *args, "--json", str(tmp_path / "x.json"))
    assert done.returncode != 0 and message in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x.json").exists()


def test_port_in_use_is_one_line(use_shared_cache: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _ormgc(tmp_path, "--orm", "sqlalchemy", "--port", str(port), *QUICK)
    assert done.returncode == 2 and f"--port {port}: cannot listen on 127.0.0.1" in done.stderr
    assert "preparing" not in done.stderr  # refused before any work
    _none_left(tmp_path)


def test_app_that_fails_to_start_is_one_line_and_nothing_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app cannot open its dataset (an SQLite file that is not one): gunicorn's master
    exits while preloading; the error names the cause and nothing is left running."""
    bogus = tmp_path / "not-a-dataset.sqlite3"
    bogus.write_text("nothing")
    scenario = ServedScenario("sqlalchemy", f"sqlite:///{bogus}", SMALL_ROWS, 1, 500, 20, 2,
                              40.0, 2.0, 0.5)  # fmt: skip
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the run's folder: _none_left's mark
    with pytest.raises(OrmGcError, match="gunicorn exited before serving: .*dataset"):
        run_once(interpreter(None), scenario, parse_served_policy("default"))
    assert bogus.read_text() == "nothing"  # the user's file untouched (the run used a copy)
    _none_left(tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_mid_load_leaves_nothing(
    signum: int, use_shared_cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "never.json"
    args = [a for a in QUICK]
    args[args.index("--duration") + 1] = "30"
    run = subprocess.Popen(
        [sys.executable, "-m", "ormgc", "run", "--shape", "served", "--orm", "sqlalchemy",
         "--policy", "default", "--json", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env=dict(os.environ, TMPDIR=str(tmp_path)),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not any(
            "served_wrk.lua" in " ".join(p.info["cmdline"] or []) for p in _ours(tmp_path)
        ):
            assert run.poll() is None and time.monotonic() < deadline, run.stderr.read()
            time.sleep(0.2)
        time.sleep(1.0)  # mid-load: gunicorn serving, wrk sending
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130 and "interrupted" in stderr
    assert not out.exists()
    _none_left(tmp_path)


def _advised(policy: str, p99: Any, **extra: Any) -> Dict[str, Any]:
    record = {"policy": policy, "saturated_rounds": 0, "errors_total": 0}
    record["p99_vs_baseline"] = {"baseline": "default", "ratio": p99[0], "ci95": p99[1]}
    record["throughput_vs_baseline"] = {"baseline": "default", "ratio": 1.0, "ci95": [1.0, 1.0]}
    record["pss_vs_baseline"] = {"baseline": "default", "ratio": 1.0, "ci95": [0.98, 1.02]}
    record.update(extra)
    return record


def test_served_advice_rule() -> None:
    """The lowest significant p99 wins among the eligible; each other setting says why not."""
    from ormgc.views.advice.served import ServedBounds, served_advice

    base = _advised("default", (1.0, [1.0, 1.0]))
    records = [
        base,
        _advised("threshold:50000", (0.80, [0.70, 0.90])),
        _advised("freeze+threshold:50000", (0.60, [0.50, 0.70]),
                 pss_vs_baseline={"baseline": "default", "ratio": 1.25, "ci95": [1.2, 1.3]}),
        _advised("adaptive", (0.70, [0.40, 1.10])),
        _advised("disabled", (0.50, [0.45, 0.55])),
        _advised("threshold:100000", (0.55, [0.5, 0.6]), saturated_rounds=1),
    ]  # fmt: skip
    advice = served_advice(records, "default", ServedBounds())
    assert advice["recommended"] == "threshold:50000"
    assert "gc.set_threshold(50000" in advice["gunicorn_conf"]
    why = {v["policy"]: v["lost_because"] for v in advice["verdicts"]}
    assert why["threshold:50000"] is None
    assert "worker PSS 1.25" in why["freeze+threshold:50000"]
    assert "not significantly lower" in why["adaptive"]
    assert "floor" in why["disabled"] and "saturated" in why["threshold:100000"]
    allowed = served_advice(records, "default", ServedBounds(allow_disabled=True))
    assert allowed["recommended"] == "disabled"
    nothing = served_advice(
        [base, _advised("adaptive", (0.9, [0.7, 1.1]))], "default", ServedBounds()
    )
    assert nothing["recommended"] == "default" and "pass" in nothing["gunicorn_conf"]
