"""README's answer table, from the committed results (ormgc/views/site/answer.py).

``python scripts/readme_answer.py`` prints the block; ``--write`` puts it between the
``<!-- answer:begin -->`` and ``<!-- answer:end -->`` marks of README.md and docs/index.md (the
docs' front page shows the same answer); ``--check`` exits 1 when one of them holds something
else (tests/test_docs.py does the same in memory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ormgc.errors import OrmGcError
from ormgc.results import write_atomic
from ormgc.views.site.answer import ANSWER_PAGES, block, replace_block

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument(
        "--page", type=Path, action="append", help="default: README.md and docs/index.md"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="rewrite README's answer block")
    what.add_argument("--check", action="store_true", help="exit 1 if README's block differs")
    args = parser.parse_args()
    pages = args.page or [ROOT / path for path in ANSWER_PAGES]
    try:
        inner = block(args.results)
        if not (args.write or args.check):
            print(inner, end="")
            return 0
        texts = {page: page.read_text() for page in pages}
        updated = {page: replace_block(text, inner) for page, text in texts.items()}
    except (OrmGcError, OSError) as exc:
        print(f"readme_answer: error: {exc}", file=sys.stderr)
        return 1
    stale = [page for page in pages if updated[page] != texts[page]]
    if args.check:
        for page in stale:
            print(f"{page}: the answer block differs from the results", file=sys.stderr)
        return 1 if stale else 0
    for page in stale:
        write_atomic(page, lambda out, text=updated[page]: out.write(text))
        print(f"wrote {page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
