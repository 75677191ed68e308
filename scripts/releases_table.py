"""The release history findings, from results/asv-releases (ormgc/views/tables/releases.py).

``python scripts/releases_table.py`` prints it; ``--write`` puts it between the marks of
docs/findings/releases.md; ``--check`` exits 1 when the page holds something else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ormgc.errors import OrmGcError
from ormgc.results import write_atomic
from ormgc.views.tables.releases import PAGE, block, replace_block

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="rewrite the page's table")
    what.add_argument("--check", action="store_true", help="exit 1 if the page's table differs")
    args = parser.parse_args()
    page = ROOT / PAGE
    try:
        inner = block(args.results)
        if not (args.write or args.check):
            print(inner, end="")
            return 0
        text = page.read_text()
        updated = replace_block(text, inner)
    except (OrmGcError, OSError) as exc:
        print(f"releases_table: error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if updated != text:
            print(f"{page}: the table differs from results/asv-releases", file=sys.stderr)
        return int(updated != text)
    if updated != text:
        write_atomic(page, lambda out: out.write(updated))
        print(f"wrote {page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
