"""Loading a MusicVAE model file: the bundled 2-bar default or a user's, checked to be of this family,
with the latent prior fitted to its training codes (`musicvae.prior`) and the bar forms of its training
windows (`musicvae.forms`) when the file stores them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audiogen.musicvae.config import KIND, model_config
from audiogen.musicvae.forms import BarForms
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.prior import FittedPrior

BUNDLED_NAME = "musicvae-2bar.safetensors"


@dataclass
class MusicVAEModel:
    model: MusicVAE          # in eval mode, on `device`
    path: Path
    sha256: str
    config: dict             # the training config saved in the file
    extra: dict              # attributes, validation, trained_steps, ...
    prior: FittedPrior | None = None  # the fitted Gaussian of the training codes (None: N(0, I) only)
    forms: BarForms | None = None     # the bar forms of training windows (None: samples never repeat a bar)

    @property
    def bars(self) -> int:
        return self.model.config.bars

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def attribute_vectors(self) -> dict[str, np.ndarray]:
        """{attribute: (latent,) float32} as computed from the training data (may be empty)."""
        found = self.extra.get("attributes") or {}
        return {name: np.asarray(entry["vector"], dtype=np.float32) for name, entry in found.items()}


def load_musicvae_model(path: str | os.PathLike | None = None,
                        device: torch.device | str = "cpu") -> MusicVAEModel:
    """The model in `path`, or the bundled `musicvae-2bar.safetensors` when None.

    BadInputError for a missing/corrupt file, one of another model family or weights that do
    not fit its config.
    """
    from audiogen.runtime.modelfile import load_family_model

    model, loaded = load_family_model(path, kind=KIND, bundled_name=BUNDLED_NAME, device=device,
                                      build=lambda f: MusicVAE(model_config(f.config)))
    return MusicVAEModel(model, loaded.path, loaded.sha256, loaded.config, loaded.extra,
                         FittedPrior.from_tensors(loaded.tensors),
                         BarForms.from_file(loaded.tensors, (loaded.extra.get("sampling") or {}).get("form_meters")))
