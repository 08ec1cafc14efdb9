"""What the translation networks eat: clips as normalised (log-magnitude, IF) spectrograms.

The representation is the spectral core's (`wave_to_specgram`, linear bins) with n_fft 1024 and
hop 256 at 16 kHz: 512 bins (DC dropped, Nyquist kept), a frame every 16 ms, and full window
overlap at both ends (`SpecgramConfig.lossless` less the DC bin), so `specgram_to_wave` gives the
clip back (49 dB SNR on a 21 s violin render, float32 phase sums; the DC bin is dropped). Clips are peak-normalised to
`INPUT_PEAK` first, the rule `data pairs` renders by.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audiogen.data.soundfonts import MIDI_PEAK
from audiogen.dsp.config import SpecgramConfig
from audiogen.dsp.loudness import SILENT_PEAK
from audiogen.dsp.normalize import Normalizer, denormalize_specgram, normalize_specgram
from audiogen.dsp.specgram import specgram_to_wave, wave_to_specgram
from audiogen.errors import AudiogenError, BadInputError

INPUT_PEAK = MIDI_PEAK  # audio is brought to this peak before analysis, the level `data pairs` renders at
# a silent bin, log(eps), in normalised log-magnitude units (-0.8)
SILENCE = math.log(SpecgramConfig.log_eps) * Normalizer.mag_scale + Normalizer.mag_offset


@dataclass(frozen=True)
class Representation:
    """STFT layout and normaliser; `spec_config(samples)` is the layout for a clip of that length."""

    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 256

    @property
    def bins(self) -> int:
        return self.n_fft // 2

    def spec_config(self, samples: int) -> SpecgramConfig:
        lossless = SpecgramConfig.lossless(audio_length=samples, n_fft=self.n_fft, hop=self.hop,
                                           sample_rate=self.sample_rate)
        return dataclasses.replace(lossless, keep_dc=False)

    def samples_for_frames(self, frames: int) -> int:
        """The clip length whose layout has exactly `frames` frames."""
        return self.hop * (frames - 1) + self.n_fft - 2 * (self.n_fft - self.hop)

    @property
    def normalizer(self) -> Normalizer:
        return Normalizer()  # GANSynth's constants: log|X| in [ln 1e-6, ~10.4] and IF onto [-0.8, 0.8]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def peak_normalise(wave: torch.Tensor, peak: float = INPUT_PEAK) -> torch.Tensor:
    """(..., T) scaled so each clip's peak is `peak`; silent clips stay as they are."""
    top = wave.abs().amax(dim=-1, keepdim=True)
    return torch.where(top > SILENT_PEAK, wave * (peak / top.clamp_min(1e-12)), wave)


def encode(wave: torch.Tensor, rep: Representation) -> torch.Tensor:
    """(..., T) audio -> (..., 2, frames, bins) normalised to [-1, 1]."""
    spec = wave_to_specgram(wave, config=rep.spec_config(wave.shape[-1]))
    return normalize_specgram(spec, rep.normalizer)


def decode(spec: torch.Tensor, rep: Representation, samples: int) -> torch.Tensor:
    """(..., 2, frames, bins) normalised -> (..., samples) audio (the exact inverse of `encode`)."""
    return specgram_to_wave(denormalize_specgram(spec, rep.normalizer), config=rep.spec_config(samples))


def read_clip(path: str | os.PathLike, rep: Representation, *, max_seconds: float | None = None) -> np.ndarray:
    """One audio file as (T,) float32 mono at the representation's rate, peak-normalised."""
    from audiogen.dsp import load_audio

    wave = load_audio(path, rep.sample_rate, max_seconds=max_seconds)
    return peak_normalise(wave).numpy().astype(np.float32)


@dataclass
class ClipSet:
    """Clips of one side (or both sides, paired row by row) held in memory as float32 arrays."""

    names: list[str]
    a: list[np.ndarray]
    b: list[np.ndarray] | None  # None: unpaired (one folder)

    def __len__(self) -> int:
        return len(self.a)

    def subset(self, rows: Sequence[int]) -> "ClipSet":
        return ClipSet([self.names[i] for i in rows], [self.a[i] for i in rows],
                       None if self.b is None else [self.b[i] for i in rows])


def load_pairs(folder: str | os.PathLike, rep: Representation, *, skips, on_item=None,
               limit: int | None = None) -> ClipSet:
    """The a/ and b/ clips of a `data pairs` folder (manifest.json), both sides cut to the shorter;
    with `limit`, only the first that many pairs are read."""
    from audiogen.data.pairs import read_pairs_manifest

    folder = Path(folder)
    manifest = read_pairs_manifest(folder)
    names, a, b = [], [], []
    for row in manifest["pairs"][:limit]:
        try:
            left, right = read_clip(folder / row["a"], rep), read_clip(folder / row["b"], rep)
        except BadInputError as e:
            skips.skip(e.path, e.problem)
        else:
            n = min(len(left), len(right))
            names.append(str(row.get("name", row["a"])))
            a.append(left[:n])
            b.append(right[:n])
        if on_item is not None:
            on_item()
    return ClipSet(names, a, b)


def load_folder(folder: str | os.PathLike, rep: Representation, *, skips, on_item=None) -> ClipSet:
    """Every audio file under a folder (recursively) as one unpaired side."""
    from audiogen.data.audio_folders import list_audio_files

    folder = Path(folder)
    if not folder.exists():
        raise BadInputError(folder, "no such file or folder")
    paths = list_audio_files(folder)
    if not paths:
        raise BadInputError(folder, "holds no audio files")
    names, clips = [], []
    for path in paths:
        try:
            clip = read_clip(path, rep)
            if float(np.abs(clip).max(initial=0.0)) < 1e-4:
                raise BadInputError(path, "silent")
        except BadInputError as e:
            skips.skip(e.path, e.problem)
        else:
            names.append(str(path.relative_to(folder)) if folder.is_dir() else path.name)
            clips.append(clip)
        if on_item is not None:
            on_item()
    return ClipSet(names, clips, None)


class CropSampler:
    """Random crops of `samples` samples from a ClipSet (both sides at the same place when
    paired), drawn in proportion to clip length; mostly silent crops are drawn again."""

    def __init__(self, clips: ClipSet, samples: int, generator: np.random.Generator):
        if not len(clips):
            raise AudiogenError("no clips to train on")
        self.clips, self.samples, self.rng = clips, samples, generator
        lengths = np.array([len(c) for c in clips.a], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    def _crop(self, clip: np.ndarray, start: int) -> np.ndarray:
        piece = clip[start:start + self.samples]
        return np.pad(piece, (0, self.samples - len(piece)))

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(size, samples) crops of side a, and of side b at the same places (None if unpaired)."""
        a, b = [], []
        for _ in range(size):
            for _attempt in range(8):
                row = int(self.rng.choice(len(self.weights), p=self.weights))
                clip = self.clips.a[row]
                start = int(self.rng.integers(0, max(1, len(clip) - self.samples + 1)))
                piece = self._crop(clip, start)
                if np.abs(piece).max(initial=0.0) > 0.05:
                    break
            a.append(piece)
            if self.clips.b is not None:
                b.append(self._crop(self.clips.b[row], start))
        to = lambda rows: torch.from_numpy(np.stack(rows))  # noqa: E731
        return to(a), (to(b) if b else None)
