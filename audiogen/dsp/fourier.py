"""Framed STFT and its overlap-add inverse in the layout a `SpecgramConfig` describes.

Uncentred frames over a zero-padded clip, periodic Hann window (sum n_fft / 2), unnormalised
FFT. The inverse divides the overlap-added frames by the overlap-added squared window with a
floor: `torch.istft` refuses this layout, since the window envelope reaches zero at the edges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiogen.dsp.config import SpecgramConfig

# Where the squared-window overlap falls below this (the last ~400 samples of the GANSynth
# layout, which only its final frame covers; full overlap is 1.5) the inverse does not divide
# by ~0: those samples fade out instead of amplifying the error of the dropped DC bin. 1e-3 gave
# the best round trip over held notes and a sine with DC (0 gave -23 dB on a held organ note).
WINDOW_OVERLAP_FLOOR = 1e-3


def hann_window(n_fft: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """Periodic Hann window of n_fft samples."""
    return torch.hann_window(n_fft, periodic=True, device=device, dtype=dtype)


def centered_stft(wave: torch.Tensor, *, n_fft: int, hop: int) -> torch.Tensor:
    """Centred (zero-padded) frames, periodic Hann: (..., T) -> (..., frames, n_fft // 2 + 1) complex,
    frames before bins as in `stft` (the one axis order of this package's spectrograms)."""
    lead = wave.shape[:-1]
    flat = wave.reshape(-1, wave.shape[-1])
    window = hann_window(n_fft, device=wave.device, dtype=flat.dtype)
    spec = torch.stft(flat, n_fft, hop, window=window, center=True, pad_mode="constant",
                      return_complex=True)
    return spec.transpose(-1, -2).reshape(*lead, spec.shape[-1], spec.shape[-2])


def _check_length(wave: torch.Tensor, config: SpecgramConfig) -> None:
    if wave.shape[-1] != config.audio_length:
        raise ValueError(
            f"expected {config.audio_length} samples in the last dim, got {wave.shape[-1]};"
            f" use config.with_length({wave.shape[-1]}) for clips of another length"
        )


def stft(wave: torch.Tensor, config: SpecgramConfig) -> torch.Tensor:
    """wave: (..., audio_length) real -> (..., frames, bins) complex, kept bins only."""
    _check_length(wave, config)
    lead = wave.shape[:-1]
    flat = wave.reshape(-1, config.audio_length)
    flat = F.pad(flat, (config.pad_left, config.pad_right))
    window = hann_window(config.n_fft, device=wave.device, dtype=flat.dtype)
    spec = torch.stft(flat, config.n_fft, config.hop, window=window, center=False,
                      return_complex=True)  # (N, n_fft // 2 + 1, frames)
    spec = spec.transpose(-1, -2)[..., config.bin_slice]
    return spec.reshape(*lead, config.frames, config.bins)


def _window_overlap(config: SpecgramConfig, window: torch.Tensor) -> torch.Tensor:
    """Overlap-added squared window: (padded_length,)."""
    frames = (window * window).expand(1, config.frames, config.n_fft)
    return _overlap_add(frames, config)[0]


def _overlap_add(frames: torch.Tensor, config: SpecgramConfig) -> torch.Tensor:
    """frames: (N, frames, n_fft) -> (N, padded_length), frames placed every hop samples."""
    summed = F.fold(frames.transpose(1, 2), output_size=(1, config.padded_length),
                    kernel_size=(1, config.n_fft), stride=(1, config.hop))
    return summed.reshape(frames.shape[0], config.padded_length)


def istft(spec: torch.Tensor, config: SpecgramConfig) -> torch.Tensor:
    """spec: (..., frames, bins) complex, kept bins only -> (..., audio_length) real.

    Dropped DC / Nyquist bins come back as zeros.
    """
    lead = spec.shape[:-2]
    flat = spec.reshape(-1, config.frames, config.bins)
    kept = config.bin_slice
    full_bins = config.n_fft // 2 + 1
    flat = F.pad(flat, (kept.start, full_bins - kept.stop))
    window = hann_window(config.n_fft, device=spec.device, dtype=flat.real.dtype)
    frames = torch.fft.irfft(flat, n=config.n_fft, dim=-1) * window
    wave = _overlap_add(frames, config) / _window_overlap(config, window).clamp_min(WINDOW_OVERLAP_FLOOR)
    wave = wave[:, config.pad_left:config.pad_left + config.audio_length]
    return wave.reshape(*lead, config.audio_length)
