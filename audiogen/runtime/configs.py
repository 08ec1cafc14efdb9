"""Configs are frozen dataclasses saved as JSON (run folders, model files); this reads them back."""

from __future__ import annotations

import dataclasses


def dataclass_from_dict(cls, data: dict):
    """`cls(**data)` keeping only `cls`'s fields (files written by other versions may hold more or
    fewer) and turning JSON lists back into tuples where the field's default is a tuple."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if isinstance(f.default, tuple) and isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return cls(**values)
