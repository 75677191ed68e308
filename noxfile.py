"""The Python 3.9-3.15 matrix; ``nox -l`` lists the sessions (run nox from .venv: ./dev nox).

    nox -s bench                              every version, full defaults (bench-3.9 ... 3.15)
    nox -s bench-3.12 -- --quick              one version, in minutes
    nox -s bench -- --quick --orm sqlalchemy  options after -- go to `ormgc pyperf`
    nox -s compare                            Markdown table across versions, pyperf compare_to
    nox -s thresholds                         the first threshold swept, 700 ... 1,000,000
    nox -s report                             the charts: results/report/index.html
    nox -s site -- --output site              the folder to publish: landing page, report/,
                                              asv/, docs/ (from the committed results only)

Importing this file links the interpreters found (PATH, pyenv, uv, the cache's Debian builds
from ``ormgc pythons --install``) into .pythons/ and puts that first on PATH, so nox finds
python3.X without a manual step. A missing interpreter fails the run in CI
($CI set) and is a loud warning locally; it is never skipped silently.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from ormgc.runs.debian_python import INSTALLABLE  # noqa: E402  (needs ROOT on sys.path)
from ormgc.runs.pythons import SUPPORTED, link_pythons  # noqa: E402

PYTHONS = list(SUPPORTED)  # declared once, in ormgc.runs.pythons
PINS = "ormgc/profiles/current.txt"  # the same pins in every bench environment
IN_CI = "CI" in os.environ

nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = IN_CI
nox.options.download_python = "never"  # nothing to download here: use what the machine has
nox.options.reuse_venv = "yes"  # the pins are reinstalled (a no-op when they hold) every run


def _expose_pythons() -> None:
    folder = ROOT / ".pythons"
    found = link_pythons(folder)
    os.environ["PATH"] = os.pathsep.join([str(folder), os.environ.get("PATH", "")])
    hint = {version: f"; get it: ormgc pythons --install {version}" for version in INSTALLABLE}
    for version in PYTHONS:
        if version not in found:
            (folder / f"python{version}").unlink(missing_ok=True)  # a stale link would be used
            fate = "fails (CI is set)" if IN_CI else "is skipped (it would fail in CI)"
            print(
                f"nox: WARNING: Python {version} not found (PATH, pyenv, uv, Debian builds"
                f"{hint.get(version, '')}): bench-{version} {fate}",
                file=sys.stderr,
            )


_expose_pythons()


@nox.session(python=PYTHONS)
def bench(session: nox.Session) -> None:
    """Time ORM x shape x GC policy with pyperf (GC on) under one Python; -- --quick: minutes."""
    session.install("-r", PINS)
    session.install("--no-deps", "-e", ".")
    session.run("ormgc", "pyperf", *session.posargs)


@nox.session(python=False)
def compare(session: nox.Session) -> None:
    """Compare the versions' results: a Markdown table plus pyperf compare_to between them."""
    session.run(sys.executable, "-m", "ormgc", "compare", *session.posargs)


# The threshold curve (results/thresholds/<X.Y>.json): the seed scenario under first thresholds
# from CPython's old default to 1,000,000; counts are deterministic, the times are medians of 3.
THRESHOLD_SWEEP = ["default", "disabled"] + [
    f"threshold:{n}"
    for n in (700, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
]


@nox.session(python=False)
def thresholds(session: nox.Session) -> None:
    """Sweep the first GC threshold (700 ... 1,000,000) on every Python: results/thresholds/."""
    versions = session.posargs or PYTHONS
    policies = [arg for policy in THRESHOLD_SWEEP for arg in ("--policy", policy)]
    for version in versions:
        output = f"results/thresholds/{version}.json"
        session.run(sys.executable, "-m", "ormgc", "run", "--python", version, *policies,
                    "--repeat", "3", "--json", output)  # fmt: skip


# The served shape (a real gunicorn under wrk at a fixed rate): docs/findings/served.md.
SERVED_POLICIES = ["default", "threshold:50000", "freeze+threshold:50000", "adaptive"]
SERVED_LOAD = ["--workers", "2", "--rate", "50", "--duration", "10", "--warmup", "2"]


@nox.session(python=False)
def served(session: nox.Session) -> None:
    """gunicorn + wrk per GC policy on every Python (or those given): results/served/."""
    policies = [arg for policy in SERVED_POLICIES for arg in ("--policy", policy)]
    rounds = os.environ.get("ROUNDS", "3")
    for version in session.posargs or PYTHONS:
        for orm in os.environ.get("ORMS", "sqlalchemy django").split():
            output = f"results/served/{orm}-{version}"
            with open(f"{output}.txt", "w") as table:  # the table; progress goes to stderr
                command = ["ormgc", "run", "--shape", "served", "--python", version, "--orm", orm]
                command += [*policies, *SERVED_LOAD, "--repeat", rounds, "--json", f"{output}.json"]
                session.run(sys.executable, "-m", *command, stdout=table)


# The same curve in instructions (results/thresholds/exact/<X.Y>-r5000.json): exact and
# deterministic, one run per policy under callgrind, so at 5,000 rows with 1,000 loaded (~20 s
# a run here, ~25 min for every Python) and up to 50,000, beyond which this size collects once.
EXACT_SWEEP_ROWS = 5000
EXACT_SWEEP = ["disabled"] + [
    f"threshold:{n}" for n in (700, 1000, 2000, 5000, 10_000, 20_000, 50_000)
]


@nox.session(python=False, name="thresholds-exact")
def thresholds_exact(session: nox.Session) -> None:
    """The threshold sweep in instructions, under valgrind: results/thresholds/exact/."""
    versions = session.posargs or PYTHONS
    policies = [arg for policy in EXACT_SWEEP for arg in ("--policy", policy)]
    os.makedirs("results/thresholds/exact", exist_ok=True)
    for version in versions:
        output = f"results/thresholds/exact/{version}-r{EXACT_SWEEP_ROWS}.json"
        session.run(sys.executable, "-m", "ormgc", "run", "--exact", "--python", version,
                    "--rows", str(EXACT_SWEEP_ROWS), *policies, "--json", output)  # fmt: skip


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Draw the report (index.html + PNG charts) from results/ into results/report/."""
    session.run(sys.executable, "-m", "ormgc", "report", *session.posargs)


@nox.session(python=False)
def site(session: nox.Session) -> None:
    """Build the site to publish (index.html, report/, asv/, docs/) from the committed results."""
    args = session.posargs or ["--output", "site"]
    session.run(sys.executable, "-m", "ormgc", "site", *args)


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run the test suite in the suite's own environment (.venv, as ./dev makes it)."""
    session.run(sys.executable, "-m", "pytest", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.run(sys.executable, "-m", "ruff", "check", ".")
    session.run(sys.executable, "-m", "ruff", "format", "--check", ".")
