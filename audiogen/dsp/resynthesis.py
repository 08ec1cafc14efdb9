"""Audio -> representation -> audio, to hear and measure what a representation loses."""

from __future__ import annotations

import dataclasses
import math

import torch

from audiogen.dsp.config import GANSYNTH
from audiogen.dsp.griffin_lim import griffin_lim, magnitude_stft, snr_db, spectral_convergence
from audiogen.dsp.specgram import specgram_to_wave, wave_to_specgram

REPRESENTATIONS = ("if", "if-mel", "griffin-lim")


def resynthesize(wave: torch.Tensor, representation: str, *, sample_rate: int = 16000,
                 n_iter: int = 32, generator: torch.Generator | None = None) -> torch.Tensor:
    """wave: (..., T) -> (..., T) through `representation`.

    if / if-mel: GANSynth's layout (n_fft 2048, hop 512, DC dropped) for clips of any length,
    inverted with the phase the IF channel carries. griffin-lim: |STFT| alone (same sizes,
    centred frames), phase recovered in `n_iter` fast Griffin-Lim iterations.
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    length = wave.shape[-1]
    if representation == "griffin-lim":
        # torchaudio's Griffin-Lim reflect-pads half a window: clips shorter than a window get
        # zeros appended for the round trip.
        padded = torch.nn.functional.pad(wave, (0, max(0, GANSYNTH.n_fft - length)))
        magnitude = magnitude_stft(padded, n_fft=GANSYNTH.n_fft, hop=GANSYNTH.hop)
        return griffin_lim(magnitude, n_fft=GANSYNTH.n_fft, hop=GANSYNTH.hop, length=padded.shape[-1],
                           n_iter=n_iter, generator=generator)[..., :length]
    config = dataclasses.replace(GANSYNTH, sample_rate=sample_rate, audio_length=length)
    mel = representation == "if-mel"
    return specgram_to_wave(wave_to_specgram(wave, mel=mel, config=config), mel=mel, config=config)


def resynthesis_report(reference: torch.Tensor, estimate: torch.Tensor, representation: str) -> dict:
    """SNR (dB) and spectral convergence of one (T,) clip. SNR is None for griffin-lim, whose
    phase is new, so a sample-wise comparison means nothing; either is None where undefined
    (a silent clip)."""
    snr = float(snr_db(reference, estimate))
    convergence = float(spectral_convergence(reference, estimate))
    return {"snr_db": round(snr, 2) if representation != "griffin-lim" and math.isfinite(snr) else None,
            "spectral_convergence": round(convergence, 5) if math.isfinite(convergence) else None}
