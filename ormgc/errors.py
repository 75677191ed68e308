"""Errors the CLI turns into one line and a non-zero exit (never a traceback)."""

import argparse
from typing import NoReturn


class OrmGcError(Exception):
    """A problem the user can act on."""

    exit_code = 1


class UsageError(OrmGcError):
    """Bad input on the command line."""

    exit_code = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def interrupt(signum: int, frame: object) -> NoReturn:
    """SIGTERM handler: stop like Ctrl-C, so workers are stopped and nothing is written."""
    raise KeyboardInterrupt
