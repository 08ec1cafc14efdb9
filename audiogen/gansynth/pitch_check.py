"""Does a note have the pitch it was asked for? Measures that the generator cannot game.

A fixed grid of notes (a few latents, each held across pitches from low to high) is judged by
librosa's pYIN (a signal-processing f0 tracker, trained on nothing) and by the bundled pitch
classifier, with the notes' loudness and the spread of timbres between latents beside them:
a generator that ignores its pitch input, makes near-silence at some pitches or one timbre for
every latent shows it here, whatever its discriminator says.

pYIN needs librosa; where it is missing (a lean GPU machine) the pYIN figures are None.
"""

from __future__ import annotations

import math

import numpy as np
import torch

SAMPLE_RATE = 16000
GRID_PITCHES = (36, 42, 48, 54, 60, 66, 72, 78, 84)
GRID_LATENTS = 4
PYIN_START_S, PYIN_SECONDS = 0.1, 1.5    # the held part of a 4-s note
PYIN_FMIN, PYIN_FMAX = 30.0, 2200.0      # MIDI 24 (32.7 Hz) up to an octave above MIDI 84
VOICED_SHARE = 0.5                       # a note is voiced when pYIN voices half its frames


def grid_pitches(pitch_range: tuple[int, int]) -> list[int]:
    """The grid's MIDI pitches that lie within a model's range (every 6 semitones, 36-84)."""
    low, high = pitch_range
    inside = [p for p in GRID_PITCHES if low <= p <= high]
    return inside or [int(round((low + high) / 2))]


def grid_latents(latents: int, latent: int, *, seed: int = 12345) -> torch.Tensor:
    """(latents, latent) fixed prior draws: the same grid at every check of a run."""
    return torch.randn(latents, latent, generator=torch.Generator().manual_seed(seed))


def grid_notes(pitches: list[int], z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every latent at every pitch, pitch by pitch: (P * L, latent), (P * L,) MIDI numbers."""
    return z.repeat(len(pitches), 1), torch.tensor([p for p in pitches for _ in range(len(z))], dtype=torch.long)


def pyin_f0(waves: torch.Tensor | np.ndarray, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """(B, samples) -> (median f0 in Hz of the voiced frames (NaN when none), share of frames
    voiced), each (B,), from pYIN over 1.5 s of each note's held part. ImportError without librosa."""
    import librosa

    waves = np.asarray(waves.detach().cpu() if isinstance(waves, torch.Tensor) else waves, np.float32)
    start = int(PYIN_START_S * sample_rate)
    clip = waves[:, start:start + int(PYIN_SECONDS * sample_rate)]
    f0s, shares = [], []
    for note in clip:
        if not np.any(np.abs(note) > 1e-5):
            f0s.append(math.nan)
            shares.append(0.0)
            continue
        f0, voiced, _ = librosa.pyin(note, fmin=PYIN_FMIN, fmax=PYIN_FMAX, sr=sample_rate, frame_length=2048,
                                     hop_length=512)
        f0s.append(float(np.nanmedian(f0[voiced])) if voiced.any() else math.nan)
        shares.append(float(voiced.mean()))
    return np.array(f0s), np.array(shares)


def semitone_error(f0: np.ndarray, pitches: np.ndarray) -> np.ndarray:
    """Signed distance in semitones from each f0 (Hz) to its MIDI pitch; NaN where f0 is NaN."""
    target = 440.0 * 2.0 ** ((np.asarray(pitches, np.float64) - 69) / 12)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 12 * np.log2(np.asarray(f0, np.float64) / target)


def rms_db(waves: torch.Tensor) -> np.ndarray:
    """(B, samples) -> (B,) RMS level in dB (re full scale) over the note's first 2 s."""
    part = waves[:, : 2 * SAMPLE_RATE].double()
    return (10 * torch.log10(part.square().mean(dim=1).clamp_min(1e-20))).numpy()


def timbre_distance_db(waves: torch.Tensor, pitches: torch.Tensor) -> float:
    """Median, over the grid's pitches, of the median pairwise distance between the notes at that
    pitch: mean absolute difference of their 128-band log-mel spectrograms in dB, each note's peak
    at 0 dB and floored at -80 dB (so loudness alone does not count). NaN with one latent."""
    from audiogen.dsp.mel import mel_spectrogram

    db = mel_spectrogram(waves.float(), sample_rate=SAMPLE_RATE, top_db=80.0)   # (B, mels, frames) dB
    db = db - db.amax(dim=(1, 2), keepdim=True)
    per_pitch = []
    for p in torch.unique(pitches):
        rows = db[pitches == p]
        if len(rows) < 2:
            continue
        pairs = [float((rows[i] - rows[j]).abs().mean()) for i in range(len(rows)) for j in range(i + 1, len(rows))]
        per_pitch.append(float(np.median(pairs)))
    return float(np.median(per_pitch)) if per_pitch else math.nan


def pitch_report(waves: torch.Tensor, pitches: torch.Tensor, *, classifier=None, use_pyin: bool = True) -> dict:
    """Judge notes against the pitches they were asked for.

    waves: (B, 64000) at 16 kHz; pitches: (B,) MIDI. Returns shares over the B notes:
    `pyin_within_semitone` (voiced and |f0 error| <= 1 semitone), `pyin_voiced`, `classifier_accuracy`
    (None without a classifier), `quietest_db_below_loudest`, `timbre_distance_db`, and per-note rows.
    """
    waves = waves.float().cpu()
    pitches = pitches.long().cpu()
    level = rms_db(waves)
    report: dict = {"notes": int(len(waves)), "pitches": sorted({int(p) for p in pitches}),
                    "quietest_db_below_loudest": round(float(level.max() - level.min()), 2),
                    "timbre_distance_db": round(timbre_distance_db(waves, pitches), 3),
                    "classifier_accuracy": None, "pyin_within_semitone": None, "pyin_voiced": None}
    predicted = [None] * len(waves)
    if classifier is not None:
        from audiogen.gansynth.evaluate import classify_waves

        probs, _ = classify_waves(classifier, waves)
        predicted = probs.argmax(dim=1).tolist()
        report["classifier_accuracy"] = round(float((probs.argmax(dim=1) == pitches).float().mean()), 4)
    f0 = errors = shares = None
    if use_pyin:
        try:
            f0, shares = pyin_f0(waves)
        except ImportError:
            f0 = None
    if f0 is not None:
        errors = semitone_error(f0, pitches.numpy())
        voiced = shares >= VOICED_SHARE
        right = voiced & (np.abs(np.nan_to_num(errors, nan=99.0)) <= 1.0)
        report["pyin_voiced"] = round(float(voiced.mean()), 4)
        report["pyin_within_semitone"] = round(float(right.mean()), 4)
    report["per_note"] = [
        {"pitch": int(pitches[i]), "rms_db": round(float(level[i]), 2), "classifier": predicted[i],
         "pyin_hz": None if f0 is None or math.isnan(f0[i]) else round(float(f0[i]), 2),
         "pyin_semitones_off": None if errors is None or math.isnan(errors[i]) else round(float(errors[i]), 2),
         "pyin_voiced_share": None if shares is None else round(float(shares[i]), 3)}
        for i in range(len(waves))]
    return report


def summary_line(report: dict) -> str:
    """'pitch pYIN 0.92 (voiced 0.97) classifier 0.89' for progress lines."""
    def share(key: str) -> str:
        return "-" if report.get(key) is None else f"{report[key]:.2f}"

    return (f"pitch pYIN {share('pyin_within_semitone')} (voiced {share('pyin_voiced')}) "
            f"classifier {share('classifier_accuracy')}")


MELODY_MIN_SECONDS = 0.12   # shorter notes are too brief to read
MELODY_EDGE_SECONDS = 0.03  # skip each note's onset and end (attack transients, the previous note's release)


def melody_match(wave: np.ndarray, notes, sample_rate: int = SAMPLE_RATE) -> dict:
    """Does a rendered melody play its notes? pYIN over the whole wave; for each note (objects
    with start, end in seconds and a MIDI pitch) that overlaps no other and lasts at least 0.12 s,
    the median f0 of the voiced frames in its middle (30 ms in from each edge, at most 1 s)
    within a semitone of its pitch. Returns {"notes_checked", "notes_skipped", "match",
    "unvoiced"}: `match` is the share of checked notes whose pitch pYIN read (unvoiced ones count
    as misses). ImportError without librosa."""
    import librosa

    hop = 256
    f0, voiced, _ = librosa.pyin(np.asarray(wave, np.float32), fmin=PYIN_FMIN, fmax=PYIN_FMAX, sr=sample_rate,
                                 frame_length=2048, hop_length=hop, center=True)
    times = np.arange(len(f0)) * hop / sample_rate
    ordered = sorted(notes, key=lambda n: n.start)
    checked = right = unvoiced = 0
    for n in ordered:
        overlaps = any(o is not n and o.start < n.end - 1e-3 and n.start < o.end - 1e-3 for o in ordered)
        if overlaps or n.end - n.start < MELODY_MIN_SECONDS:
            continue
        lo, hi = n.start + MELODY_EDGE_SECONDS, min(n.end - MELODY_EDGE_SECONDS, n.start + 1.0)
        frames = (times >= lo) & (times <= hi) & voiced
        checked += 1
        if not frames.any():
            unvoiced += 1
            continue
        error = semitone_error(np.array([np.median(f0[frames])]), np.array([n.pitch]))[0]
        right += int(abs(error) <= 1.0)
    return {"notes_checked": checked, "notes_skipped": len(ordered) - checked,
            "match": round(right / checked, 4) if checked else None, "unvoiced": unvoiced}
