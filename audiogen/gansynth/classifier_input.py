"""The pitch classifier's view of a note: its input features (a log-frequency spectrum of the
held part) and reading notes with it. `eval gansynth`, the pitch check and training share it."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.dsp.pitch import midi_to_hz

SAMPLE_RATE = 16000
CLASSIFIER_FFT = 4096       # 3.9 Hz bins: MIDI 24's harmonics resolved
CLASSIFIER_HOP = 1024
CLASSIFIER_FRAMES = 31      # ~2 s from the onset: the held part of a note
MIDI_LOW, MIDI_HIGH, PER_SEMITONE = 16, 119, 3


@functools.lru_cache(maxsize=4)
def _log_frequency_matrix(device: torch.device) -> torch.Tensor:
    """(n_fft // 2 + 1, bins): linear interpolation of linear-frequency bins onto MIDI 16..119."""
    midi = np.arange(MIDI_LOW * PER_SEMITONE, MIDI_HIGH * PER_SEMITONE + 1) / PER_SEMITONE
    hz = midi_to_hz(midi)
    position = hz / (SAMPLE_RATE / CLASSIFIER_FFT)
    low = np.floor(position).astype(int)
    frac = position - low
    m = np.zeros((CLASSIFIER_FFT // 2 + 1, len(midi)), np.float32)
    m[low, np.arange(len(midi))] = 1 - frac
    m[low + 1, np.arange(len(midi))] += frac
    return torch.from_numpy(m).to(device)


def pitch_input(waves: torch.Tensor, *, start_frame: int | torch.Tensor = 0) -> torch.Tensor:
    """(B, 64000) 16 kHz notes -> (B, 2, 310) classifier input: the time-mean and time-max of the
    log power spectrum over ~2 s from `start_frame`, on a log-frequency axis, each note's peak at 0
    and floored 80 dB below (loudness does not matter)."""
    from audiogen.dsp.fourier import centered_stft

    spec = centered_stft(waves.float(), n_fft=CLASSIFIER_FFT, hop=CLASSIFIER_HOP).transpose(-1, -2)  # (B, bins, frames)
    power = spec.real.square() + spec.imag.square()
    if isinstance(start_frame, int):
        power = power[..., start_frame:start_frame + CLASSIFIER_FRAMES]
    else:  # one start per note
        idx = start_frame.view(-1, 1) + torch.arange(CLASSIFIER_FRAMES, device=power.device)
        power = torch.gather(power, 2, idx[:, None, :].expand(-1, power.shape[1], -1))
    db = 10 * torch.log10(torch.einsum("bft,fm->bmt", power, _log_frequency_matrix(power.device)).clamp_min(1e-10))
    features = torch.stack([db.mean(dim=-1), db.amax(dim=-1)], dim=1)
    features = features - features.amax(dim=(1, 2), keepdim=True)
    return (features.clamp_min(-80.0) + 40.0) / 40.0


def classify_waves(classifier, waves: torch.Tensor, *, batch: int = 256,
                   on_notes=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 64000) -> (probabilities (B, 128), embeddings (B, E)) on the CPU; `on_notes(n)` after
    each batch of n notes (a progress bar)."""
    device = next(classifier.parameters()).device
    probs, feats = [], []
    with torch.no_grad():
        for start in range(0, waves.shape[0], batch):
            logits, emb = classifier(pitch_input(waves[start:start + batch].to(device)))
            probs.append(F.softmax(logits.float(), dim=1).cpu())
            feats.append(emb.float().cpu())
            if on_notes is not None:
                on_notes(len(emb))
    return torch.cat(probs), torch.cat(feats)
