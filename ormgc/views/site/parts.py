"""The site's parts and what they are built from (``ormgc site``; build.py assembles them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

from ormgc.errors import OrmGcError

TITLES = {
    "": "Home: the answer",
    "report": "Charts (the GC report)",
    "asv": "asv: history across commits, Pythons and library series",
    "asv-releases": "asv: history across library releases",
    "docs": "Documentation",
}


class Part(NamedTuple):
    """One folder of the site: built, or why not (shown on the landing page)."""

    name: str
    title: str
    built: bool
    note: str


class Sources(NamedTuple):
    """What the site is built from: all committed files of the repository at ``root``."""

    root: Path
    results: Path
    asv_conf: Path
    mkdocs_conf: Path
    mkdocs: Sequence[str] = (sys.executable, "-m", "mkdocs")  # tests inject a stand-in

    @classmethod
    def of(cls, root: Path, results: Optional[Path] = None) -> Sources:
        root = root.resolve()
        return cls(
            root,
            (results or root / "results").resolve(),
            root / "asv.conf.json",
            root / "mkdocs.yml",
        )


def run_tool(command: Sequence[str], what: str, cwd: Path) -> None:
    done = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise OrmGcError(f"{what} failed (exit {done.returncode}): {last}")


def read_asv_conf(path: Path) -> dict:
    """asv.conf.json, whose lines may be // comments (asv allows them)."""
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(
            "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
        )
    except (OSError, ValueError) as exc:
        raise OrmGcError(f"cannot read {path}: {exc}") from None
