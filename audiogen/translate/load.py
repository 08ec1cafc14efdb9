"""Loading a translate model file: the bundled piano -> violin model or a user's."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from audiogen.translate.data import Representation
from audiogen.translate.model import Translator
from audiogen.translate.config import KIND, config_from_dict, model_config, representation

BUNDLED_NAME = "translate-piano-violin.safetensors"


@dataclass
class TranslateModel:
    model: Translator         # in eval mode, on `device`
    path: Path
    sha256: str
    config: dict              # the training config saved in the file
    extra: dict
    rep: Representation

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def unpaired(self) -> bool:
        return self.model.ba is not None

    @property
    def crop_frames(self) -> int:
        return int(self.config.get("crop_frames", 128))

    def describe(self) -> str:
        """"Acoustic Grand Piano -> Violin" (what it was trained on), else "a -> b"."""
        programs = self.extra.get("programs") or {}
        if programs.get("name_a") and programs.get("name_b"):
            return f"{programs['name_a']} -> {programs['name_b']}"
        return "a -> b"


def load_translate_model(path: str | os.PathLike | None = None, device: torch.device | str = "cpu") -> TranslateModel:
    """The model in `path`, or the bundled piano -> violin model when None.

    BadInputError for a missing/corrupt file, one of another family, or weights that do not fit.
    """
    from audiogen.runtime.modelfile import load_family_model

    def build(loaded):
        config = config_from_dict(loaded.config)
        return Translator(model_config(config), cycle=loaded.extra.get("mode") == "unpaired")

    model, loaded = load_family_model(path, kind=KIND, bundled_name=BUNDLED_NAME, device=device, build=build)
    return TranslateModel(model, loaded.path, loaded.sha256, loaded.config, loaded.extra,
                          representation(config_from_dict(loaded.config)))
