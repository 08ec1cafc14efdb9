"""Synthetic NSynth-format notes for the tests: decaying harmonic tones in a folder with an
examples.json, as `audiogen data nsynth` writes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

RATE, SAMPLES = 16000, 64000


def tone(pitch: int, *, harmonics: int = 8, decay: float = 0.8, odd_only: bool = False, phase: float = 0.0,
          gain: float = 0.5) -> np.ndarray:
    t = np.arange(SAMPLES) / RATE
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    ks = [k for k in range(1, harmonics + 1) if (k % 2 or not odd_only) and k * f0 < RATE / 2]
    wave = sum(np.sin(2 * np.pi * k * f0 * t + phase * k) / k for k in ks)
    wave = wave * np.exp(-t / decay) * np.minimum(t / 0.01, 1.0)
    return (gain * wave / np.abs(wave).max()).astype(np.float32)


def write_set(root: Path, notes: list[tuple[str, int, int]], *, rate: int = RATE) -> Path:
    """An NSynth folder of synthetic tones: notes = [(instrument_str, source id, pitch)]."""
    import soundfile as sf

    from audiogen.data.gm import FAMILIES, SOURCES

    (root / "audio").mkdir(parents=True)
    examples = {}
    for i, (instrument, source, pitch) in enumerate(notes):
        name = f"{instrument}-{pitch:03d}-100"
        wave = tone(pitch, harmonics=4 + i % 5, decay=0.4 + 0.2 * (i % 4), phase=0.1 * i)
        if rate != RATE:
            from audiogen.dsp.audio_io import resample

            wave = resample(torch.from_numpy(wave), RATE, rate).numpy()
        sf.write(root / "audio" / f"{name}.wav", wave, rate, subtype="PCM_16")
        examples[name] = {"note": i, "note_str": name, "instrument": i % 3, "instrument_str": instrument,
                          "pitch": pitch, "velocity": 100, "sample_rate": rate, "instrument_family": 4,
                          "instrument_family_str": FAMILIES[4], "instrument_source": source,
                          "instrument_source_str": SOURCES[source], "qualities": [0] * 10, "qualities_str": []}
    (root / "examples.json").write_text(json.dumps(examples))
    return root
