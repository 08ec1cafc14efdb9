"""Facts about tune texts the model and its evaluation share: header fields, body fingerprints.

A fingerprint identifies a tune's music regardless of its X: number, title and spacing, so
`eval abc` can tell verbatim copies of training tunes from the model file alone (the model file
stores the fingerprints of its training tunes).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

_FIELD = re.compile(r"^([A-Za-z]):(.*)$")


def header_field(text: str, letter: str) -> str | None:
    """The value of the first `letter:` field line in the tune's header (up to and with K:)."""
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match and match[1] == letter:
            return match[2].strip()
        if match and match[1] == "K":
            return None
    return None


def tune_body(text: str) -> str:
    """The music after the K: line, comments and whitespace removed ("" without a K: line)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("K:"):
            body = (ln.split("%", 1)[0] for ln in lines[i + 1:])
            return "".join("".join(ln.split()) for ln in body)
    return ""


def fingerprint(text: str) -> str:
    """16 hex digits of the tune body's hash ("" for a tune without a body)."""
    body = tune_body(text)
    return hashlib.sha1(body.encode("utf-8")).hexdigest()[:16] if body else ""


def histogram(values: Iterable[str | None]) -> dict[str, int]:
    """Counts, most common first; missing values count as "(none)"."""
    return dict(Counter(v if v else "(none)" for v in values).most_common())
