"""Pictures of translations: log-magnitude spectrograms stacked on one time axis."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from audiogen.translate.data import Representation


def draw_spectrograms(path: Path, panels: Sequence[tuple[str, torch.Tensor]], rep: Representation, title: str) -> Path:
    """One picture of log-magnitude panels [(title, (2, frames, bins) normalised)], stacked, each
    drawn from its peak down 80 dB; the format follows the extension."""
    from audiogen.dsp.mel import bin_frequencies
    from audiogen.dsp.normalize import denormalize_specgram
    from audiogen.plotting import plot_panels

    config = rep.spec_config(rep.samples_for_frames(panels[0][1].shape[-2]))
    freqs = bin_frequencies(config)
    times = np.arange(panels[0][1].shape[-2]) * rep.hop / rep.sample_rate
    drawn = []
    for name, spec in panels:
        magnitude = denormalize_specgram(spec.float().cpu(), rep.normalizer)[0].numpy()
        db = magnitude.T * (20 / math.log(10))
        drawn.append({"image": db, "times": times, "freqs": freqs, "label": "dB", "title": name,
                      "vmin": float(db.max()) - 80.0, "vmax": float(db.max())})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return plot_panels(path, drawn, title=title)
