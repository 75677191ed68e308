"""Database URLs as they may appear in output: passwords never do."""

from __future__ import annotations

import re

# The password runs to the last '@' of the authority part, so that an unencoded '@' in it
# leaves no tail visible ("u:p@ss@host" masks "p@ss", whatever a parser makes of it).
_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*(?:@[^@/?#\s]*)*)(?P<at>@)", re.I
)
# ...and as a parameter: ?password=..., &password=..., or libpq's "password=... host=...".
_PASSWORD_PARAMETER = re.compile(r"(?P<head>\bpassword=)(?P<password>[^&\s]*)", re.I)


def mask_password(text: str) -> str:
    """Replace the password of every URL (or password= parameter) in ``text`` by ``***``."""
    text = _PASSWORD.sub(lambda m: m.group("head") + "***" + m.group("at"), text)
    return _PASSWORD_PARAMETER.sub(lambda m: m.group("head") + "***", text)
