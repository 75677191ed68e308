"""README's answer table, from the committed results (ormgc/views/answer.py).

``python scripts/readme_answer.py`` prints the block; ``--write`` puts it between README's
``<!-- answer:begin -->`` and ``<!-- answer:end -->`` marks; ``--check`` exits 1 when README
holds something else (tests/test_docs.py does the same in memory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ormgc.errors import OrmGcError
from ormgc.results import write_atomic
from ormgc.views.answer import block, replace_block

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="rewrite README's answer block")
    what.add_argument("--check", action="store_true", help="exit 1 if README's block differs")
    args = parser.parse_args()
    try:
        inner = block(args.results)
        if not (args.write or args.check):
            print(inner, end="")
            return 0
        text = args.readme.read_text()
        updated = replace_block(text, inner)
    except (OrmGcError, OSError) as exc:
        print(f"readme_answer: error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if updated != text:
            print(f"{args.readme}: the answer block differs from the results", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        write_atomic(args.readme, lambda out: out.write(updated))
        print(f"wrote {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
