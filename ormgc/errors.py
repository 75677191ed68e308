"""Errors the CLI turns into one line and a non-zero exit (never a traceback)."""

import argparse
import re
from typing import Callable, NoReturn

# ASCII digits only (str.isdigit() and int() also take '²' or '٣'), and few enough for int().
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}\Z")


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


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 in ASCII digits, else one line."""
    if not _WHOLE_NUMBER.match(text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"need a whole number of at least 1, got {text!r}")
    return int(text)


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """argparse type: a whole number from ``low`` to ``high`` in ASCII digits, else one line."""

    def parse(text: str) -> int:
        if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"need a whole number from {low} to {high}, got {text!r}"
            )
        return int(text)

    return parse


def interrupt(signum: int, frame: object) -> NoReturn:
    """SIGTERM handler: stop like Ctrl-C, so workers are stopped and nothing is written."""
    raise KeyboardInterrupt
