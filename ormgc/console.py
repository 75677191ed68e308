"""The ``ormgc`` command's entry point: Ctrl-C while the suite is still loading (its imports
take a moment) is the same one line as later on, not a traceback."""

from __future__ import annotations

import sys
from typing import List, Optional

INTERRUPTED = "ormgc: interrupted; no result written"


def main(argv: Optional[List[str]] = None) -> int:
    try:
        from ormgc.cli import main as cli_main
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    return cli_main(argv)
