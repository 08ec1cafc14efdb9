"""Sampling, reconstruction, interpolation and attribute arithmetic with a trained MusicVAE.

Latent codes are (N, latent) float32 tensors on the model's device; event sequences are
(N, bars * 16) int64 (classes of `audiogen.data.melody`).
"""

from __future__ import annotations

import numpy as np
import torch

from audiogen.data.melody import PAD, SEGMENT_STEPS
from audiogen.errors import AudiogenError
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.forms import BarForms
from audiogen.musicvae.prior import FittedPrior, latent_codes

DEFAULT_TEMPERATURE = 0.5


def meter_layout(meter: str, bars: int) -> torch.Tensor:
    """The padding layout (T = bars*16,) bool of windows in a meter ("3/4": 12 real steps + 4 PAD a segment).

    A bar of more than 16 steps (9/8) fills one segment and continues in the next, as the data
    windows do. AudiogenError for a meter that is not N/D with D in 1, 2, 4, 8, 16 giving whole steps.
    """
    try:
        numerator, denominator = (int(part) for part in meter.split("/"))
    except ValueError:
        raise AudiogenError(f"--meter {meter!r}: expected N/D, e.g. 4/4, 3/4 or 6/8") from None
    if numerator < 1 or denominator not in (1, 2, 4, 8, 16):
        raise AudiogenError(f"--meter {meter!r}: the bar must be a whole number of 16th notes")
    bar_steps = numerator * 16 // denominator
    lengths: list[int] = []
    while len(lengths) < bars:
        left = bar_steps
        while left > 0 and len(lengths) < bars:
            lengths.append(min(left, SEGMENT_STEPS))
            left -= SEGMENT_STEPS
    return (torch.arange(SEGMENT_STEPS)[None, :] >= torch.tensor(lengths)[:, None]).reshape(-1)


def check_trained_meter(meter: str, trained: dict[str, int] | None) -> str:
    """`meter` when the model's training windows (`trained`: its meter histogram) had it, or when
    the model file does not say; else AudiogenError naming the meters it was trained on."""
    meter = meter.strip()
    if trained and meter not in trained:
        common = ", ".join(list(trained)[:8])
        raise AudiogenError(f"--meter {meter}: this model was not trained on {meter} bars (its meters: {common}, ...)")
    return meter


@torch.no_grad()
def encode(model: MusicVAE, events: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """events (N, T) -> encoder (mu, sigma), each (N, latent), on the model's device."""
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(events), dtype=torch.long, device=device)
    if x.ndim == 1:
        x = x[None]
    return model.encode(x)


@torch.no_grad()
def decode(model: MusicVAE, z: torch.Tensor, *, temperature: float = DEFAULT_TEMPERATURE,
           generator: torch.Generator | None = None, layout: torch.Tensor | None = None,
           batch_size: int = 1024) -> np.ndarray:
    """codes (N, latent) -> events (N, T) int8, decoded in batches; temperature 0 is greedy."""
    out = []
    for start in range(0, len(z), batch_size):
        out.append(model.sample(z[start:start + batch_size], temperature=temperature, generator=generator,
                                pad_layout=layout).to(torch.int8).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.steps), np.int8)


def apply_attributes(z: torch.Tensor, vectors: dict[str, np.ndarray], amounts: list[tuple[str, float]]) -> torch.Tensor:
    """z (N, Z) plus amount x attribute vector for each (name, amount)."""
    for name, amount in amounts:
        z = z + amount * torch.as_tensor(vectors[name], dtype=z.dtype, device=z.device)
    return z


def step_accuracy(predicted: np.ndarray, target: np.ndarray) -> float:
    """Share of the target's non-padding steps that `predicted` gets right (both (T,) or (N, T))."""
    real = np.asarray(target) != PAD
    return float((np.asarray(predicted) == np.asarray(target))[real].mean()) if real.any() else float("nan")


def play_forms(events: np.ndarray, forms: np.ndarray | torch.Tensor) -> np.ndarray:
    """events (N, bars * 16), forms (N, bars) -> events where bar j is bar forms[:, j] again, step
    for step (`musicvae.forms`). A chain (bar 3 -> bar 2 -> bar 0) plays the first bar; a repeat
    between two bars padded differently (a 9/8 bar's two segments, or bars the model laid out in
    two meters) is dropped."""
    events = np.asarray(events)
    forms = torch.as_tensor(forms, dtype=torch.long).cpu()
    for _ in range(forms.shape[1]):  # follow chains to their first bar
        forms = torch.gather(forms, 1, forms)
    bars = events.reshape(len(events), forms.shape[1], -1)
    rows = np.arange(len(events))[:, None]
    sources = forms.numpy()
    same_layout = ((bars == PAD) == (bars[rows, sources] == PAD)).all(axis=-1)
    sources = np.where(same_layout, sources, np.arange(forms.shape[1])[None, :])
    return bars[rows, sources].reshape(events.shape)


def sample_prior(model: MusicVAE, count: int, generator: torch.Generator, *, prior: str = "fitted",
                 fitted: FittedPrior | None = None, forms: BarForms | None = None, meter: str | None = None,
                 temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """`count` new melodies (count, T) int8: codes from `prior` ("fitted": the model file's `fitted`
    Gaussian, "standard": N(0, I)), decoded at `temperature` in `meter`'s layout (None: the model
    places padding), then played in the bar form of a training window (in `meter` when given) when
    the model file has `forms` (None: no repeats). What `sample musicvae`, `eval musicvae
    --samples` and the Python API's `sample` all call."""
    device = next(model.parameters()).device
    layout = None if meter is None else meter_layout(meter, model.config.bars)
    z = latent_codes(count, model.config.latent, generator, device, prior=prior, fitted=fitted)
    drawn = None if forms is None else forms.draw(count, generator, meter)
    events = decode(model, z, temperature=temperature, generator=generator, layout=layout)
    return events if drawn is None else play_forms(events, drawn)


def sample_new(loaded, count: int, generator: torch.Generator, *, prior: str = "fitted", repeats: bool = True,
               meter: str | None = None, temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """`sample_prior` with what a loaded model file (`load.MusicVAEModel`) carries: its fitted prior,
    and its bar forms unless `repeats` is False; `meter` must be one the model trained on."""
    if meter is not None:
        meter = check_trained_meter(meter, loaded.extra.get("meters"))
    return sample_prior(loaded.model, count, generator, prior=prior, fitted=loaded.prior,
                        forms=loaded.forms if repeats else None, meter=meter, temperature=temperature)
