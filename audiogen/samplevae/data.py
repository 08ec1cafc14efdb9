"""What SampleVAE eats: fixed-length one-shot clips and their log-mel pictures in [0, 1].

A clip starts where the sound does (leading silence is trimmed: the first sample within
`ONSET_DB` of the file's peak, less `PRE_ROLL_S`) and is cut or zero-padded to
`FeatureConfig.samples` (1.024 s at 32 kHz by default). Features are the spectral core's
log-mel power in dB, floored at the clip's peak minus `top_db` and scaled to [0, 1] (1 = peak),
so a sample's loudness does not change its picture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from audiogen.data.drums import SILENT_PEAK  # -80 dBFS: below this a file is silent
from audiogen.dsp.audio_io import TooLongError as AudioTooLongError
from audiogen.errors import BadInputError

ONSET_DB = -40.0            # the sound starts at the first sample within 40 dB of the peak
PRE_ROLL_S = 0.005
MAX_SECONDS = 30.0          # longer files are not one-shots (cut them at onsets instead)


@dataclass(frozen=True)
class FeatureConfig:
    """Clip length and mel layout; saved in the model file, so a model always reads its own."""

    sample_rate: int = 32000
    n_fft: int = 2048
    hop: int = 512
    n_mels: int = 128
    frames: int = 64
    top_db: float = 80.0

    @property
    def samples(self) -> int:
        """Clip length in samples: frames * hop (32768 = 1.024 s by default)."""
        return self.frames * self.hop

    @classmethod
    def from_dict(cls, data: dict) -> "FeatureConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class TooLongError(AudioTooLongError):
    """A file longer than a one-shot (`seconds` long, over `limit`)."""

    @staticmethod
    def describe(seconds: float, limit: float) -> str:
        return (f"{_clock(seconds)} long, not a one-shot (the limit is {limit:g} s; "
                "`audiogen index --split-onsets` cuts long files at their onsets)")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60.0)
    return f"{int(minutes)}:{secs:04.1f}" if minutes else f"{secs:.1f} s"


def read_mono(path: str | os.PathLike, sample_rate: int, *, max_seconds: float | None = MAX_SECONDS) -> torch.Tensor:
    """A whole audio file as mono float32 (T,) at `sample_rate`.

    BadInputError for unreadable, empty or non-finite audio (from `load_audio`), TooLongError
    past `max_seconds` (checked from the header, before reading), BadInputError when silent.
    """
    from audiogen.dsp.audio_io import load_audio

    wave = load_audio(path, sr=sample_rate, mono=True, max_seconds=max_seconds, too_long=TooLongError)
    if float(wave.abs().max()) < SILENT_PEAK:
        raise BadInputError(path, "silent (peak below -80 dBFS)")
    return wave


def start_of_sound(wave: torch.Tensor, sample_rate: int) -> int:
    """Index of the first sample within ONSET_DB of the peak, less PRE_ROLL_S: (T,) -> int."""
    level = wave.abs()
    threshold = float(level.max()) * 10.0 ** (ONSET_DB / 20.0)
    first = int(torch.nonzero(level >= threshold)[0, 0]) if threshold > 0 else 0
    return max(0, first - int(PRE_ROLL_S * sample_rate))


def fit_clip(wave: torch.Tensor, config: FeatureConfig, start: int = 0) -> torch.Tensor:
    """wave[start:] cut or zero-padded to config.samples: (T,) -> (samples,)."""
    clip = wave[start:start + config.samples]
    if clip.shape[-1] < config.samples:
        clip = torch.nn.functional.pad(clip, (0, config.samples - clip.shape[-1]))
    return clip


def load_clip(path: str | os.PathLike, config: FeatureConfig, *,
              max_seconds: float | None = MAX_SECONDS) -> torch.Tensor:
    """A one-shot file -> (samples,) float32 at config.sample_rate, starting where the sound starts."""
    wave = read_mono(path, config.sample_rate, max_seconds=max_seconds)
    return fit_clip(wave, config, start_of_sound(wave, config.sample_rate))


def onset_clips(wave: torch.Tensor, config: FeatureConfig, *, min_gap_s: float = 0.1,
                rise_db: float = 9.0, floor_db: float = -40.0, max_clips: int = 10000) -> list[tuple[float, torch.Tensor]]:
    """Cut a long recording at its onsets: (T,) -> [(start seconds, (samples,) clip)].

    An onset is a frame whose level (dB, one hop) rises `rise_db` above the quietest of the
    three frames before it, within `floor_db` of the recording's peak frame, at least
    `min_gap_s` after the previous onset. Each clip runs to the next onset (zero-padded).
    """
    hop = config.hop
    frames = wave[: wave.shape[-1] // hop * hop].reshape(-1, hop)
    if frames.shape[0] == 0:
        return []
    level = 10.0 * torch.log10(frames.square().mean(dim=1).clamp_min(1e-12))
    before = torch.nn.functional.pad(level, (3, 0), value=float(level.min()))
    recent_min = before.unfold(0, 3, 1)[:-1].amin(dim=1)  # min of the 3 frames before each frame
    candidates = torch.nonzero((level - recent_min >= rise_db) & (level >= level.max() + floor_db)).flatten().tolist()
    gap = max(1, int(round(min_gap_s * config.sample_rate / hop)))
    starts: list[int] = []
    for frame in candidates:
        if not starts or frame - starts[-1] >= gap:
            starts.append(frame)
        if len(starts) >= max_clips:
            break
    clips = []
    for i, frame in enumerate(starts):
        begin = frame * hop
        end = starts[i + 1] * hop if i + 1 < len(starts) else wave.shape[-1]
        clip = fit_clip(wave[begin:end], config)
        if float(clip.abs().max()) >= SILENT_PEAK:
            clips.append((begin / config.sample_rate, clip))
    return clips


def features(clips: torch.Tensor, config: FeatureConfig) -> torch.Tensor:
    """Clips -> log-mel pictures: (B, samples) -> (B, 1, n_mels, frames) in [0, 1], 1 at each clip's peak.

    Slaney mel scale (linear below 1 kHz), so no band is narrower than an FFT bin; 0 Hz to Nyquist.
    """
    from audiogen.dsp.mel import mel_spectrogram, scale_db

    db = mel_spectrogram(clips, sample_rate=config.sample_rate, n_fft=config.n_fft, hop=config.hop,
                         n_mels=config.n_mels, top_db=config.top_db, mel_scale="slaney")
    return scale_db(db[..., :config.frames], config.top_db).unsqueeze(1)


def load_feature_set(files: list[Path], config: FeatureConfig, *, skips, on_item=None,
                     max_seconds: float | None = MAX_SECONDS) -> tuple[torch.Tensor, list[int]]:
    """Clips of many files: -> ((N, samples) float32, indices into `files` of those kept).

    Unusable files go to `skips` (a SkipLog); `on_item()` is called after each file.
    """
    clips, kept = [], []
    for i, path in enumerate(files):
        try:
            clips.append(load_clip(path, config, max_seconds=max_seconds))
            kept.append(i)
        except BadInputError as e:
            skips.skip(path, e.problem)
        if on_item is not None:
            on_item()
    if not clips:
        return torch.zeros(0, config.samples), kept
    return torch.stack(clips), kept


def library_groups(roots) -> dict[str, tuple[str, str]]:
    """{resolved file path: (kit, instrument)} from the manifest.csv of each root that has one
    (as written by `audiogen data drums`); {} otherwise."""
    import csv

    groups: dict[str, tuple[str, str]] = {}
    for root in roots:
        manifest = Path(root) / "manifest.csv"
        if not Path(root).is_dir() or not manifest.is_file():
            continue
        try:
            with open(manifest, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    if row.get("file") and row.get("kit"):
                        path = str((Path(root) / row["file"]).resolve())
                        groups[path] = (row["kit"], row.get("instrument") or "")
        except (OSError, csv.Error, UnicodeDecodeError):
            continue
    return groups
