"""Phase recovery from magnitudes (fast Griffin-Lim, via torchaudio) and the measures of loss."""

from __future__ import annotations

import torch

from audiogen.dsp.fourier import centered_stft, hann_window


def magnitude_stft(wave: torch.Tensor, *, n_fft: int = 2048, hop: int = 512) -> torch.Tensor:
    """|STFT| with centred (zero-padded) frames and a periodic Hann window: (..., T) -> (..., frames, n_fft//2+1)."""
    return centered_stft(wave, n_fft=n_fft, hop=hop).abs()


def griffin_lim(magnitude: torch.Tensor, *, n_fft: int = 2048, hop: int = 512, length: int | None = None,
                n_iter: int = 32, momentum: float = 0.99, generator: torch.Generator | None = None) -> torch.Tensor:
    """Waveform whose |STFT| matches `magnitude`: (..., frames, n_fft//2+1) -> (..., length).

    Frames as in `magnitude_stft`. Random initial phase (drawn from `generator` when given).
    """
    import torchaudio.functional as AF

    lead = magnitude.shape[:-2]
    flat = magnitude.reshape(-1, *magnitude.shape[-2:]).transpose(-1, -2)  # torchaudio takes (bins, frames)
    window = hann_window(n_fft, device=magnitude.device, dtype=flat.dtype)
    if generator is not None:
        # torchaudio draws its initial phase from the global RNG; fork it so the caller's
        # generator decides the result without touching global state.
        devices = [magnitude.device] if magnitude.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
            wave = AF.griffinlim(flat, window, n_fft, hop, n_fft, 1.0, n_iter, momentum, length, True)
    else:
        wave = AF.griffinlim(flat, window, n_fft, hop, n_fft, 1.0, n_iter, momentum, length, True)
    return wave.reshape(*lead, wave.shape[-1])


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio in dB over the last dim: 10 log10(sum x^2 / sum (x - y)^2)."""
    noise = (reference - estimate).square().sum(-1)
    signal = reference.square().sum(-1)
    return 10.0 * torch.log10(signal / noise.clamp_min(1e-30))


def spectral_convergence(reference: torch.Tensor, estimate: torch.Tensor, *, n_fft: int = 2048,
                         hop: int = 512) -> torch.Tensor:
    """|| |S_ref| - |S_est| ||_F / || |S_ref| ||_F over (..., T) waves; 0 is a perfect match,
    NaN where the reference is silent."""
    ref = magnitude_stft(reference, n_fft=n_fft, hop=hop)
    est = magnitude_stft(estimate, n_fft=n_fft, hop=hop)
    return torch.linalg.vector_norm(ref - est, dim=(-2, -1)) / torch.linalg.vector_norm(ref, dim=(-2, -1))
