"""Text for a terminal: its width, tables that fit it, prose wrapped to it, colour or not.

Hand-written rather than ``rich``: fitting a table here means choosing which columns to show
(the ones that answer the question first), which is ours to decide; rich fits a table by
squeezing every column, ellipsising or wrapping cells over several lines ("0.90 [0.78, 1.02]
n.s." becomes four lines of "0.…"), the very rows the compact view exists to avoid. What rich
would add beyond that (colour, ``NO_COLOR``, the terminal's width) is the few lines below
(docs/getting-started.md, "Why the tables are not drawn with rich").
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from typing import IO, List, Optional, Sequence, Tuple

GAP = "  "
NARROWEST = 40  # below this the tables are not made to fit (nothing useful would remain)


def terminal_width() -> int:
    """The terminal's columns (``$COLUMNS`` first), 80 when stdout is not a terminal."""
    return max(NARROWEST, shutil.get_terminal_size((80, 24)).columns)


def is_terminal(stream: Optional[IO[str]] = None) -> bool:
    isatty = getattr(sys.stdout if stream is None else stream, "isatty", None)
    return bool(isatty and isatty())


def use_colour(stream: Optional[IO[str]] = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return is_terminal(stream) and os.environ.get("TERM") != "dumb"


def bold(text: str, colour: bool) -> str:
    return f"\033[1m{text}\033[0m" if colour and text else text


def dim(text: str, colour: bool) -> str:
    return f"\033[2m{text}\033[0m" if colour and text else text


def wrap(text: str, width: Optional[int], indent: str = "") -> str:
    """Each line of ``text`` wrapped to ``width`` (None: left as it is), continuation lines
    indented by ``indent``; long words (paths, URLs) are broken rather than overflow."""
    if width is None:
        return text
    lines = []
    for line in text.splitlines() or [""]:
        lead = line[: len(line) - len(line.lstrip(" "))]
        lines.append(
            textwrap.fill(
                line,
                width,
                subsequent_indent=lead + indent,
                break_on_hyphens=False,
                drop_whitespace=True,
            )
            or line
        )
    return "\n".join(lines)


def wrap_phrases(text: str, width: Optional[int]) -> str:
    """A heading wrapped to ``width`` between its phrases (after ", " and "; "), so that "sqlite
    (in-process) 3.40.1" or "median of 5" stay on one line; a phrase wider than ``width`` is
    wrapped on its own."""
    if width is None:
        return text
    phrases = re.split(r"(?<=[,;]) ", text)
    lines = [""]
    for phrase in phrases:
        if lines[-1] and len(lines[-1]) + 1 + len(phrase) > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} {phrase}" if lines[-1] else phrase
    return "\n".join(wrap(line, width) for line in lines)


def wrap_parts(parts: Sequence[str], width: Optional[int], indent: str = "  ") -> str:
    """``parts`` joined by spaces, lines broken only between parts (an interval such as
    "[0.59, 0.66]" stays whole), continuation lines indented."""
    lines = [parts[0]]
    for part in parts[1:]:
        if width is None or len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] += " " + part
        else:
            lines.append(indent + part)
    return "\n".join(lines)


def _widths(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[int]:
    return [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]


def render(
    header: Sequence[str], rows: Sequence[Sequence[str]], colour: bool = False, dimmed=()
) -> str:
    """Left-aligned columns two spaces apart under a dashed rule (rows at ``dimmed`` indices
    dimmed when ``colour``)."""
    widths = _widths(header, rows)

    def line(cells: Sequence[str]) -> str:
        return GAP.join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip()

    lines = [bold(line(header), colour), GAP.join("-" * width for width in widths)]
    lines += [dim(line(row), colour and i in dimmed) for i, row in enumerate(rows)]
    return "\n".join(lines)


def _truncate(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: width - 3] + "..."


def fit(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    importance: Sequence[int],
    shrink: Optional[int] = None,
) -> Tuple[List[str], List[List[str]], List[str]]:
    """The columns that fit ``width``: taken in order of ``importance`` (column indices, the
    most important first), each one kept if the table with it still fits, then shown in their
    own order. Column ``shrink`` (e.g. a verdict), when it does not fit whole, is cut to the
    room left at its turn, with "...". Returns the header and rows kept and the names of the
    columns left out."""
    widths = _widths(header, rows)

    def total(columns: Sequence[int]) -> int:
        return sum(widths[i] for i in columns) + len(GAP) * (len(columns) - 1)

    kept: List[int] = []
    cut = None
    for index in importance:
        if total(kept + [index]) <= width:
            kept.append(index)
        elif index == shrink:  # cut to the room left at its turn
            room = width - total(kept) - (len(GAP) if kept else 0)
            if room >= max(len(header[shrink]), 11):
                widths[shrink] = cut = room
                kept.append(index)
    kept.sort()
    left_out = [header[i] for i in importance if i not in kept]
    rows_kept = [
        [_truncate(row[i], cut) if i == shrink and cut else row[i] for i in kept] for row in rows
    ]
    return [header[i] for i in kept], rows_kept, left_out
