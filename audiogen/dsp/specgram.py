"""GANSynth's spectrogram representations and their inverses.

Channel 0 is the log-magnitude log(|X| + eps) of the unnormalised STFT, channel 1 the
instantaneous frequency (IF) in units of pi. The mel variant ("IF-Mel") holds the log mel power
log(|X|^2 M + eps) and the IF of the unwrapped phase mapped through M, re-unwrapped.
"""

from __future__ import annotations

import torch

from audiogen.dsp import mel as _mel
from audiogen.dsp.config import GANSYNTH, SpecgramConfig
from audiogen.dsp.fourier import istft, stft
from audiogen.dsp.phase import PI, instantaneous_frequency, integrate_frequency, wrap_phase


def _mel_if(inst_freq: torch.Tensor, config: SpecgramConfig) -> torch.Tensor:
    """IF of the mel-mapped unwrapped phase: (..., frames, bins) -> (..., frames, mel_bins).

    M is linear, so differencing the mapped unwrapped phase equals mapping the IF; later frames
    are then unwrapped again (wrapped into [-1, 1]), frame 0 keeps its mapped phase.
    """
    mapped = _mel.to_mel(inst_freq, config)
    steps = wrap_phase(mapped[..., 1:, :] * PI) / PI
    return torch.cat([mapped[..., :1, :], steps], dim=-2)


def wave_to_specgram(wave: torch.Tensor, *, mel: bool = False,
                     config: SpecgramConfig | None = None) -> torch.Tensor:
    """wave: (..., audio_length) float in [-1, 1] -> (..., 2, frames, bins | mel_bins).

    GANSynth's layout by default: (..., 64000) -> (..., 2, 128, 1024).
    """
    config = config or GANSYNTH
    spec = stft(wave, config)
    inst_freq = instantaneous_frequency(torch.angle(spec))
    if mel:
        power = _mel.to_mel(spec.real.square() + spec.imag.square(), config)
        magnitude = torch.log(power.clamp_min(0.0) + config.log_eps)
        inst_freq = _mel_if(inst_freq, config)
    else:
        magnitude = torch.log(spec.abs() + config.log_eps)
    return torch.stack([magnitude, inst_freq], dim=-3)


def specgram_to_melspecgram(spec: torch.Tensor, config: SpecgramConfig | None = None) -> torch.Tensor:
    """Linear (..., 2, frames, bins) -> IF-Mel (..., 2, frames, mel_bins)."""
    config = config or GANSYNTH
    magnitude = (spec[..., 0, :, :].exp() - config.log_eps).clamp_min(0.0)
    power = _mel.to_mel(magnitude.square(), config)
    log_power = torch.log(power.clamp_min(0.0) + config.log_eps)
    return torch.stack([log_power, _mel_if(spec[..., 1, :, :], config)], dim=-3)


def melspecgram_to_specgram(melspec: torch.Tensor, config: SpecgramConfig | None = None) -> torch.Tensor:
    """IF-Mel (..., 2, frames, mel_bins) -> linear (..., 2, frames, bins), approximately.

    Power and unwrapped phase go back through M^T diag(1 / colsum(M M^T)); mel bands above
    ~2.5 kHz are wider than the linear bins, so detail within a band is lost.
    """
    config = config or GANSYNTH
    power = (melspec[..., 0, :, :].exp() - config.log_eps).clamp_min(0.0)
    magnitude = _mel.from_mel(power, config).clamp_min(0.0).sqrt()
    phase = _mel.from_mel(integrate_frequency(melspec[..., 1, :, :]), config)
    return torch.stack([torch.log(magnitude + config.log_eps), instantaneous_frequency(phase)], dim=-3)


def specgram_to_wave(spec: torch.Tensor, *, mel: bool = False,
                     config: SpecgramConfig | None = None) -> torch.Tensor:
    """Inverse of `wave_to_specgram`: (..., 2, frames, bins | mel_bins) -> (..., audio_length).

    Magnitude clamp(exp(L) - eps, 0), phase cumsum(IF * pi), inverse FFT and overlap-add
    divided by the window overlap. Exact for the lossless layout, approximate for mel.
    """
    config = config or GANSYNTH
    if mel:
        spec = melspecgram_to_specgram(spec, config)
    magnitude = (spec[..., 0, :, :].exp() - config.log_eps).clamp_min(0.0)
    phase = integrate_frequency(spec[..., 1, :, :])
    return istft(torch.polar(magnitude, phase), config)
