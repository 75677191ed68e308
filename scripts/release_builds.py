"""Which releases of the history ran compiled, which as pure Python (asv-releases/builds.json).

A release without a wheel for a Python is built from its source distribution by pip, as asv's
environment did; where that cannot compile (Debian's 3.14 has no Python.h), SQLAlchemy and
pymongo install as pure Python, and the query costs more instructions for that reason alone.
This installs each measured SQLAlchemy release, and each pymongo a MongoEngine release ran
with, into one scratch venv per Python (pip's cache holds what asv built) and asks the module:
SQLAlchemy's Cython/C extensions, pymongo's C bson (each with its dependencies, which the check
imports). Django has no compiled part.

    .venv/bin/python scripts/release_builds.py [--python 3.X ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ormgc.history import branches, ranges  # noqa: E402
from ormgc.results import write_atomic  # noqa: E402

OUT = ROOT / "results" / "asv-releases" / "builds.json"
ASK = {
    "SQLAlchemy": (
        "import sqlalchemy\n"  # fails (does-not-import) without its dependencies
        "try:\n from sqlalchemy.util._has_cy import HAS_CYEXTENSION as c\n"
        "except ImportError:\n"
        " try:\n  import sqlalchemy.cresultproxy; c = True\n except ImportError:\n  c = False\n"
        "print('compiled' if c else 'pure-python')"
    ),
    "pymongo": "import bson; print('compiled' if bson.has_c() else 'pure-python')",
}


def wanted(spec: ranges.Ranges, python: str) -> Dict[Tuple[str, str], str]:
    """(series, version) -> the pin of its compiled part this Python ran (SQLAlchemy itself;
    the pymongo a MongoEngine release ran with, from the base commit's pins)."""
    base_pins = subprocess.run(
        ["git", "show", f"{spec.base}:{branches.PINS_PATH}"], cwd=ROOT, capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    found = {}
    for series in spec.series:
        # the compiled part: SQLAlchemy itself; MongoEngine's is pymongo's bson
        package = "pymongo" if series.orm == "mongoengine" else series.package
        if python not in series.pythons or package not in ASK:
            continue
        for release in series.releases:
            pins = branches.pins_text(base_pins, series, release).splitlines()
            found[series.name, release.version] = next(
                pin for pin in pins if pin.startswith(f"{package}==")
            )
    return found


def builds(python: str, pins: List[str]) -> Dict[str, str]:
    done: Dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ormgc-builds-") as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        for pin in sorted(set(pins)):
            package = pin.split("==")[0]
            install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            if subprocess.run([*install, pin], capture_output=True).returncode != 0:
                done[pin] = "does-not-install"
                continue
            answer = subprocess.run(
                [str(venv / "bin" / "python"), "-c", ASK[package]], capture_output=True, text=True
            )
            done[pin] = answer.stdout.strip() if answer.returncode == 0 else "does-not-import"
            print(f"python{Path(python).name[6:]} {pin}: {done[pin]}", file=sys.stderr)
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="only these X.Y (repeat)")
    args = parser.parse_args()
    spec = ranges.load()
    pythons = args.python or sorted({p for s in spec.series for p in s.pythons})
    found = json.loads(OUT.read_text()) if OUT.is_file() else {}
    for version in pythons:
        interpreter = str(ROOT / ".pythons" / f"python{version}")
        pins = wanted(spec, version)
        answers = builds(interpreter, list(pins.values()))
        found[version] = {}
        for (series, release), pin in sorted(pins.items()):
            found[version].setdefault(series, {})[release] = f"{pin}: {answers[pin]}"
    text = json.dumps(dict(sorted(found.items())), indent=1, sort_keys=True) + "\n"
    write_atomic(OUT, lambda out: out.write(text))
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
