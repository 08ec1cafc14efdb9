"""Errors a user can fix. The CLI turns them into one line on stderr and exit code 2."""

from __future__ import annotations

import os
from pathlib import Path


class AudiogenError(Exception):
    """Bad usage or bad input: the run cannot go on, and the message says why in one line."""

    exit_code = 2


class BadInputError(AudiogenError):
    """A file (or directory) given by the user cannot be used; the message names it."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def require_file(path: str | os.PathLike, expected: str) -> Path:
    """`path` as a Path when it names an existing, non-empty file; else BadInputError.

    `expected` completes "is a directory, expected ..." (e.g. "an audio file").
    """
    import stat

    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "no such file")
    if path.is_dir():
        raise BadInputError(path, f"is a directory, expected {expected}")
    if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the reader for ever
        raise BadInputError(path, f"not a regular file (a pipe, device or socket), expected {expected}")
    if path.stat().st_size == 0:
        raise BadInputError(path, "empty file")
    return path


_PICKLE_HINTS = ("Weights only load failed", "weights_only", "Unsupported global", "allow_pickle", "pickle")


def load_failure_reason(error: BaseException) -> str:
    """Why a checkpoint or array file did not load, in one line, without the loaders' advice to
    load it unsafely (PyTorch's "weights_only=False", NumPy's "allow_pickle=True")."""
    text = str(error)
    if any(hint in text for hint in _PICKLE_HINTS):
        return "it holds pickled Python objects, which audiogen never writes: not a file audiogen wrote (refused unread)"
    return " ".join(text.split()) or type(error).__name__
