"""MkDocs hook: the committed report's charts (results/report/*.png) join the docs as
images/report/*.png, so pages show the charts `ormgc report` drew without a copy in docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

REPORT = Path(__file__).resolve().parent.parent / "results" / "report"


def on_files(files: Files, config: Any) -> Files:
    for chart in sorted(REPORT.glob("*.png")):
        files.append(File.generated(config, f"images/report/{chart.name}", abs_src_path=str(chart)))
    return files
