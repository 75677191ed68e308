"""The MongoDB server a mongoengine run talks to: the user's URL, or an embedded nx-27017.

nx-27017 (PyPI, MIT) speaks MongoDB's wire protocol over SQLite. It runs as its own process,
from its own venv (it needs Python >= 3.10; the measured client may be 3.9), because a server
inside the measured process would add its objects to the GC counts. The ``ormgc`` parent starts
it around the whole sweep (``serve``) and stops it on every way out: normal end, error, Ctrl-C,
SIGTERM, and, through the kernel's parent-death signal, even a killed parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional

from ._cache import cache_dir, exclusive_lock, notify
from ._server_env import server_venv
from .errors import FixtureError
from .urls import mask_password

EMBEDDED = "embedded"
URL_ENV = "ORMGC_MONGODB_URL"  # the default --db for mongoengine when set
PORT_ENV = "ORMGC_MONGODB_PORT"  # pin the embedded server's port (default: a free one)
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0  # a cold start imports neosqlite and pymongo on a busy 2-core machine
STOP_TIMEOUT_S = 10.0
SERVED_PIDS: Dict[str, int] = {}  # URL -> pid of the embedded server now serving it
_PORT_TRIES = 3  # a free port can be taken between choosing it and binding it

# Run by the server venv's Python (it has pymongo; this process may not): wait until the
# server answers hello, then print buildInfo's pid, to be sure it is ours that answers.
_PROBE = """
import json, sys, time
from pymongo import MongoClient
from pymongo.errors import PyMongoError
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while True:
    client = MongoClient(url, serverSelectionTimeoutMS=300, connectTimeoutMS=300)
    try:
        client.admin.command("hello")
        info = client.admin.command("buildInfo")
        print(json.dumps({"pid": info.get("pid"), "version": info.get("version")}))
        break
    except PyMongoError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.1)
    finally:
        client.close()
"""


def is_mongodb_url(db: str) -> bool:
    return db.startswith(("mongodb://", "mongodb+srv://"))


def default_db() -> str:
    """$ORMGC_MONGODB_URL if set, else the embedded server."""
    return os.environ.get(URL_ENV) or EMBEDDED


def server_dir() -> Path:
    """Data, logs and pid file of the embedded server: persistent, so datasets are reused."""
    path = cache_dir() / "mongodb"
    (path / "data").mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _pinned_port() -> Optional[int]:
    text = os.environ.get(PORT_ENV)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:  # not "²"
        raise FixtureError(f"{PORT_ENV}={text!r} is not a port number (1-65535)")
    return int(text)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the process that started it dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _stop(process: Optional[subprocess.Popen]) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


class PortInUse(FixtureError):
    """The embedded server could not bind its port."""


class EmbeddedServer:
    """One nx-27017 process on 127.0.0.1, its data under ``server_dir()``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"mongodb://{HOST}:{port}/"
        self.dir = server_dir()
        self.log = self.dir / "nx-27017.log"
        self.console = self.dir / "nx-27017.out"  # stdout/stderr: startup tracebacks land here
        self.pid_file = self.dir / "nx-27017.pid"
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        """Start the server and wait until it answers hello; raise FixtureError if it cannot."""
        root = server_venv()
        for stale in (self.pid_file, self.log):  # we hold the data lock: any pid file is stale
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        command: List[str] = [str(root / "bin" / "nx-27017"), "--host", HOST, "-p", str(self.port)]
        command += ["--data-dir", str(self.dir / "data"), "--log-file", str(self.log)]
        command += ["--pid-file", str(self.pid_file)]
        with open(self.console, "wb") as console:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the server in order
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            self._wait_ready(root)
        except BaseException:
            _stop(self.process)
            raise

    def _wait_ready(self, root: Path) -> None:
        assert self.process is not None
        probe_command = [str(root / "bin" / "python"), "-c", _PROBE, self.url, str(START_TIMEOUT_S)]
        with subprocess.Popen(probe_command, stdout=subprocess.PIPE, text=True) as probe:
            try:
                while probe.poll() is None and self.process.poll() is None:
                    time.sleep(0.05)
            finally:
                _stop(probe)
            answer: IO[str] = probe.stdout  # type: ignore[assignment]
            text = answer.read()
        if self.process.poll() is not None:
            self._raise_start_failure()
        if probe.returncode != 0:
            raise FixtureError(
                f"the embedded MongoDB server did not answer within {START_TIMEOUT_S:.0f} s "
                f"on {HOST}:{self.port}; see {self.log}"
            )
        if json.loads(text).get("pid") != self.process.pid:  # another server answered
            raise PortInUse(f"{HOST}:{self.port} is already in use by another server")

    def _raise_start_failure(self) -> None:
        assert self.process is not None
        reason = _last_line(self.console) or f"exit code {self.process.returncode}"
        if "address already in use" in reason.lower() or "errno 98" in reason.lower():
            raise PortInUse(f"{HOST}:{self.port} is already in use")
        raise FixtureError(
            f"the embedded MongoDB server failed to start: {reason} (see {self.console})"
        )

    def died(self, grace_s: float = 1.0) -> Optional[str]:
        """None while running, else how it ended, for an error message. The grace covers a
        server caught dying: a killed process is reaped only once all its threads have exited."""
        if self.process is None:
            return None
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            return None
        return f"exit code {self.process.returncode}"

    def stop(self) -> None:
        _stop(self.process)


def _start_embedded() -> EmbeddedServer:
    pinned = _pinned_port()
    for attempt in range(1, _PORT_TRIES + 1):
        server = EmbeddedServer(pinned or _free_port())
        try:
            server.start()
            return server
        except PortInUse as exc:
            if pinned or attempt == _PORT_TRIES:
                source = f" (set by {PORT_ENV})" if pinned else ""
                raise FixtureError(
                    f"cannot start the embedded MongoDB server: {exc}{source}"
                ) from None
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so that ``finally`` blocks (stopping the server) run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, previous)
        notify("terminated; stopping the embedded MongoDB server")
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def serve(db: str) -> Iterator[str]:
    """Yield the URL workers should use: ``db`` itself if it is a URL, else a started server.

    Only one embedded server runs per cache folder at a time (a second run waits), so two
    servers never write the same SQLite files.
    """
    if is_mongodb_url(db):
        yield db
        return
    if db != EMBEDDED:
        raise FixtureError(
            f"unsupported database {mask_password(db)!r} for mongoengine: "
            f"use '{EMBEDDED}' or a mongodb:// URL"
        )
    folder = server_dir()
    with exclusive_lock(folder / "server.lock", "the embedded MongoDB server"), _sigterm_as_exit():
        server = _start_embedded()
        notify(f"embedded MongoDB server (nx-27017) on {HOST}:{server.port}, log {server.log}")
        assert server.process is not None
        SERVED_PIDS[server.url] = server.process.pid  # workers read its CPU time (psutil)
        try:
            yield server.url
        except Exception as exc:
            ended = server.died()
            if ended:  # the real cause: every error after it is a consequence
                raise FixtureError(
                    f"the embedded MongoDB server stopped unexpectedly ({ended}); see {server.log}"
                ) from exc
            raise
        finally:
            SERVED_PIDS.pop(server.url, None)
            server.stop()
