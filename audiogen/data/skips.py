"""What a batch job over many files does with one it cannot use (docs/design.md §2).

It skips the file with a one-line warning naming the file and the problem, finishes the rest and
reports the count; with ``strict`` the first bad file ends the run (exit 2) instead.
"""

from __future__ import annotations

import os
from collections import Counter

from audiogen.errors import BadInputError

MAX_WARNINGS = 20  # beyond this, one closing line counts the rest (all are in `skipped`)


class SkipLog:
    """Collects the files a job skipped, warning on stderr as it goes.

    ``skip(path, problem)`` raises BadInputError when strict, else records and warns.
    ``skipped`` holds every (path, problem); ``reasons`` counts them by problem kind.
    """

    def __init__(self, *, strict: bool = False, warn: bool = True, asked: bool | None = None):
        self.strict = strict
        # whether the user typed --strict (a job may be strict by itself, e.g. for one input file)
        self.asked = strict if asked is None else asked
        self.warn = warn
        self.skipped: list[tuple[str, str]] = []
        self.reasons: Counter[str] = Counter()

    def skip(self, path: str | os.PathLike, problem: str, *, kind: str | None = None) -> None:
        """Skip `path`; `kind` (default: the problem text) groups similar problems in `reasons`."""
        if self.strict:
            raise BadInputError(path, problem + self.strict_mark)
        self.skipped.append((os.fspath(path), problem))
        self.reasons[kind or problem] += 1
        if self.warn and len(self.skipped) <= MAX_WARNINGS:
            warn(f"skipped {os.fspath(path)}: {problem}")
        elif self.warn and len(self.skipped) == MAX_WARNINGS + 1:
            warn("more files skipped; the summary counts them all")

    @property
    def strict_mark(self) -> str:
        """The mark ' (--strict)' after a problem that stopped the job because the user asked for it."""
        return " (--strict)" if self.asked else ""

    def __len__(self) -> int:
        return len(self.skipped)

    def to_dict(self) -> dict:
        """{"count", "reasons", "files": [{"path", "problem"}]} for --json output."""
        return {"count": len(self.skipped), "reasons": dict(self.reasons),
                "files": [{"path": p, "problem": why} for p, why in self.skipped]}


def warn(message: str) -> None:
    """One "audiogen: warning: ..." line on stderr, drawn above any live progress bar."""
    from audiogen.runtime.progress import stderr_console

    # Through the shared console so a live progress bar is redrawn below the warning.
    stderr_console().print(f"audiogen: warning: {message}", highlight=False, soft_wrap=True, markup=False)
