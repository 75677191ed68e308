"""Errors the CLI turns into one line and a non-zero exit (never a traceback)."""


class OrmGcError(Exception):
    """A problem the user can act on."""

    exit_code = 1


class UsageError(OrmGcError):
    """Bad input on the command line."""

    exit_code = 2
