"""A generated block of a docs page: what lies between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->``, written from the committed results and checked by the tests.

``replace_block`` puts new text there (README's answer, the served and release findings);
``table_script`` is the whole body of a ``scripts/<name>_table.py``: print the block, or
``--write`` it into the page, or ``--check`` that the page holds it (exit 1 if not).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from ormgc.errors import OrmGcError
from ormgc.results import write_atomic


def replace_block(text: str, inner: str, begin: str, end: str) -> str:
    """``text`` with what lies between the marks replaced by ``inner``."""
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
    if len(pattern.findall(text)) != 1:
        raise OrmGcError(f"the page needs exactly one {begin} ... {end} block")
    return pattern.sub(lambda _: f"{begin}\n{inner}{end}", text)


def table_script(
    name: str,
    description: str,
    page: Path,
    marks: Sequence[str],
    block: Callable[[Path], str],
    results: Path,
    argv: Optional[Sequence[str]] = None,
) -> int:
    """Print ``block(results)``, or write it between ``marks`` of ``page`` (--write), or exit 1
    when the page holds something else (--check)."""
    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument("--results", type=Path, default=results)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="rewrite the page's table")
    what.add_argument("--check", action="store_true", help="exit 1 if the page's table differs")
    args = parser.parse_args(argv)
    try:
        inner = block(args.results)
        if not (args.write or args.check):
            print(inner, end="")
            return 0
        text = page.read_text()
        updated = replace_block(text, inner, *marks)
    except (OrmGcError, OSError) as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if updated != text:
            print(f"{page}: the table differs from {args.results}", file=sys.stderr)
        return int(updated != text)
    if updated != text:
        write_atomic(page, lambda out: out.write(updated))
        print(f"wrote {page}", file=sys.stderr)
    return 0
