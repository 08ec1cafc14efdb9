"""Loading an ABC model file: the bundled default or a user's, checked to be of this family."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from audiogen.abc.model import CharLSTM
from audiogen.abc.config import KIND, model_config
from audiogen.abc.vocab import CharVocab

BUNDLED_NAME = "abc.safetensors"


@dataclass
class AbcModel:
    model: CharLSTM          # in eval mode, on `device`
    vocab: CharVocab
    path: Path
    sha256: str
    config: dict             # the training config saved in the file
    extra: dict              # val_bpc, train_tunes, trained_steps, ...


def load_abc_model(path: str | os.PathLike | None = None, device: torch.device | str = "cpu") -> AbcModel:
    """The model in `path`, or the bundled `abc.safetensors` when None.

    BadInputError for a missing/corrupt file or one of another model family; AudiogenError when
    no path is given and no bundled model exists.
    """
    from audiogen.errors import BadInputError
    from audiogen.runtime.modelfile import load_family_model

    vocabs: list[CharVocab] = []

    def build(loaded):
        if not isinstance(loaded.extra.get("vocab"), str):
            raise BadInputError(loaded.path, "ABC model file without a vocabulary (audiogen.vocab)")
        vocabs.append(CharVocab.from_json(loaded.extra["vocab"]))
        return CharLSTM(model_config(loaded.config, len(vocabs[0])))

    model, loaded = load_family_model(path, kind=KIND, bundled_name=BUNDLED_NAME, device=device, build=build)
    return AbcModel(model, vocabs[0], loaded.path, loaded.sha256, loaded.config, loaded.extra)
