"""Database URLs as they may appear in output: passwords never do."""

from __future__ import annotations

import re

_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<at>@)", re.I
)


def mask_password(text: str) -> str:
    """Replace the password of every URL in ``text`` by ``***``."""
    return _PASSWORD.sub(lambda m: m.group("head") + "***" + m.group("at"), text)
