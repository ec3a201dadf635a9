"""The errors a user can fix, each a one-line message saying what to change, and how they end a run.

Entry points catch `UserError` (and only it) and print its line: the runner exits 2 (`exit_with`);
`python -m experiments.fetch` exits with a data error's own code (3 missing, 4 damaged), so `make
reproduce` can skip an experiment whose data it cannot use.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


class UserError(Exception):
    """An error whose message (one line) says what to change; no traceback is shown for it."""

    exit_code = 2


class ConfigError(UserError, ValueError):
    """A configuration that cannot run."""


class DataError(UserError, RuntimeError):
    """A task's data set that cannot be used."""


class DataMissing(DataError):
    """The data set's files are absent and cannot be downloaded."""

    exit_code = 3


class DataDamaged(DataError):
    """A file of the data set is present but truncated, corrupt or fails verification."""

    exit_code = 4


def exit_with(error: Exception, code: int = 2) -> NoReturn:
    """A user error: its one line on stderr and exit `code` (the runner's: 2 for every user error), no
    traceback; with HYDRA_FULL_ERROR=1 (Hydra's own switch) the error is raised instead, traceback and all."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise error
    print(f"error: {error}", file=sys.stderr)
    sys.exit(code)


def first_line(error: Exception) -> str:
    """The first line of an error's message, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
