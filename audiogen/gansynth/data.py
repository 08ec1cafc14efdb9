"""What GANSynth eats: NSynth notes from the cache, turned into normalised (log-magnitude, IF)
images on the training device with the spectral core, downsampled to the current level.

Batches are fixed by the step number: step s uses rows [s*B, (s+1)*B) of an epoch order drawn
from (seed, epoch), so a resumed run, and a data-parallel run whose rank r takes the r-th slice
of each global batch, read exactly the notes a single uninterrupted process would.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.dsp.config import SpecgramConfig
from audiogen.dsp.normalize import Normalizer, denormalize_specgram, normalize_specgram
from audiogen.dsp.specgram import specgram_to_wave, wave_to_specgram


def waves_to_images(waves: torch.Tensor, spec: SpecgramConfig, *, mel: bool, norm: Normalizer) -> torch.Tensor:
    """(B, audio_length) in [-1, 1] -> (B, 2, frames, bins | mel_bins) in [-1, 1]."""
    return normalize_specgram(wave_to_specgram(waves.float(), mel=mel, config=spec), norm)


def images_to_waves(images: torch.Tensor, spec: SpecgramConfig, *, mel: bool, norm: Normalizer) -> torch.Tensor:
    """Inverse of `waves_to_images`: (B, 2, frames, bins) -> (B, audio_length)."""
    return specgram_to_wave(denormalize_specgram(images.float(), norm), mel=mel, config=spec)


def downsample_to_level(images: torch.Tensor, level: int, levels: int) -> torch.Tensor:
    """Full-resolution images -> `level`'s resolution by average pooling."""
    factor = 2 ** (levels - 1 - level)
    return F.avg_pool2d(images, factor) if factor > 1 else images


def upsample_to_full(images: torch.Tensor, level: int, levels: int) -> torch.Tensor:
    """Images at `level` -> full resolution by repeating pixels (nearest)."""
    factor = 2 ** (levels - 1 - level)
    return F.interpolate(images, scale_factor=float(factor), mode="nearest") if factor > 1 else images


def fade_reals(images: torch.Tensor, alpha: float) -> torch.Tensor:
    """Real images at a fading level, blended with their coarser version as the generator's output is:
    lerp(upsample(avgpool(x)), x, alpha). Without this the discriminator tells real from fake by
    sharpness alone during every fade."""
    if alpha >= 1.0:
        return images
    coarse = F.interpolate(F.avg_pool2d(images, 2), scale_factor=2.0, mode="nearest")
    return torch.lerp(coarse, images, alpha)


def batch_rows(step: int, batch: int, count: int, seed: int) -> np.ndarray:
    """The `batch` cache rows of global step `step` (sorted), epochs of count // batch steps.

    Each epoch is a fresh permutation drawn from (seed, epoch); notes past the last whole batch
    of an epoch wait for a later epoch.
    """
    if count < batch:
        raise ValueError(f"{count} notes cannot fill a batch of {batch}")
    per_epoch = count // batch
    epoch, within = divmod(step, per_epoch)
    return np.sort(_epoch_order(seed, epoch, count)[within * batch:(within + 1) * batch])


@functools.lru_cache(maxsize=2)
def _epoch_order(seed: int, epoch: int, count: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(count)


def fit_magnitude_normalizer(cache, spec: SpecgramConfig, *, mel: bool, notes: int = 1024, margin: float = 0.8,
                             batch: int = 64) -> dict[str, float]:
    """Log-magnitude constants measured on up to `notes` evenly spaced cache notes: the affine map
    of [ln(log_eps), the largest value seen] onto [-margin, margin] (magenta's constants do this
    for n_fft 2048 / 1024 mel bands; other layouts reach other maxima). Returns mag_scale, mag_offset."""
    rows = np.unique(np.linspace(0, len(cache) - 1, min(notes, len(cache))).round().astype(np.int64))
    low = float(np.log(spec.log_eps))
    high = low
    for start in range(0, len(rows), batch):
        waves = torch.from_numpy(cache.waves(rows[start:start + batch]))
        high = max(high, float(wave_to_specgram(waves.float(), mel=mel, config=spec)[:, 0].amax()))
    if high <= low:
        raise ValueError("the training notes are all silent: no log-magnitude range to fit")
    scale = 2 * margin / (high - low)
    return {"mag_scale": scale, "mag_offset": -margin - scale * low}
