"""Using a trained SampleVAE: embed clips, classify them, decode latents to audio, mix and
interpolate sounds.

Audio comes back from the log-mel picture through the spectral core: dB -> mel power -> linear
power (`mel_power_to_linear`) -> magnitude -> fast Griffin-Lim with hop n_fft/4 and GL_ITERATIONS
iterations (SampleVAE used 10, which leaves its generations noisy and banded).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from audiogen.samplevae.data import FeatureConfig, features
from audiogen.samplevae.model import SampleVAE

GL_ITERATIONS = 64
PEAK = 0.89  # -1 dBFS: generated clips have no absolute level of their own


@torch.no_grad()
def embed_clips(model: SampleVAE, clips: torch.Tensor, config: FeatureConfig, *,
                batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(N, samples) clips -> latent means (N, latent) float32 on CPU, and class probabilities
    (N, classes) (None without a class head). Runs on the model's device."""
    device = next(model.parameters()).device
    means, probs = [], []
    for start in range(0, len(clips), batch_size):
        x = features(clips[start:start + batch_size].to(device), config).contiguous(memory_format=torch.channels_last)
        mu, _ = model.encode(x)
        means.append(mu.float().cpu())
        if model.classifier is not None:
            probs.append(torch.softmax(model.classify(mu), dim=1).float().cpu())
    if not means:
        return torch.zeros(0, model.config.latent), (torch.zeros(0, model.config.classes) if model.classifier is not None else None)
    return torch.cat(means), (torch.cat(probs) if probs else None)


def pictures_to_audio(pictures: torch.Tensor, config: FeatureConfig, *, n_iter: int = GL_ITERATIONS,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, n_mels, frames) [0, 1] log-mel pictures -> (B, samples) audio peaking at PEAK."""
    from audiogen.dsp.griffin_lim import griffin_lim
    from audiogen.dsp.mel import mel_filterbank, mel_power_to_linear

    db = (pictures.squeeze(1).float() - 1.0) * config.top_db           # 0 dB at the clip's peak
    mel_power = torch.pow(10.0, db / 10.0)
    mel_power = torch.where(pictures.squeeze(1) > 0, mel_power, torch.zeros_like(mel_power))  # floor = silence
    fb = mel_filterbank(sample_rate=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels,
                        mel_scale="slaney", device=pictures.device, dtype=mel_power.dtype)
    magnitude = mel_power_to_linear(mel_power, fb).clamp_min(0).sqrt()
    # Centred frames: `samples` of audio have frames + 1 of them; the last one is silence.
    magnitude = torch.nn.functional.pad(magnitude, (0, 1))
    wave = griffin_lim(magnitude.transpose(-1, -2), n_fft=config.n_fft, hop=config.hop, length=config.samples,
                       n_iter=n_iter, generator=generator)  # frames before bins
    peak = wave.abs().amax(dim=-1, keepdim=True).clamp_min(1e-9)
    return wave * (PEAK / peak)


@torch.no_grad()
def classify_latents(model: SampleVAE, z: torch.Tensor) -> torch.Tensor:
    """Class probabilities of what latents decode to: (B, latent) -> (B, classes) on CPU
    (the decoded picture is encoded again and classified like any input)."""
    device = next(model.parameters()).device
    pictures = model.decode(z.to(device)).contiguous(memory_format=torch.channels_last)
    mu, _ = model.encode(pictures)
    return torch.softmax(model.classify(mu), dim=1).float().cpu()


@torch.no_grad()
def decode_audio(model: SampleVAE, z: torch.Tensor, config: FeatureConfig, *,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, latent) -> (B, samples) audio on CPU."""
    device = next(model.parameters()).device
    pictures = model.decode(z.to(device))
    return pictures_to_audio(pictures, config, generator=generator).cpu()


def prior_latents(n: int, latent: int, *, temperature: float = 1.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, latent) draws from N(0, temperature^2)."""
    return torch.randn(n, latent, generator=generator) * temperature


def mix_latents(latents: torch.Tensor, weights: Sequence[float]) -> torch.Tensor:
    """(K, latent) and K weights -> (latent,) = sum w_k z_k / sum w_k (negative weights subtract;
    weights 1, 1, -1 give a + b - c). ValueError when the weights sum to 0."""
    w = torch.as_tensor(list(weights), dtype=latents.dtype)
    total = float(w.sum())
    if abs(total) < 1e-9:
        raise ValueError("the weights sum to 0")
    return (w[:, None] * latents).sum(0) / total


def interpolate_latents(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight line from a to b (latent,) in `steps` points, both ends included: -> (steps, latent)."""
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype)[:, None]
    return (1 - t) * a + t * b


def class_table(probs: torch.Tensor | np.ndarray, classes: Sequence[str]) -> list[dict]:
    """(N, classes) probabilities -> [{"class", "confidence", "probabilities": {name: p}}] per row."""
    probs = np.asarray(probs)
    rows = []
    for p in probs:
        best = int(p.argmax())
        rows.append({"class": classes[best], "confidence": round(float(p[best]), 4),
                     "probabilities": {name: round(float(v), 4) for name, v in zip(classes, p)}})
    return rows


def encode_files(bundle, files) -> tuple[torch.Tensor, torch.Tensor]:
    """Latent (means, classifier probabilities) of one-shot audio files, (K, latent) and (K, classes);
    BadInputError names a file that cannot be used."""
    from audiogen.samplevae.data import load_clip

    clips = torch.stack([load_clip(f, bundle.features) for f in files])
    return embed_clips(bundle.model, clips, bundle.features)
