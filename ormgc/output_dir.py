"""Output folders the suite builds whole (``ormgc report``, ``ormgc site``): never anyone else's.

``build_output_dir(target, kind, reads)`` is the one way to write such a folder. It refuses, with
one line (``UsageError``) and before any work:

- a ``target`` that is a file or a link;
- a non-empty folder that is not an earlier output of the same kind (ours carry a marker file,
  ``.ormgc-output``, whose first line names the kind: ``report``, ``site``);
- a folder that is, holds or is inside one of ``reads`` (the results the build reads).

The build goes into a temporary folder beside ``target`` (same file system); only when the body
finishes is the marker written and the folder renamed into place, the earlier output moved aside
and removed. An error or Ctrl-C removes the temporary folder and the parent folders the build
made, and leaves the earlier output whole; a kill leaves it whole too (and a hidden
``.<name>.ormgc-tmp-*`` folder beside it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Sequence

from ormgc.errors import OrmGcError, UsageError

MARKER = ".ormgc-output"


def marker_kind(folder: Path) -> str:
    """The kind named by ``folder``'s marker ('' if it has none: not ours)."""
    try:
        return (folder / MARKER).read_text(encoding="utf-8").split("\n", 1)[0].strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_dir(target: Path, kind: str, reads: Sequence[Path] = ()) -> Path:
    """``target`` resolved, or UsageError (one line) if building ``kind`` there could lose data."""
    if target.is_symlink():
        raise UsageError(f"refusing to write the {kind} to {target}: it is a link")
    if target.exists() and not target.is_dir():
        raise UsageError(f"refusing to replace {target}: it is a file, not an ormgc {kind}")
    resolved = target.resolve()
    for read in reads:
        read = read.resolve()
        if _within(resolved, read) or _within(read, resolved):
            raise UsageError(
                f"refusing to write the {kind} to {target}: it is, holds or is inside "
                f"the results it reads ({read})"
            )
    if resolved.is_dir() and any(resolved.iterdir()) and marker_kind(resolved) != kind:
        raise UsageError(
            f"refusing to replace {target}: a non-empty folder that is not an ormgc {kind} "
            f"(no {MARKER} naming '{kind}'); remove it or choose another folder"
        )
    return resolved


def _make_parents(folder: Path) -> List[Path]:
    """Create ``folder`` and its missing parents; the ones made, deepest first."""
    made = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        made.append(parent)
    for parent in reversed(made):
        parent.mkdir()
    return made


@contextmanager
def build_output_dir(target: Path, kind: str, reads: Sequence[Path] = ()) -> Iterator[Path]:
    """Yield an empty temporary folder to build ``kind`` into; on success it becomes ``target``.

    Refuses (``check_output_dir``) what is not ours to replace; see the module docstring.
    """
    resolved = check_output_dir(target, kind, reads)
    made: List[Path] = []
    try:
        made = _make_parents(resolved.parent)
        scratch = Path(tempfile.mkdtemp(prefix=f".{resolved.name}.ormgc-tmp-", dir=resolved.parent))
    except OSError as exc:
        _remove_empty(made)
        raise OrmGcError(f"cannot write the {kind} beside {target}: {exc.strerror}") from None
    try:
        yield scratch
        (scratch / MARKER).write_text(
            f"{kind}\nMade by ormgc: it replaces this folder whole when it rebuilds the {kind}.\n",
            encoding="utf-8",
        )
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(scratch, 0o777 & ~umask)  # as mkdir would have made it, not mkdtemp's 0700
        check_output_dir(target, kind, reads)  # again: it may have changed during the build
        _swap_in(scratch, resolved)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        _remove_empty(made)
        raise


def _swap_in(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``; an earlier output (ours) is moved aside, then removed."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.ormgc-old-", dir=target.parent))
        old.rmdir()  # a unique name to rename into
        target.rename(old)
    try:
        new.rename(target)
    except OSError as exc:
        if old is not None:
            old.rename(target)
        raise OrmGcError(f"cannot put the new folder at {target}: {exc.strerror}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_empty(made: Sequence[Path]) -> None:
    for folder in made:  # deepest first; only if still empty
        try:
            folder.rmdir()
        except OSError:
            break
