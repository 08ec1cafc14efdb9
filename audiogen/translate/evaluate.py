"""Is it the other instrument, and is it still the same tune? Measures the model cannot game.

On a `data pairs` folder (a/ the input instrument, b/ the true target rendering):

- log-mel distance: mean |dB difference| of 80-band log-mel spectrograms (n_fft 1024, hop 256,
  each clip floored 80 dB below its peak, all clips at the same peak first) between the
  translation and the true b, beside the input's own distance to b (the identity baseline).
- melody kept: librosa's pYIN (a signal-processing f0 tracker, trained on nothing) on the input,
  the translation and the true b; over frames voiced in both the input and the other, the share
  whose f0 is within a semitone of the input's. The true b's own share is the ceiling to meet.
  The share of the input's voiced frames that the other also voices is reported beside it, so
  a translation cannot score by being voiced only where it is easy.
- length: output samples over input samples.
- unpaired models: the cycle error a -> b -> a as the same log-mel distance.

pYIN searches the range the pairs were rendered in (the manifest's `range`, a tone either side),
else the violin's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from audiogen.translate.data import INPUT_PEAK, ClipSet, peak_normalise

MEL_BANDS = 80
PYIN_FMIN, PYIN_FMAX = 150.0, 2700.0   # G3 (196 Hz) - E7 (2637 Hz), the violin's range with margin
PYIN_FRAME, PYIN_HOP = 1024, 256


def pitch_limits(midi_range) -> tuple[float, float]:
    """(fmin, fmax) Hz for pYIN from a manifest's [low, high] MIDI range (2 semitones margin);
    the violin's range when there is none. fmin stays at or above 40 Hz: pYIN's 1024-sample frame
    at 16 kHz holds no lower periods."""
    try:
        low, high = (int(v) for v in midi_range)
    except (TypeError, ValueError):
        return PYIN_FMIN, PYIN_FMAX
    from audiogen.dsp.pitch import midi_to_hz

    return max(40.0, float(midi_to_hz(low - 2))), min(7900.0, float(midi_to_hz(high + 2)))


def log_mel_db(wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(T,) -> (MEL_BANDS, frames) dB, peak-normalised first, floored 80 dB below the clip's peak."""
    from audiogen.dsp.mel import mel_spectrogram

    return mel_spectrogram(peak_normalise(wave.float().cpu(), INPUT_PEAK), sample_rate=sample_rate, n_fft=1024,
                           hop=256, n_mels=MEL_BANDS, top_db=80.0)


def log_mel_distance(x: torch.Tensor, y: torch.Tensor, sample_rate: int) -> float:
    """Mean absolute dB difference of two clips' log-mel spectrograms (the shorter length)."""
    a, b = log_mel_db(x, sample_rate), log_mel_db(y, sample_rate)
    n = min(a.shape[-1], b.shape[-1])
    return float((a[..., :n] - b[..., :n]).abs().mean())


def pyin_track(wave: torch.Tensor | np.ndarray, sample_rate: int, fmin: float = PYIN_FMIN,
               fmax: float = PYIN_FMAX) -> np.ndarray:
    """(T,) -> (frames,) f0 in Hz, NaN where pYIN calls the frame unvoiced."""
    from audiogen.dsp.pitch import pyin_track as track

    y = wave.float().cpu() if isinstance(wave, torch.Tensor) else np.asarray(wave, np.float32)
    return track(y, sample_rate, fmin=fmin, fmax=fmax, frame_length=PYIN_FRAME, hop=PYIN_HOP)[1]


def melody_agreement(reference: np.ndarray, other: np.ndarray) -> dict:
    """Frame counts of two f0 tracks: {"input_voiced", "both_voiced", "within_semitone"}."""
    n = min(len(reference), len(other))
    ref, oth = reference[:n], other[:n]
    both = ~np.isnan(ref) & ~np.isnan(oth)
    close = np.abs(12.0 * np.log2(oth[both] / ref[both])) <= 1.0
    return {"input_voiced": int((~np.isnan(ref)).sum()), "both_voiced": int(both.sum()),
            "within_semitone": int(close.sum())}


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def evaluate_pairs(translate: Callable[[torch.Tensor], torch.Tensor], clips: ClipSet, sample_rate: int, *,
                   cycle: Callable[[torch.Tensor], torch.Tensor] | None = None, pyin: bool = True,
                   fmin: float = PYIN_FMIN, fmax: float = PYIN_FMAX,
                   on_item: Callable[[], None] | None = None) -> dict:
    """Every pair of `clips` (a, b): translate(a) judged against b (module docstring)."""
    rows = []
    totals = {k: {"input_voiced": 0, "both_voiced": 0, "within_semitone": 0} for k in ("output", "target")}
    for name, a, b in zip(clips.names, clips.a, clips.b):
        wa, wb = torch.from_numpy(a), torch.from_numpy(b)
        out = translate(wa).float().cpu()
        row = {"name": name, "seconds": round(len(a) / sample_rate, 3),
               "length_ratio": round(out.shape[-1] / wa.shape[-1], 6),
               "log_mel_distance": round(log_mel_distance(out, wb, sample_rate), 4),
               "identity_log_mel_distance": round(log_mel_distance(wa, wb, sample_rate), 4)}
        if cycle is not None:
            row["cycle_log_mel_distance"] = round(log_mel_distance(cycle(wa).float().cpu(), wa, sample_rate), 4)
        if pyin:
            f_in = pyin_track(wa, sample_rate, fmin, fmax)
            for key, wave in (("output", out), ("target", wb)):
                agreement = melody_agreement(f_in, pyin_track(wave, sample_rate, fmin, fmax))
                for k, v in agreement.items():
                    totals[key][k] += v
                row[f"{key}_melody_kept"] = _share(agreement["within_semitone"], agreement["both_voiced"])
        rows.append(row)
        if on_item is not None:
            on_item()
    mean = lambda key: round(float(np.mean([r[key] for r in rows])), 4) if rows else None  # noqa: E731
    distance, identity = mean("log_mel_distance"), mean("identity_log_mel_distance")
    result = {"pairs": len(rows), "seconds": round(sum(r["seconds"] for r in rows), 1),
              "log_mel_distance": distance, "identity_log_mel_distance": identity,
              "log_mel_reduction": (round(1.0 - distance / identity, 4) if identity else None),
              "length_ratio_min": min((r["length_ratio"] for r in rows), default=None),
              "length_ratio_max": max((r["length_ratio"] for r in rows), default=None)}
    if cycle is not None:
        result["cycle_log_mel_distance"] = mean("cycle_log_mel_distance")
    if pyin:
        for key in ("output", "target"):
            t = totals[key]
            result[f"{key}_melody_kept"] = _share(t["within_semitone"], t["both_voiced"])
            result[f"{key}_voiced_of_input"] = _share(t["both_voiced"], t["input_voiced"])
        kept, ceiling = result["output_melody_kept"], result["target_melody_kept"]
        result["melody_kept_gap_points"] = (round(100 * (ceiling - kept), 2)
                                            if kept is not None and ceiling is not None else None)
    result["rows"] = rows
    return result
