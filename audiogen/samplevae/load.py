"""Loading a SampleVAE model file: the bundled drum model or a user's, checked to be of this family."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from audiogen.samplevae.data import FeatureConfig
from audiogen.samplevae.model import SampleVAE
from audiogen.samplevae.config import KIND, feature_config, model_config

BUNDLED_NAME = "samplevae-drums.safetensors"


@dataclass
class SampleVAEModel:
    model: SampleVAE          # in eval mode, on `device`
    path: Path
    sha256: str
    config: dict              # the training config saved in the file
    extra: dict
    features: FeatureConfig
    classes: list[str]        # [] when the model has no class head

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def sample_rate(self) -> int:
        return self.features.sample_rate

    @property
    def latent(self) -> int:
        return self.model.config.latent


def load_samplevae_model(path: str | os.PathLike | None = None,
                         device: torch.device | str = "cpu") -> SampleVAEModel:
    """The model in `path`, or the bundled `samplevae-drums.safetensors` when None.

    BadInputError for a missing/corrupt file, one of another model family or weights that do
    not fit its config.
    """
    from audiogen.runtime.modelfile import load_family_model

    model, loaded = load_family_model(
        path, kind=KIND, bundled_name=BUNDLED_NAME, device=device,
        build=lambda f: SampleVAE(model_config(f.config, len(f.config.get("classes") or []))))
    return SampleVAEModel(model, loaded.path, loaded.sha256, loaded.config, loaded.extra,
                          feature_config(loaded.config), list(loaded.config.get("classes") or []))
