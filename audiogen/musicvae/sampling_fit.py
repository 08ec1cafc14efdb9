"""What a MusicVAE model file carries for sampling, fitted on its training windows at export: the
Gaussian of the training codes (`musicvae.prior`) and, for a hierarchical model, the bar forms of
training windows (`musicvae.forms`)."""

from __future__ import annotations

import numpy as np
import torch

from audiogen.musicvae.forms import fit_forms
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.prior import fit_prior

FIT_WINDOWS = 20000  # training windows (a seeded random choice) whose codes the prior is fitted to


@torch.no_grad()
def fit_sampling(model: MusicVAE, events: np.ndarray, meters: np.ndarray, *, seed: int = 0,
                 batch_size: int = 512) -> tuple[dict[str, torch.Tensor], dict]:
    """Training windows events (N, T), their meters (N,) -> (the tensors to store, the `sampling` metadata).

    The metadata records what was fitted: {"prior": "fitted", "prior_windows", "forms", "form_meters"}.
    """
    from audiogen.musicvae.generate import encode

    was_training = model.training
    model.eval()
    rows = np.sort(np.random.default_rng(seed).permutation(len(events))[:FIT_WINDOWS])
    mu, sigma = [], []
    for start in range(0, len(rows), batch_size):
        m, s = encode(model, np.asarray(events)[rows[start:start + batch_size]])
        mu.append(m.float().cpu())
        sigma.append(s.float().cpu())
    model.train(was_training)
    prior = fit_prior(torch.cat(mu), torch.cat(sigma))
    tensors = prior.tensors()
    meta: dict = {"prior": "fitted", "prior_windows": int(len(rows))}
    if model.config.hierarchical:  # a flat decoder has no bar codes to tie
        forms = fit_forms(events, meters, seed)
        tensors.update(forms.tensors())
        meta.update(forms=int(len(forms.forms)), form_meters=forms.meters)
    return tensors, meta
