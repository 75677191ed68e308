"""The served findings' table, from the committed results (ormgc/views/tables/served_summary.py).

``python scripts/served_table.py`` prints it; ``--write`` puts it between the marks of
docs/findings/served.md; ``--check`` exits 1 when the page holds something else.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ormgc.views.page_block import table_script
from ormgc.views.tables.served_summary import BEGIN, END, PAGE, block

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    line = __doc__.splitlines()[0]
    results = ROOT / "results"
    sys.exit(table_script("served_table", line, ROOT / PAGE, (BEGIN, END), block, results))
