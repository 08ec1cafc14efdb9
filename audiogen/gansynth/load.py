"""Loading a GANSynth model file: the EMA generator plus the layout and pitch range it was trained on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from audiogen.dsp.config import SpecgramConfig
from audiogen.dsp.normalize import Normalizer
from audiogen.gansynth.model import Generator
from audiogen.gansynth.config import KIND, GANSynthTrainConfig, config_from_dict, model_config, normalizer, spectral_config

BUNDLED_NAME = "gansynth.safetensors"


@dataclass
class GANSynthModel:
    generator: Generator      # the EMA generator, in eval mode on `device`
    path: Path
    sha256: str
    config: GANSynthTrainConfig
    extra: dict
    spec: SpecgramConfig
    norm: Normalizer
    level: int                # the resolution level training had reached
    alpha: float

    @property
    def model(self) -> Generator:
        """The network, by the name every family's loaded model uses (`.model`)."""
        return self.generator

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    @property
    def pitch_range(self) -> tuple[int, int]:
        return self.config.pitch_min, self.config.pitch_max

    @property
    def sample_rate(self) -> int:
        return self.spec.sample_rate


def load_gansynth_model(path: str | os.PathLike | None = None, device: torch.device | str = "cpu") -> GANSynthModel:
    """The model in `path`, or the bundled `gansynth.safetensors` when None.

    BadInputError for a missing/corrupt file, one of another model family or weights that do not
    fit its config.
    """
    from audiogen.runtime.modelfile import load_family_model

    generator, loaded = load_family_model(path, kind=KIND, bundled_name=BUNDLED_NAME, device=device,
                                          build=lambda f: Generator(model_config(config_from_dict(f.config))))
    config = config_from_dict(loaded.config)
    levels = len(config.channels)
    return GANSynthModel(generator, loaded.path, loaded.sha256, config, loaded.extra, spectral_config(config),
                         normalizer(config), int(loaded.extra.get("level", levels - 1)),
                         float(loaded.extra.get("alpha", 1.0)))
