"""Mel scales: GANSynth's linear<->mel projection (IF-Mel) and mel spectrograms (SampleVAE features).

GANSynth's matrix M (bins, mel_bins) holds triangular HTK-mel bands from mel_fmin to mel_fmax
with a minimum width, one band per linear bin; it is under 1% non-zero, so on CPU and CUDA it is
applied as a sparse CSR product (about 5x faster than the dense one on CPU). Its approximate
inverse is M^T diag(1 / colsum(M M^T)).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from audiogen.dsp.config import SpecgramConfig
from audiogen.dsp.fourier import centered_stft


def hz_to_mel(hz):
    """HTK mel scale: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * np.expm1(np.asarray(mel, dtype=np.float64) / 1127.0)


_SLANEY_STEP, _SLANEY_BREAK_HZ = 200.0 / 3, 1000.0   # linear below 1 kHz, logarithmic above
_SLANEY_LOG_STEP = np.log(6.4) / 27.0


def slaney_hz_to_mel(hz):
    """Slaney's (Auditory Toolbox) mel scale: f / (200/3) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _SLANEY_STEP
    log = _SLANEY_BREAK_HZ / _SLANEY_STEP + np.log(np.maximum(hz, 1e-12) / _SLANEY_BREAK_HZ) / _SLANEY_LOG_STEP
    return np.where(hz >= _SLANEY_BREAK_HZ, log, linear)


def slaney_mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    break_mel = _SLANEY_BREAK_HZ / _SLANEY_STEP
    return np.where(mel >= break_mel, _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOG_STEP * (mel - break_mel)),
                    mel * _SLANEY_STEP)


MEL_SCALES = {"htk": (hz_to_mel, mel_to_hz), "slaney": (slaney_hz_to_mel, slaney_mel_to_hz)}


def triangular_bands(freqs_hz: np.ndarray, f_min: float, f_max: float, n_bands: int, *, scale: str = "htk",
                     min_width_hz: float = 0.0) -> np.ndarray:
    """The one mel-band builder: (len(freqs_hz), n_bands) float64 triangles, linear in Hz between
    edges spaced evenly on the `scale` ("htk" or "slaney") from f_min to f_max, no area
    normalisation. Bands narrower than `min_width_hz` are widened symmetrically around their centre."""
    to_mel, to_hz = MEL_SCALES[scale]
    edges = to_hz(np.linspace(to_mel(f_min), to_mel(f_max), n_bands + 2))
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    narrow = (upper - lower) < min_width_hz
    lower = np.where(narrow, center - min_width_hz / 2, lower)
    upper = np.where(narrow, center + min_width_hz / 2, upper)
    f = np.asarray(freqs_hz, np.float64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = (f - lower) / (center - lower)
        falling = (upper - f) / (upper - center)
    return np.nan_to_num(np.maximum(0.0, np.minimum(rising, falling)))


def bin_frequencies(config: SpecgramConfig) -> np.ndarray:
    """Centre frequency in Hz of each kept linear bin: (bins,)."""
    s = config.bin_slice
    return np.arange(s.start, s.stop) * config.sample_rate / config.n_fft


def mel_band_centers(config: SpecgramConfig) -> np.ndarray:
    """Centre frequency in Hz of each IF-Mel band: (mel_bins,)."""
    fmax = config.mel_fmax if config.mel_fmax is not None else config.nyquist
    edges = np.linspace(hz_to_mel(config.mel_fmin), hz_to_mel(fmax), config.mel_bins + 2)
    return mel_to_hz(edges[1:-1])


def linear_to_mel_matrix(config: SpecgramConfig) -> np.ndarray:
    """M: (bins, mel_bins) float64, triangular bands linear in Hz between mel-spaced edges.

    Bands narrower than `mel_min_band_bins` linear bins are widened symmetrically around their
    centre. The lowest band can end below the first kept bin and then stays empty.
    """
    fmax = config.mel_fmax if config.mel_fmax is not None else config.nyquist
    return triangular_bands(bin_frequencies(config), config.mel_fmin, fmax, config.mel_bins,
                            min_width_hz=config.mel_min_band_bins * config.sample_rate / config.n_fft)


def mel_to_linear_matrix(config: SpecgramConfig) -> np.ndarray:
    """Approximate inverse of M: (mel_bins, bins) = M^T diag(1 / colsum(M M^T)), 0 where that is 0."""
    m = linear_to_mel_matrix(config)
    colsum = (m @ m.T).sum(axis=0)
    scale = np.divide(1.0, colsum, out=np.zeros_like(colsum), where=np.abs(colsum) > 1e-8)
    return m.T * scale[None, :]


class _Projection:
    """x (..., n_in) -> x @ W (..., n_out): W as a sparse CSR matrix where the device has the
    kernel (CPU, CUDA), else dense."""

    def __init__(self, matrix: np.ndarray, device: torch.device, dtype: torch.dtype):
        self.n_in, self.n_out = matrix.shape
        self.dense = torch.as_tensor(matrix, dtype=dtype, device=device).contiguous()
        self.sparse = self.dense.to_sparse_csr() if device.type in ("cpu", "cuda") else None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.n_in)
        if self.sparse is not None:
            try:
                return (flat @ self.sparse).reshape(*lead, self.n_out)
            except (RuntimeError, NotImplementedError):
                self.sparse = None  # a torch build without this sparse kernel: dense from now on
        return (flat @ self.dense).reshape(*lead, self.n_out)


@functools.lru_cache(maxsize=32)
def _projection(config: SpecgramConfig, inverse: bool, device: torch.device, dtype: torch.dtype) -> _Projection:
    import warnings

    matrix = mel_to_linear_matrix(config) if inverse else linear_to_mel_matrix(config)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return _Projection(matrix, device, dtype)


def to_mel(x: torch.Tensor, config: SpecgramConfig) -> torch.Tensor:
    """(..., bins) -> (..., mel_bins): x @ M."""
    return _projection(config, False, x.device, x.dtype)(x)


def from_mel(x: torch.Tensor, config: SpecgramConfig) -> torch.Tensor:
    """(..., mel_bins) -> (..., bins): x @ M^T diag(1 / colsum(M M^T))."""
    return _projection(config, True, x.device, x.dtype)(x)


def mel_filterbank(*, sample_rate: int = 16000, n_fft: int = 1024, n_mels: int = 128,
                   f_min: float = 0.0, f_max: float | None = None, mel_scale: str = "htk",
                   device=None, dtype=torch.float32) -> torch.Tensor:
    """Triangular mel filterbank over all n_fft // 2 + 1 bins: (bins, n_mels), from `triangular_bands`
    (the values torchaudio's `melscale_fbanks` gives without normalisation)."""
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    bands = triangular_bands(freqs, f_min, f_max if f_max is not None else sample_rate / 2, n_mels, scale=mel_scale)
    return torch.as_tensor(bands, dtype=dtype, device=device)


def mel_spectrogram(wave: torch.Tensor, *, sample_rate: int = 16000, n_fft: int = 1024,
                    hop: int = 256, n_mels: int = 128, f_min: float = 0.0,
                    f_max: float | None = None, top_db: float | None = 80.0,
                    mel_scale: str = "htk") -> torch.Tensor:
    """Log-mel power spectrogram in dB (SampleVAE's features).

    wave: (..., T) -> (..., n_mels, 1 + T // hop) dB re 1.0 (centred frames, periodic Hann).
    With `top_db`, each clip is floored at its maximum minus top_db; `scale_db` maps such values
    to [0, 1].
    """
    spec = centered_stft(wave, n_fft=n_fft, hop=hop)
    power = spec.real.square() + spec.imag.square()  # (..., frames, n_fft // 2 + 1)
    fb = mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, f_min=f_min,
                        f_max=f_max, mel_scale=mel_scale, device=wave.device, dtype=power.dtype)
    # a picture: mel bands up, frames across (SampleVAE's input layout)
    db = 10.0 * torch.log10(torch.einsum("...tf,fm->...mt", power, fb).clamp_min(1e-10))
    if top_db is not None:
        peak = db.amax(dim=(-2, -1), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


def scale_db(db: torch.Tensor, top_db: float = 80.0) -> torch.Tensor:
    """dB floored at peak - top_db -> [0, 1], 1 at each clip's peak."""
    peak = db.amax(dim=(-2, -1), keepdim=True)
    return ((db - peak) / top_db + 1.0).clamp(0.0, 1.0)


def mel_power_to_linear(mel_power: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
    """Approximate inverse of the mel projection: (..., n_mels, frames) -> (..., bins, frames) power.

    Each linear bin gets the mel power density (band power / band weight) of the bands covering
    it, weighted by the filters: smooth, non-negative, and exact for a flat spectrum.
    `fb`: (bins, n_mels) from `mel_filterbank`.
    """
    density = mel_power / fb.sum(dim=0).clamp_min(1e-12).unsqueeze(-1)
    cover = fb / fb.sum(dim=1, keepdim=True).clamp_min(1e-12)  # rows sum to 1 where any band covers
    return torch.einsum("fm,...mt->...ft", cover, density)
