"""What a MusicVAE model file carries for sampling, fitted on its training windows: the Gaussian of
the training codes (`musicvae.prior`) and, for a hierarchical model, the bar forms of training
windows (`musicvae.forms`). `train musicvae` fits them at export; `fit musicvae` (`refit_model_file`)
fits them for a model file that has none, leaving its weights and record as they are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audiogen.musicvae.forms import fit_forms
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.prior import fit_prior

FIT_WINDOWS = 20000  # training windows (a seeded random choice) whose codes the prior is fitted to


@dataclass
class SamplingFit:
    tensors: dict[str, torch.Tensor]  # prior.* and forms.* tensors for the model file
    meta: dict                        # the file's `sampling` metadata
    rows: np.ndarray                  # (M,) the training windows whose codes were fitted
    mu: np.ndarray                    # (M, latent) float32 their encoder means (attribute vectors reuse them)


@torch.no_grad()
def encoder_codes(model: MusicVAE, events: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """events (N, T) -> encoder (mu, sigma), each (N, latent) float32 on the CPU, in batches."""
    from audiogen.musicvae.generate import encode

    was_training = model.training
    model.eval()
    mu, sigma = [], []
    for start in range(0, len(events), batch_size):
        m, s = encode(model, np.asarray(events[start:start + batch_size]))
        mu.append(m.float().cpu().numpy())
        sigma.append(s.float().cpu().numpy())
    model.train(was_training)
    if not mu:
        return np.zeros((0, model.config.latent), np.float32), np.zeros((0, model.config.latent), np.float32)
    return np.concatenate(mu), np.concatenate(sigma)


def fit_sampling(model: MusicVAE, events: np.ndarray, meters: np.ndarray, *, seed: int = 0) -> SamplingFit:
    """Training windows events (N, T), their meters (N,) -> what sampling draws from.

    The metadata records what was fitted: {"prior": "fitted", "prior_windows", "forms",
    "form_meters"}; with fewer than 2 windows no prior is fitted ({"prior": "standard"}).
    AudiogenError when the codes are not finite (a diverged model).
    """
    from audiogen.errors import AudiogenError

    rows = np.sort(np.random.default_rng(seed).permutation(len(events))[:FIT_WINDOWS])
    mu, sigma = encoder_codes(model, np.asarray(events)[rows])
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise AudiogenError("the encoder gives non-finite codes for training windows: the model has diverged")
    tensors: dict[str, torch.Tensor] = {}
    meta: dict = {"prior": "standard", "prior_windows": int(len(rows))}
    if len(rows) >= 2:
        tensors.update(fit_prior(mu, sigma).tensors())
        meta["prior"] = "fitted"
    if model.config.hierarchical:  # each bar is decoded on its own: a copied bar leaves the next as it was
        forms = fit_forms(events, meters, seed)
        tensors.update(forms.tensors())
        meta.update(forms=int(len(forms.forms)), form_meters=forms.meters)
    return SamplingFit(tensors, meta, rows, mu)


def refit_model_file(model_path: str | os.PathLike, data, out: str | os.PathLike, *,
                     heldout_tunes: str | os.PathLike | None = None, track: int | None = None, skips=None,
                     seed: int | None = None) -> dict:
    """Write `out`: the model file `model_path` with its sampling (prior and forms) fitted on the
    windows of `data` (.npz window sets, MIDI/ABC files or folders), leaving out the melodies of
    the window set `heldout_tunes`. Weights, config and the training record are copied unchanged.
    Returns {"out", "sampling", "windows", "melodies", "heldout_windows"}.
    """
    from audiogen.data.skips import SkipLog
    from audiogen.musicvae.config import KIND, config_from_dict
    from audiogen.musicvae.data import read_window_sets, split_by_names, subset
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.runtime.modelfile import rewrite_model

    loaded = load_musicvae_model(model_path)
    arrays = read_window_sets(data, loaded.bars, config_from_dict(loaded.config).hop_bars,
                              skips=skips if skips is not None else SkipLog(), track=track)
    held = 0
    if heldout_tunes is not None:
        rows, held_rows = split_by_names(arrays, heldout_tunes)
        arrays, held = subset(arrays, rows), len(held_rows)
    if seed is None:  # as the export at the end of training draws them
        seed = config_from_dict(loaded.config).seed
    fitted = fit_sampling(loaded.model, arrays["events"], arrays["meter"], seed=seed)
    rewrite_model(loaded.path, out, kind=KIND, extra={"sampling": fitted.meta},  # an earlier fit's are replaced
                  tensors={k: v.to(torch.float16) if v.is_floating_point() else v for k, v in fitted.tensors.items()})
    return {"out": str(Path(out)), "sampling": fitted.meta, "windows": int(len(arrays["events"])),
            "melodies": int(len(np.unique(arrays["source"]))), "heldout_windows": int(held)}
