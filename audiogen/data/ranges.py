"""Whole numbers and ranges as users type them in options: "24-84", "0-7,24,40-42"."""

from __future__ import annotations

import re

from audiogen.errors import AudiogenError


def parse_int_range(text: str, what: str, low: int, high: int) -> tuple[int, int]:
    """'24-84' or '60' -> (24, 84) / (60, 60), within [low, high]; AudiogenError naming `what` if not."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match:
        raise AudiogenError(f"{what}: expected a number or a range like 24-84, got {text!r}")
    first = int(match[1])
    last = int(match[2]) if match[2] is not None else first
    if not (low <= first <= last <= high):
        raise AudiogenError(f"{what}: {text.strip()!r} must lie within {low}-{high}, low end first")
    return first, last


def parse_int_list(text: str, what: str, low: int, high: int) -> list[int]:
    """'0-7,24,40-42' -> [0, 1, ..., 7, 24, 40, 41, 42]: sorted, distinct, within [low, high]."""
    values: set[int] = set()
    for part in text.split(","):
        if part.strip():
            first, last = parse_int_range(part, what, low, high)
            values.update(range(first, last + 1))
    if not values:
        raise AudiogenError(f"{what}: no numbers in {text!r}")
    return sorted(values)
