"""``--exact``: one measurement under callgrind, counting the probed block's instructions.

The worker runs as always (``python -m ormgc.worker.measure``), but under ``valgrind
--tool=callgrind`` with collection and instrumentation off until the probe's marks switch them
on around the block (``ormgc.worker.exact``); the block's costs are the dump ``<out>.1``.
Its ``instructions`` are the block's, ``gc_instructions`` the collector's inclusive cost in them
(``ormgc.runs.callgrind``). Counts repeat exactly only if nothing that varies reaches the
process before the block: hash seeds, but also the environment's size and content, argv and the
working directory (they move the heap and so id()-based hash orders). So the worker gets
``env -i`` plus a fixed set of variables, a fixed empty working directory, a fixed argv (the
record comes back on stdout), and the spec on stdin, which is fixed for file databases.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple

from orm_fixtures import mask_password
from orm_fixtures._cache import cache_dir, cached_file
from ormgc.errors import OrmGcError
from ormgc.runs.callgrind import CACHE_SIM_OPTIONS, exact_fields, gc_cost, parse
from ormgc.worker.exact import C_SOURCE, LIB_ENV

VALGRIND_ENV = "ORMGC_VALGRIND"  # the valgrind program to use (default: valgrind on PATH)
MODES = ("instructions", "cache")  # cache: also simulated caches and estimated cycles
# The collector told by its C function, by the gc.callbacks around it (ormgc.runs.exact_callbacks)
GC_METHODS = ("auto", "symbol", "callbacks")
FIXED_PATH = "/usr/bin:/bin"
HASH_SEED = "0"
# Passed on when set (a password must reach PostgreSQL); recorded by name only.
PASSED_ON = ("ORMGC_POSTGRES_URL", "PGPASSWORD")
_CALLGRIND = ("--tool=callgrind", "--collect-atstart=no", "--instr-atstart=no")
WORKER_ARGS = ("-m", "ormgc.worker.measure", "/dev/stdout")


class ExactSetup(NamedTuple):
    """What ``--exact`` runs with, checked once before any measurement."""

    valgrind: str
    valgrind_version: str
    lib: str  # the compiled marker library
    mode: str = "instructions"
    gc_method: str = "auto"


def _compile(source: Path, target: Path, compiler: str) -> None:
    done = subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", "-o", str(target), str(source)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        missing = "callgrind.h" in done.stderr
        raise OrmGcError(
            "--exact needs valgrind's C headers (valgrind/callgrind.h; Debian: apt-get install "
            "valgrind)"
            if missing
            else f"--exact: could not compile the callgrind marks with {compiler}: "
            + (done.stderr.strip().splitlines() or ["no output"])[-1]
        )


def _marker_library() -> str:
    """The marks' shared library, compiled once per source into the cache (locked, renamed)."""
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        raise OrmGcError("--exact needs a C compiler (cc) to build its callgrind marks")
    key = hashlib.sha256(C_SOURCE.encode()).hexdigest()[:12]
    folder = cache_dir() / "exact"
    folder.mkdir(exist_ok=True)

    def build(temp: Path) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "ormgc_block.c"
            source.write_text(C_SOURCE)
            _compile(source, temp, compiler)

    def verify(path: Path) -> Any:
        return None if path.stat().st_size > 0 else "empty"

    return str(cached_file(folder / f"libormgc_block-{key}.so", build, verify, "callgrind marks"))


def exact_setup(mode: str = "instructions", gc_method: str = "auto") -> ExactSetup:
    """Check valgrind, compile the marks; OrmGcError with one line when something is missing."""
    program = os.environ.get(VALGRIND_ENV) or "valgrind"
    valgrind = shutil.which(program)
    if valgrind is None:
        raise OrmGcError(
            f"--exact needs valgrind, and {program!r} was not found "
            "(Debian/Ubuntu: apt-get install valgrind)"
        )
    try:
        version = subprocess.run(
            [valgrind, "--version"], capture_output=True, text=True, timeout=60
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OrmGcError(f"--exact: {valgrind} does not run: {exc}") from None
    if not version.startswith("valgrind"):
        raise OrmGcError(f"--exact: {valgrind} --version did not answer like valgrind")
    return ExactSetup(valgrind, version, _marker_library(), mode, gc_method)


def fixed_environment(worker_env: Dict[str, str], setup: ExactSetup) -> Dict[str, str]:
    """Everything the measured process gets from outside, and nothing else."""
    env = {
        "PATH": FIXED_PATH,
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": HASH_SEED,
        "ORMGC_CACHE_DIR": str(cache_dir()),
        LIB_ENV: setup.lib,
    }
    if worker_env.get("PYTHONPATH"):  # the packages' shim (an asv environment installs them)
        env["PYTHONPATH"] = worker_env["PYTHONPATH"]
    env.update({name: os.environ[name] for name in PASSED_ON if name in os.environ})
    return env


def working_directory() -> str:
    """A fixed, empty folder (``python -m`` puts it first on sys.path)."""
    folder = cache_dir() / "exact" / "cwd"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def _described(env: Dict[str, str], argv: List[str]) -> Dict[str, Any]:
    shown = {name: ("(set)" if name in PASSED_ON else value) for name, value in env.items()}
    return {
        "rule": "env -i: only these variables; fixed cwd and argv; the spec on stdin",
        "PYTHONHASHSEED": HASH_SEED,
        "variables": {name: mask_password(value) for name, value in sorted(shown.items())},
        "cwd": working_directory(),
        "argv": argv,
    }


def callgrind(
    setup: ExactSetup, executable: str, args: List[str], env: Dict[str, str], stdin: str = ""
) -> Dict[str, Any]:
    """Run ``executable args`` under callgrind; the block dump parsed, with the process output."""
    # Here, for every caller: the first run after a fresh checkout would otherwise compile
    # our modules from source (3.10: 45.56M collector instructions instead of 45.86M).
    precompile(executable, env)
    with tempfile.TemporaryDirectory(prefix="ormgc-exact-") as scratch:
        out = os.path.join(scratch, "callgrind.out")
        command = [setup.valgrind, *_CALLGRIND, f"--callgrind-out-file={out}"]
        if setup.mode == "cache":
            command += CACHE_SIM_OPTIONS
        command += [executable, *args]
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=working_directory(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            stdout, stderr = process.communicate(stdin)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.monotonic() - started
        for line in stderr.splitlines():
            if line.startswith("ormgc: "):
                print(mask_password(line), file=sys.stderr, flush=True)
        block = out + ".1"
        if not os.path.exists(block):
            last = [line for line in stderr.splitlines() if line.strip()] or ["no output"]
            raise OrmGcError(
                f"callgrind wrote no dump of the block (exit code {process.returncode}): "
                f"{mask_password(last[-1])}"
            )
        dump = parse(block)
    return {
        "dump": dump,
        "stdout": stdout,
        "stderr": stderr,
        "returncode": process.returncode,
        "seconds": seconds,
    }


_COMPILED: Dict[str, bool] = {}
_COMPILE = (
    "import compileall, os, sys\n"
    "for folder, _, files in os.walk(sys.argv[1], followlinks=True):\n"
    "    for name in sorted(files):\n"
    "        if name.endswith('.py'):\n"
    "            assert compileall.compile_file(os.path.join(folder, name), quiet=2)\n"
)


def precompile(executable: str, env: Dict[str, str]) -> None:
    """Write the bytecode of our packages first: a run that compiles a module from source
    allocates differently from one that reads its .pyc, and counts differently."""
    if _COMPILED.get(executable):
        return
    folder = env.get("PYTHONPATH")
    if not folder:  # installed packages: pip wrote their bytecode
        return
    # Through the shim's links (compileall skips links), so code names the path imports use.
    done = subprocess.run(
        [executable, "-c", _COMPILE, folder], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise OrmGcError(f"--exact: could not compile the sources in {folder}")
    _COMPILED[executable] = True


def run_exact(interp: Any, spec: Dict[str, Any]) -> Dict[str, Any]:
    """One measurement under callgrind: the worker's record plus the exact figures."""
    setup: ExactSetup = interp.exact
    env = fixed_environment(interp.env, setup)
    argv = [interp.executable, *WORKER_ARGS]
    ran = callgrind(setup, interp.executable, list(WORKER_ARGS), env, json.dumps(spec))
    try:
        record = json.loads(ran["stdout"].rstrip("\n").rsplit("\n", 1)[-1])
    except ValueError:
        record = {}
    if "error" in record:
        raise OrmGcError(mask_password(record["error"]))
    if ran["returncode"] != 0 or "collections_total" not in record:
        said = [line for line in ran["stderr"].splitlines() if line.strip()]
        said = [line for line in said if not line.startswith("==")] or said  # valgrind's own
        last = mask_password(said[-1]) if said else f"exit code {ran['returncode']}"
        raise OrmGcError(f"{interp.label}: the worker under callgrind failed: {last}")
    label = f"{interp.label} (Python {record['python']})"
    collections = record["collections_total"]
    by_callbacks = None
    if collections and (
        setup.gc_method == "callbacks"
        or (setup.gc_method == "auto" and gc_cost(ran["dump"]).function is None)
    ):  # no symbol (Debian's 3.14/3.15): a second run, counting between gc.callbacks
        from ormgc.runs.exact_callbacks import collector_by_callbacks

        by_callbacks = collector_by_callbacks(interp, setup, spec, record)
    record.update(exact_fields(ran["dump"], setup, collections, label, by_callbacks))
    record["exact_env"] = _described(env, argv)
    record["under_valgrind"] = True  # wall_ms and cpu_ms are valgrind's, not comparable
    record["valgrind_run_s"] = round(ran["seconds"], 1)
    return record


def marks_overhead(interp: Any, setup: ExactSetup) -> int:
    """Instructions callgrind counts in an empty probed block: what every record includes."""
    env = fixed_environment(interp.env, setup)
    ran = callgrind(setup, interp.executable, ["-m", "ormgc.worker.exact"], env)
    return ran["dump"].totals[0]


def exact_interpreter(interp: Any, mode: str = "instructions", gc_method: str = "auto") -> Any:
    """``interp`` set up for ``--exact``, checked before any measurement: valgrind, the marks,
    and one empty probed block under callgrind, so valgrind that cannot run the worker is one
    line at the start, not after the native sweep."""
    exact = interp._replace(exact=exact_setup(mode, gc_method))
    try:
        marks_overhead(exact, exact.exact)
    except OrmGcError as exc:
        cannot = f"--exact: valgrind cannot run the worker ({exact.label}): {exc}"
        raise OrmGcError(cannot) from None
    return exact
