"""Bar forms: which bars of a melody repeat which earlier bar, read from the training tunes and drawn
when sampling, so that new 16-bar melodies repeat bars as tunes do (docs/design.md §8).

A form is (bars,) int: entry j is the first earlier bar that bar j equals step for step (and that
has a note onset), or j itself. A folk tune played AABB with an 8-bar A part has form
[0..7, 0..7] for a window over both As. The model's conductor does not give two bars of a prior
sample near-equal codes, so nothing repeats on its own; sampling draws the form of a random
training window and plays each repeated bar again (`generate.play_forms`). A hierarchical model
decodes every bar on its own from its conductor code, so the copy leaves the next bar's decoding
as it was; a flat decoder's next bar follows the events it wrote, so flat models get no forms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audiogen.data.melody import FIRST_NOTE_ON, PAD, SEGMENT_STEPS

FORMS_PER_METER = 500   # forms kept per meter (a random choice of the training windows in it)
MIN_FORMS = 50          # fewer windows in a meter than this: its samples draw from every meter's forms
TENSOR_PREFIX = "forms."


def bar_forms(events: np.ndarray) -> np.ndarray:
    """(N, T) melodies -> (N, bars) int64: for each bar the first earlier bar it equals (with a note
    onset), else itself."""
    bars = np.asarray(events).astype(np.int64).reshape(len(events), -1, SEGMENT_STEPS)
    count = bars.shape[1]
    sounding = ((bars >= FIRST_NOTE_ON) & (bars < PAD)).any(axis=-1)
    forms = np.tile(np.arange(count), (len(bars), 1))
    for j in range(1, count):
        for i in range(j - 1, -1, -1):  # the first (earliest) match wins: scan down, keep overwriting
            same = (bars[:, i] == bars[:, j]).all(axis=-1) & sounding[:, j]
            forms[same, j] = forms[same, i]
    return forms


@dataclass
class BarForms:
    """Forms (M, bars) int64 of training windows, each with its meter: `meters[meter_index[m]]`."""

    forms: torch.Tensor
    meter_index: torch.Tensor
    meters: list[str]

    def draw(self, count: int, generator: torch.Generator, meter: str | None = None) -> torch.Tensor:
        """(count, bars) int64 forms drawn uniformly from the training windows in `meter` (every
        meter when None or when the training data had fewer than MIN_FORMS windows in it)."""
        pool = torch.arange(len(self.forms))
        if meter is not None and meter in self.meters:
            in_meter = torch.nonzero(self.meter_index == self.meters.index(meter)).reshape(-1)
            if len(in_meter) >= MIN_FORMS:
                pool = in_meter
        picks = torch.randint(len(pool), (count,), generator=generator, device=generator.device).cpu()
        return self.forms[pool[picks]]

    def tensors(self) -> dict[str, torch.Tensor]:
        return {TENSOR_PREFIX + "forms": self.forms.to(torch.int16).cpu(),
                TENSOR_PREFIX + "meter_index": self.meter_index.to(torch.int16).cpu()}

    @classmethod
    def from_file(cls, tensors: dict[str, torch.Tensor], meters: list[str] | None) -> "BarForms | None":
        """The forms a model file stores (tensors plus the meter names of its `sampling` metadata), or None."""
        forms, index = tensors.get(TENSOR_PREFIX + "forms"), tensors.get(TENSOR_PREFIX + "meter_index")
        if forms is None or index is None or meters is None:
            return None
        return cls(forms.long(), index.long(), list(meters))


def fit_forms(events: np.ndarray, meters: np.ndarray, seed: int = 0) -> BarForms:
    """The forms of up to FORMS_PER_METER training windows of each meter (a seeded random choice).

    events (N, T) training windows, meters (N,) str their meters.
    """
    rng = np.random.default_rng(seed)
    names, rows = [], []
    for meter in sorted(set(np.asarray(meters).tolist())):
        found = np.flatnonzero(np.asarray(meters) == meter)
        chosen = np.sort(rng.permutation(found)[:FORMS_PER_METER])
        names.append(meter)
        rows.append(chosen)
    index = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)]) if rows else np.zeros(0, int)
    picked = np.concatenate(rows) if rows else np.zeros(0, int)
    forms = bar_forms(np.asarray(events)[picked]) if len(picked) else np.zeros((0, 1), int)
    return BarForms(torch.as_tensor(forms), torch.as_tensor(index), names)
