"""The one loudness rule for audio written to be listened to.

Every such file (samples, interpolations, renders, resyntheses) is peak-normalised so that its
loudest sample sits at `OUTPUT_PEAK_DBFS` plus the user's `--gain` (in dB). A silent wave stays
silent. Training data written by the `data` commands keeps the level its source defines.
"""

from __future__ import annotations

import numpy as np
import torch

OUTPUT_PEAK_DBFS = -1.0   # peak level of every listening output, before --gain
MIN_GAIN_DB = -60.0
MAX_GAIN_DB = 1.0         # the peak may reach 0 dBFS, never pass it
SILENT_PEAK = 1e-4        # below this (-80 dBFS) a wave is silence: left as it is, not boosted


def output_peak_dbfs(gain_db: float = 0.0) -> float:
    """The peak level in dBFS for an output written with `--gain gain_db`."""
    return OUTPUT_PEAK_DBFS + float(gain_db)


def scale_to_peak(wave: torch.Tensor | np.ndarray, peak_dbfs: float) -> torch.Tensor | np.ndarray:
    """Scale (..., T) audio so the peak over the whole array is `peak_dbfs` dBFS (same type back)."""
    target = 10.0 ** (peak_dbfs / 20.0)
    if isinstance(wave, torch.Tensor):
        peak = float(wave.abs().max()) if wave.numel() else 0.0
    else:
        wave = np.asarray(wave, np.float32)
        peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak < SILENT_PEAK:
        return wave
    return wave * (target / peak)


def peak_dbfs_of(wave: torch.Tensor | np.ndarray) -> float:
    """The peak of `wave` in dBFS (-inf for silence)."""
    peak = float(wave.abs().max()) if isinstance(wave, torch.Tensor) else float(np.abs(np.asarray(wave)).max())
    return 20.0 * np.log10(peak) if peak > 0 else float("-inf")
