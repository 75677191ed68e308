"""Bring your own workload: ``path/to/file.py:name`` or ``package.module:name``.

The protocol: ``name`` is a function with no arguments, run before measuring, that returns the
callable to measure, or a generator function that yields it and cleans up after the yield.
The callable takes no arguments; what it returns is what was loaded (``len()`` of it, when it
has one, is recorded as ``loaded``). Runs inside the measured interpreter: the file is imported
by path there, so it may use whatever that interpreter has installed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import re
import signal
import sys
import traceback
from types import ModuleType
from typing import Any, Callable, Iterator, Optional


class WorkloadError(Exception):
    """The user's workload could not be loaded or failed: one line, their own message in it."""


def is_file_target(where: str) -> bool:
    """``where`` names a file (``app/bench.py``), not a module (``app.bench``)."""
    return where.endswith(".py") or "/" in where or os.sep in where


_OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the ormgc package


def describe_error(exc: BaseException, target: str = "") -> str:
    """``Type: message (at file:line)``: the innermost line of the workload's own file, else
    the innermost line outside ormgc (a library's), else none."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not os.path.abspath(frame.filename).startswith(_OURS + os.sep)
    ]
    where = target.rpartition(":")[0]
    own = [frame for frame in frames if os.path.abspath(frame.filename) == where]
    frames = own or frames
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}{': ' + message[0] if message else ''}{where}"


def describe_exit(exc: SystemExit) -> str:
    """How a workload ended its process: ``called sys.exit(3)`` (exit() and quit() raise it too)."""
    return f"called sys.exit({exc.code!r})" if exc.code is not None else "called sys.exit()"


# What a signal that ends a process usually means, for the one line that names it.
_SIGNAL_MEANINGS = {
    "SIGSEGV": "the process crashed",
    "SIGBUS": "the process crashed",
    "SIGILL": "the process crashed",
    "SIGFPE": "the process crashed",
    "SIGABRT": "the process aborted, e.g. abort() or a failed C assertion",
    "SIGKILL": "killed, e.g. by kill -9 or the out-of-memory killer",
    "SIGTERM": "asked to stop",
    "SIGINT": "interrupted",
}


def describe_signal(number: int) -> str:
    """A signal by its name and what it usually means: ``SIGSEGV: the process crashed``."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    meaning = _SIGNAL_MEANINGS.get(name)
    return f"{name}: {meaning}" if meaning else f"{name} (signal {number})"


def _import_file(path: str) -> ModuleType:
    if not os.path.isfile(path):
        raise WorkloadError(f"workload file {path} not found")
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    module_name = f"_ormgc_workload_{stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise WorkloadError(f"workload file {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # its neighbours import as usual
    spec.loader.exec_module(module)
    return module


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise WorkloadError(
                f"workload module {name!r} not found (is it on sys.path?)"
            ) from None
        raise


def load_setup(target: str) -> Callable[[], Any]:
    """The setup function ``target`` names; WorkloadError when it cannot be had."""
    where, _, name = target.rpartition(":")
    if not where or not name:
        raise WorkloadError(f"workload {target!r}: use path/to/file.py:name or package.module:name")
    try:
        module = _import_file(where) if is_file_target(where) else _import_module(where)
    except WorkloadError:
        raise
    except SystemExit as exc:
        raise WorkloadError(f"importing workload {where}: it {describe_exit(exc)}") from None
    except Exception as exc:
        raise WorkloadError(
            f"importing workload {where} raised {describe_error(exc, target)}"
        ) from None
    setup: Optional[Any] = getattr(module, name, None)
    if setup is None:
        raise WorkloadError(f"workload {where} has no {name!r}")
    if not callable(setup):
        raise WorkloadError(
            f"workload {target}: {name} is not a function (it is {type(setup).__name__})"
        )
    return setup


@contextlib.contextmanager
def prepared(target: str) -> Iterator[Callable[[], Any]]:
    """Run the setup; yield the callable to measure; afterwards, run a generator's clean-up."""
    setup = load_setup(target)
    try:
        made = setup()
        generator = made if inspect.isgenerator(made) else None
        if generator is not None:
            made = next(generator, _NOTHING)
    except SystemExit as exc:
        raise WorkloadError(f"workload {target}: setup {describe_exit(exc)}") from None
    except Exception as exc:
        raise WorkloadError(
            f"workload {target}: setup raised {describe_error(exc, target)}"
        ) from None
    if made is _NOTHING:
        raise WorkloadError(f"workload {target}: setup yielded nothing to measure")
    if not callable(made):
        raise WorkloadError(
            f"workload {target}: setup returned {type(made).__name__}, not the callable to measure"
        )
    try:
        yield made
    except BaseException:
        if generator is not None:
            generator.close()  # the user's clean-up (finally / with) runs before we report
        raise
    if generator is not None:
        try:
            next(generator)
        except StopIteration:
            return
        except SystemExit as exc:
            raise WorkloadError(
                f"workload {target}: clean-up after the yield {describe_exit(exc)}"
            ) from None
        except Exception as exc:
            raise WorkloadError(
                f"workload {target}: clean-up after the yield raised {describe_error(exc, target)}"
            ) from None
        generator.close()
        raise WorkloadError(f"workload {target}: setup yields more than once (yield one callable)")


_NOTHING = object()


def loaded_count(loaded: Any) -> Optional[int]:
    """``len(loaded)`` when it has one, else None."""
    try:
        return len(loaded)
    except TypeError:
        return None


def library_versions() -> dict:
    """Versions of the ORMs and drivers the workload imported (it may use any)."""
    versions = {}
    for name in ("sqlalchemy", "mongoengine", "pymongo", "psycopg", "psycopg2", "django"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", getattr(module, "version", "")))
    return versions
