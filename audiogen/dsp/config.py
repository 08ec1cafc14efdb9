"""The layout of a spectrogram representation: STFT sizes, padding, kept bins, mel settings.

A `SpecgramConfig` is plain data: models store `asdict(config)` in their model file and rebuild it
with `SpecgramConfig(**d)`, so sampling and evaluation use exactly the layout a model was trained on.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SpecgramConfig:
    """STFT layout for `wave_to_specgram` / `specgram_to_wave`.

    The defaults are GANSynth's (docs/design.md §3): 16 kHz, 64000 samples, n_fft 2048, hop 512,
    3072 zeros padded at the front so 128 frames cover the clip, DC bin dropped, Nyquist kept
    -> (2, 128, 1024).

    Attributes:
        sample_rate: Hz.
        audio_length: samples per clip; inputs must have exactly this many.
        n_fft: FFT size = window length (periodic Hann).
        hop: samples between frames.
        pad_left: zeros added before the clip.
        min_pad_right: at least this many zeros after the clip; more are added so that a whole
            number of frames covers the padded clip.
        keep_dc, keep_nyquist: which edge bins the representation keeps.
        mel_bins: bands of the mel variant (IF-Mel), HTK mel scale from mel_fmin to mel_fmax.
        mel_fmin, mel_fmax: Hz; mel_fmax None means Nyquist.
        mel_min_band_bins: every mel band is at least this many linear bins wide.
        log_eps: log-magnitude is log(|X| + log_eps).
    """

    sample_rate: int = 16000
    audio_length: int = 64000
    n_fft: int = 2048
    hop: int = 512
    pad_left: int = 3072
    min_pad_right: int = 0
    keep_dc: bool = False
    keep_nyquist: bool = True
    mel_bins: int = 1024
    mel_fmin: float = 0.0
    mel_fmax: float | None = None
    mel_min_band_bins: float = 1.5
    log_eps: float = 1e-6

    def __post_init__(self) -> None:
        if self.n_fft <= 0 or self.n_fft % 2:
            raise ValueError(f"n_fft must be a positive even number, got {self.n_fft}")
        if not 0 < self.hop <= self.n_fft:
            raise ValueError(f"hop must lie in 1..n_fft, got {self.hop}")
        if self.audio_length <= 0:
            raise ValueError(f"audio_length must be positive, got {self.audio_length}")
        if self.pad_left < 0 or self.min_pad_right < 0:
            raise ValueError("padding must be non-negative")

    @property
    def frames(self) -> int:
        """STFT frames covering pad_left + audio_length + min_pad_right samples."""
        covered = self.pad_left + self.audio_length + self.min_pad_right
        return max(1, math.ceil((covered - self.n_fft) / self.hop) + 1)

    @property
    def padded_length(self) -> int:
        """Samples the frames span: hop * (frames - 1) + n_fft."""
        return self.hop * (self.frames - 1) + self.n_fft

    @property
    def pad_right(self) -> int:
        return self.padded_length - self.pad_left - self.audio_length

    @property
    def bin_slice(self) -> slice:
        """Which of the n_fft // 2 + 1 rfft bins the representation keeps."""
        last = self.n_fft // 2 + 1
        return slice(0 if self.keep_dc else 1, last if self.keep_nyquist else last - 1)

    @property
    def bins(self) -> int:
        s = self.bin_slice
        return s.stop - s.start

    @property
    def shape(self) -> tuple[int, int, int]:
        """(2, frames, bins) of one specgram."""
        return (2, self.frames, self.bins)

    @property
    def nyquist(self) -> float:
        return self.sample_rate / 2

    def with_length(self, audio_length: int) -> "SpecgramConfig":
        """The same layout for clips of another length (frames follow)."""
        return dataclasses.replace(self, audio_length=int(audio_length))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SpecgramConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"unknown spectrogram config keys: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def lossless(cls, audio_length: int = 64000, **overrides) -> "SpecgramConfig":
        """Every sample under full window overlap and every bin kept: exact round trip."""
        n_fft = overrides.pop("n_fft", 2048)
        hop = overrides.pop("hop", 512)
        return cls(audio_length=audio_length, n_fft=n_fft, hop=hop, pad_left=n_fft - hop,
                   min_pad_right=n_fft - hop, keep_dc=True, keep_nyquist=True, **overrides)


GANSYNTH = SpecgramConfig()
"""GANSynth's layout: (2, 128, 1024) from 64000 samples at 16 kHz."""
