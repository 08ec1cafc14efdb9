"""Translating recordings: audio of any length -> spectrogram -> U-Net -> the exact inverse.

Long clips go through the network in chunks of the training crop length, overlapping by a
quarter and cross-faded linearly in the spectrogram (training crops were analysed on their own,
with silent edges; chunks are slices of the whole clip's spectrogram); the output
has exactly the input's number of samples. A limiter keeps every bin of the translation at or
below the input's loudest bin: the generator's rare isolated spikes (single bins 10-20 dB over
anything in the input, clicks to the ear) are cut. Chosen on held-out tunes rendered with the
training SoundFonts: log-mel distance 6.55 -> 5.85 dB (FluidR3) and 9.53 -> 8.67 dB (TimGM6mb)
at 1,000 steps of the bundled run.
"""

from __future__ import annotations

import torch

from audiogen.translate.data import decode, encode, peak_normalise
from audiogen.translate.load import TranslateModel


def chunk_starts(frames: int, chunk: int, overlap: int) -> list[int]:
    """First frame of each chunk covering `frames`; the last one ends at the last frame."""
    if frames <= chunk:
        return [0]
    step = max(1, chunk - overlap)
    starts = list(range(0, frames - chunk, step))
    return starts + [frames - chunk]


@torch.no_grad()
def translate_specgram(model: TranslateModel, spec: torch.Tensor, *, reverse: bool = False,
                       batch: int = 8) -> torch.Tensor:
    """(2, frames, bins) normalised -> (2, frames, bins): chunk by chunk, cross-faded."""
    return limit_to_input(_translate_chunks(model, spec, reverse=reverse, batch=batch), spec)


def limit_to_input(out: torch.Tensor, spec: torch.Tensor) -> torch.Tensor:
    """The translation's log-magnitude capped at the input's peak: (2, frames, bins) each."""
    out = out.clone()
    out[0] = torch.minimum(out[0], spec[0].max())
    return out


def _translate_chunks(model: TranslateModel, spec: torch.Tensor, *, reverse: bool, batch: int) -> torch.Tensor:
    frames = spec.shape[-2]
    chunk = model.crop_frames
    if frames <= chunk:
        return model.model(spec[None], reverse=reverse)[0]
    overlap = chunk // 4
    starts = chunk_starts(frames, chunk, overlap)
    ramp = torch.ones(chunk, device=spec.device)
    fade = torch.linspace(0.0, 1.0, overlap + 2, device=spec.device)[1:-1]
    total = torch.zeros_like(spec)
    weight = torch.zeros(frames, device=spec.device)
    for first in range(0, len(starts), batch):
        group = starts[first:first + batch]
        pieces = model.model(torch.stack([spec[:, s:s + chunk] for s in group]), reverse=reverse)
        for s, piece in zip(group, pieces):
            w = ramp.clone()
            if s > 0:
                w[:overlap] = fade
            if s + chunk < frames:
                w[-overlap:] = torch.minimum(w[-overlap:], fade.flip(0))
            total[:, s:s + chunk] += piece * w[:, None]
            weight[s:s + chunk] += w
    return total / weight.clamp_min(1e-6)[:, None]


def translate_wave(model: TranslateModel, wave: torch.Tensor, *, reverse: bool = False) -> torch.Tensor:
    """(T,) audio at the model's rate -> (T,) translated (peak at the input rule's level)."""
    wave = peak_normalise(wave.to(model.device).float())
    spec = encode(wave, model.rep)
    return decode(translate_specgram(model, spec, reverse=reverse), model.rep, wave.shape[-1])


def translate_at_rate(model: TranslateModel, wave: torch.Tensor, sample_rate: int, *, reverse: bool = False,
                      out_rate: int | None = None) -> torch.Tensor:
    """(T,) audio at any `sample_rate` -> its translation at `out_rate` (default: the same rate),
    round(T * out_rate / sample_rate) samples long: resampled to the model's rate, translated, and
    resampled back, padded or cut to the input's duration."""
    from audiogen.dsp.audio_io import resample

    out_rate = out_rate or sample_rate
    samples = round(wave.shape[-1] * out_rate / sample_rate)
    translated = translate_wave(model, resample(wave, sample_rate, model.rep.sample_rate), reverse=reverse)
    out = resample(translated.cpu(), model.rep.sample_rate, out_rate)
    if out.shape[-1] < samples:
        out = torch.nn.functional.pad(out, (0, samples - out.shape[-1]))
    return out[..., :samples]


def cycle_wave(model: TranslateModel, wave: torch.Tensor) -> torch.Tensor:
    """An unpaired model's round trip a -> b -> a: (T,) -> (T,)."""
    wave = peak_normalise(wave.to(model.device).float())
    there = translate_specgram(model, encode(wave, model.rep))
    return decode(translate_specgram(model, there, reverse=True), model.rep, wave.shape[-1])
