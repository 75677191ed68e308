"""The release history findings, from results/asv-releases (ormgc/views/tables/releases.py).

``python scripts/releases_table.py`` prints it; ``--write`` puts it between the marks of
docs/findings/releases.md; ``--check`` exits 1 when the page holds something else.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ormgc.views.page_block import table_script
from ormgc.views.tables.releases import BEGIN, END, PAGE, block

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    line = __doc__.splitlines()[0]
    results = ROOT / "results"
    sys.exit(table_script("releases_table", line, ROOT / PAGE, (BEGIN, END), block, results))
