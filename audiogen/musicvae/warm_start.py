"""Warm start: a new MusicVAE begins with the tensors it shares with a trained one (e.g. 2 bars -> 16 bars).

A tensor is copied when the trained model has one of the same name and shape. With `--config 16bar`
and the bundled 2-bar model that is the event embedding and the LSTM of the encoder (run over each
bar by the per-bar encoder) and the whole bar decoder (its conditioning, the conductor output, has
the 2-bar latent's size); the conductor, the LSTM over bar summaries and the latent layers start
fresh.
"""

from __future__ import annotations

import torch
from torch import nn

from audiogen.errors import BadInputError


def copy_shared_tensors(model: nn.Module, source: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Copy every tensor of `source` whose name and shape `model` has; returns (copied, left as they were)."""
    copied, kept = [], []
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            found = source.get(name)
            if found is not None and found.shape == tensor.shape:
                tensor.copy_(found.to(dtype=tensor.dtype, device=tensor.device))
                copied.append(name)
            else:
                kept.append(name)
    return copied, kept


def warm_start(model: nn.Module, source) -> dict:
    """Start `model` from `source`, a MusicVAE model file or an already loaded `MusicVAEModel`; returns
    {"model", "sha256", "copied", "fresh", "copied_parameters"}. BadInputError when the file is not a
    MusicVAE model or shares no weight matrix."""
    from audiogen.musicvae.load import MusicVAEModel, load_musicvae_model

    loaded = source if isinstance(source, MusicVAEModel) else load_musicvae_model(source)
    path = loaded.path
    copied, fresh = copy_shared_tensors(model, loaded.model.state_dict())
    shapes = model.state_dict()
    if not any(shapes[name].dim() >= 2 for name in copied):  # an output bias alone always matches
        raise BadInputError(path, "shares no weight matrix of the same name and shape with this config "
                                  "(--warm-start needs matching embed, encoder_hidden, decoder sizes)")
    return {"model": str(loaded.path), "sha256": loaded.sha256, "copied": copied, "fresh": fresh,
            "copied_parameters": int(sum(shapes[n].numel() for n in copied))}
