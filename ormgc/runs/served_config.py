"""The gunicorn config file of a served run: a GC policy applied as a user would apply it.

A served policy is a GC policy (``ormgc.worker.policies``), optionally prefixed ``freeze+``:
``freeze+threshold:50000`` follows the recipe of CPython's ``gc.freeze()`` documentation for
pre-forking servers: ``gc.disable()`` in the master before the app is loaded (no collection
leaves holes in pages the workers will share), ``gc.freeze()`` in ``when_ready`` (the app is
preloaded, no worker forked yet), ``gc.enable()`` first thing in each worker. The policy itself
goes into ``post_fork``, in each worker, because that is where it must hold (a master's
thresholds are inherited, but a worker is where the requests run).

``user_block`` is the part a user pastes into their own ``gunicorn.conf.py`` (``ormgc advise
--shape served`` prints it); ``config_file`` adds what the suite needs to measure (binding,
workers, the hooks of ``ormgc.worker.served``).
"""

from __future__ import annotations

from typing import List, NamedTuple

from ormgc.errors import UsageError
from ormgc.worker.policies import Policy, parse_policy

FREEZE_PREFIX = "freeze+"
SERVED_SWEEP = ("default", "threshold:50000", "freeze+threshold:50000", "adaptive")


class ServedPolicy(NamedTuple):
    """A GC policy and whether the master freezes the preloaded app before forking."""

    name: str  # "freeze+threshold:50000", "default", ...
    policy: Policy
    freeze: bool


def parse_served_policy(text: str) -> ServedPolicy:
    """``[freeze+]POLICY``; UsageError (one line) if POLICY is not one."""
    text = text.strip()
    freeze = text.startswith(FREEZE_PREFIX)
    policy = parse_policy(text[len(FREEZE_PREFIX) :] if freeze else text)
    if freeze and policy.name == "disabled":
        raise UsageError(
            f"bad served policy {text!r}: freeze+disabled is disabled (the workers never "
            "collect, so the freeze changes nothing): use disabled"
        )
    return ServedPolicy((FREEZE_PREFIX if freeze else "") + policy.name, policy, freeze)


def parse_served_policies(texts: List[str]) -> List[ServedPolicy]:
    chosen = {}
    for text in texts:
        served = parse_served_policy(text)
        chosen.setdefault(served.name, served)
    return list(chosen.values())


def _policy_lines(policy: Policy) -> List[str]:
    """The policy as plain ``gc`` calls (``ormgc.adaptive`` for the adaptive one)."""
    if policy.name == "disabled":
        return ["gc.disable()"]
    if policy.bounds:
        lower, upper, rule = policy.bounds
        return [
            "from ormgc import adaptive  # pip install orm-gc-bench",
            f"adaptive.install({lower!r}, {upper!r}, {rule!r})",
        ]
    if policy.threshold0:
        given = (policy.threshold0, *policy.older)
        if len(given) == 3:
            return [f"gc.set_threshold({given[0]}, {given[1]}, {given[2]})"]
        values = ", ".join(map(str, given))
        return [f"gc.set_threshold({values}, *gc.get_threshold()[{len(given)}:])"]
    return []


def user_block(served: ServedPolicy) -> str:
    """The lines to paste into a ``gunicorn.conf.py`` (with ``preload_app = True``)."""
    lines = [f"# GC policy {served.name}, applied as ormgc measured it", "import gc", ""]
    if served.freeze:
        lines += [
            "gc.disable()  # master: no collection before the freeze (CPython's gc.freeze docs)",
            "",
            "",
            "def when_ready(server):  # master: app preloaded, no worker forked yet",
            "    gc.freeze()",
            "",
        ]
    body = (["gc.enable()"] if served.freeze else []) + _policy_lines(served.policy)
    lines += ["", "def post_fork(server, worker):  # each worker, right after the fork"]
    lines += [f"    {line}" for line in body or ["pass  # the interpreter's own thresholds"]]
    return "\n".join(lines) + "\n"


def config_file(served: ServedPolicy, port: int, workers: int, folder: str) -> str:
    """The whole config of a measured run: ``user_block`` plus binding, workers and the
    measuring hooks (``ormgc.worker.served``), which run after the policy in ``post_fork``."""
    block = user_block(served)
    if "def post_fork" not in block:
        raise AssertionError("user_block always defines post_fork")
    block = block.replace("def post_fork(server, worker):", "def _policy_post_fork():")
    block = block.replace("def when_ready(server):", "def _policy_when_ready():")
    settings = f"""
from ormgc.worker import served as _served

bind = "127.0.0.1:{port}"  # loopback only
workers = {workers}
worker_class = "sync"
preload_app = True
timeout = 60
graceful_timeout = 10
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = "ormgc-served"


def when_ready(server):
    {"_policy_when_ready()" if served.freeze else "pass"}


def post_fork(server, worker):
    _policy_post_fork()
    _served.worker_started({served.name!r})


def worker_exit(server, worker):
    _served.dump({folder!r})
"""
    return block + settings
