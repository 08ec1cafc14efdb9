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


@dataclasses.dataclass(frozen=True)
class Bounds:
    """What a config value may be: `low`/`high` (inclusive unless `*_open`); floats must be finite."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def problem(self, value) -> str | None:
        """Why `value` is out of bounds ("must be at least 1"), or None when it is fine."""
        import math

        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return f"must be {'greater than' if self.low_open else 'at least'} {self.low:g}"
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return f"must be {'less than' if self.high_open else 'at most'} {self.high:g}"
        return None


def check_bounds(config, bounds: dict[str, Bounds], *, name=lambda key: f"--set {key}") -> None:
    """AudiogenError "--set KEY=VALUE: must be ..." for the first field of `config` outside its
    bounds; float fields without bounds must still be finite."""
    from audiogen.errors import AudiogenError

    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        problem = bounds.get(f.name, Bounds()).problem(value)
        if problem:
            raise AudiogenError(f"{name(f.name)}={value}: {problem}")
