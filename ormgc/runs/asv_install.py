"""asv's install step: the measured commit's pins, except the libraries asv's matrix pins.

asv installs the matrix's ``req`` (one release series of SQLAlchemy, Django, MongoEngine per
environment) before the project; installing ``current.txt`` as it is would replace them. So
this script reads the environment's matrix from asv's ``asv-env-info.json`` and installs the
pins with those lines swapped for the matrix's versions. Runs under the measured interpreter
before ormgc is installed: standard library only, Python 3.9.

    python ormgc/runs/asv_install.py ENV_DIR PINS_FILE
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503's normalised name: Django == django, typing_extensions == typing-extensions."""
    return re.sub(r"[-_.]+", "-", name).lower()


def matrix_requirements(env_dir: Path) -> Dict[str, str]:
    """The ``req`` pins asv's matrix gave this environment: {name: version}."""
    try:
        info = json.loads((env_dir / "asv-env-info.json").read_text())
    except (OSError, ValueError):
        return {}  # an environment asv did not make (existing:): the pins as they are
    return {name: version for name, version in info.get("requirements", {}).items() if version}


def merged_pins(pins: List[str], matrix: Dict[str, str]) -> List[str]:
    """``pins`` with every line naming a matrix library replaced by the matrix's version."""
    wanted = {canonical(name): f"{name}=={version}" for name, version in matrix.items()}
    merged = []
    for line in pins:
        match = _NAME.match(line.split("#", 1)[0])
        if match and canonical(match.group(1)) in wanted:
            continue
        merged.append(line)
    return merged + sorted(wanted.values())


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print("usage: asv_install.py ENV_DIR PINS_FILE", file=sys.stderr)
        return 2
    env_dir, pins_file = Path(argv[0]), Path(argv[1])
    lines = merged_pins(pins_file.read_text().splitlines(), matrix_requirements(env_dir))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    try:
        command = [sys.executable, "-m", "pip", "install", "-r", handle.name]
        return subprocess.call(command)
    finally:
        Path(handle.name).unlink()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
