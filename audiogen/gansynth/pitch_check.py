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

from audiogen.dsp.pitch import semitone_error

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
    from audiogen.dsp.pitch import pyin_track as track

    waves = np.asarray(waves.detach().cpu() if isinstance(waves, torch.Tensor) else waves, np.float32)
    start = int(PYIN_START_S * sample_rate)
    clip = waves[:, start:start + int(PYIN_SECONDS * sample_rate)]
    f0s, shares = [], []
    for note in clip:
        if not np.any(np.abs(note) > 1e-5):
            f0s.append(math.nan)
            shares.append(0.0)
            continue
        _, f0, voiced = track(note, sample_rate, fmin=PYIN_FMIN, fmax=PYIN_FMAX, frame_length=2048, hop=512)
        f0s.append(float(np.nanmedian(f0[voiced])) if voiced.any() else math.nan)
        shares.append(float(voiced.mean()))
    return np.array(f0s), np.array(shares)


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


# Windows through a note's life (seconds from its start): the attack a listener hears first, the
# held part, and the tail a long note rings into. The click check compares a note's last 30 ms with
# its release just before (docs/design.md §5).
NOTE_WINDOWS = {"onset": (0.04, 0.4), "sustain": (0.4, 2.0), "tail": (2.0, 3.7)}
CLICK_END_S = 0.03
CLICK_RELEASE = (3.0, 3.9)
PYIN_HOP = 256


def pyin_track(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pYIN over a whole wave, over GANSynth's range: (frame times in s, f0 in Hz with NaN where
    unvoiced, voiced flags), frames every 16 ms, centred. ImportError without librosa."""
    from audiogen.dsp.pitch import pyin_track as track

    return track(wave, sample_rate, fmin=PYIN_FMIN, fmax=PYIN_FMAX, frame_length=2048, hop=PYIN_HOP)


def window_reading(times: np.ndarray, f0: np.ndarray, voiced: np.ndarray, start: float, end: float,
                   pitch: int) -> dict:
    """What pYIN read between `start` and `end` seconds: {"semitones_off": median voiced f0's
    signed error from `pitch` (None when no frame is voiced), "voiced": share of frames voiced,
    "right": voiced on at least half the frames and within a semitone}."""
    frames = (times >= start) & (times <= end)
    share = float(voiced[frames].mean()) if frames.any() else 0.0
    hits = frames & voiced
    off = None if not hits.any() else float(semitone_error(np.array([np.median(f0[hits])]), np.array([pitch]))[0])
    return {"semitones_off": None if off is None else round(off, 2), "voiced": round(share, 3),
            "right": off is not None and share >= VOICED_SHARE and abs(off) <= 1.0}


def level_db(wave: np.ndarray, start: float, end: float, sample_rate: int = SAMPLE_RATE) -> float:
    """RMS level in dB re full scale of wave[start:end] (seconds); -200 for silence."""
    part = np.asarray(wave[int(start * sample_rate):max(int(start * sample_rate) + 1, int(end * sample_rate))],
                      np.float64)
    return float(10 * np.log10(max(float(np.mean(part ** 2)) if len(part) else 0.0, 1e-20)))


def ends_with_click(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bool:
    """A 4-s note clicks when its last 30 ms are louder than its release (3.0-3.9 s)."""
    end = len(wave) / sample_rate
    return level_db(wave, end - CLICK_END_S, end, sample_rate) > level_db(wave, *CLICK_RELEASE, sample_rate)


def note_windows_report(waves: torch.Tensor | np.ndarray, pitches, sample_rate: int = SAMPLE_RATE) -> dict:
    """Pitch and level through each 4-s note's life, per window of NOTE_WINDOWS.

    waves: (B, samples); pitches: (B,) MIDI. Returns {"onset"|"sustain"|"tail": {"within_semitone",
    "voiced", "level_db_below_loudest"}, "clicks": notes ending with a click, "per_note": [...]}.
    ImportError without librosa."""
    waves = np.asarray(waves.detach().cpu() if isinstance(waves, torch.Tensor) else waves, np.float32)
    pitches = [int(p) for p in (pitches.tolist() if isinstance(pitches, torch.Tensor) else pitches)]
    rows = []
    for wave, pitch in zip(waves, pitches):
        times, f0, voiced = pyin_track(wave, sample_rate)
        row = {"pitch": pitch, "click": ends_with_click(wave, sample_rate)}
        for name, (a, b) in NOTE_WINDOWS.items():
            row[name] = {**window_reading(times, f0, voiced, a, b, pitch),
                         "level_db": round(level_db(wave, a, b, sample_rate), 2)}
        rows.append(row)
    report: dict = {}
    for name in NOTE_WINDOWS:
        levels = np.array([r[name]["level_db"] for r in rows])
        report[name] = {"within_semitone": round(float(np.mean([r[name]["right"] for r in rows])), 4),
                        "voiced": round(float(np.mean([r[name]["voiced"] >= VOICED_SHARE for r in rows])), 4),
                        "level_db_below_loudest": round(float(levels.max() - levels.min()), 2)}
    report["clicks"] = int(sum(r["click"] for r in rows))
    report["per_note"] = rows
    return report


def melody_report(wave: np.ndarray, notes, sample_rate: int = SAMPLE_RATE) -> dict:
    """Is each note of a rendered line at its pitch from its first 40 ms, and are the notes equally loud?

    notes: objects with start, end (s), pitch (MIDI) and velocity. pYIN over the whole wave; each
    note is read over its onset window (40 ms after its start to 0.4 s, or to its end when shorter),
    and its level is the RMS of its held part. Returns {"notes", "onset_within_semitone",
    "onset_voiced", "level_spread_db" (90th minus 10th percentile of the note levels, velocities
    alike or not), "per_note": [...]}. ImportError without librosa."""
    times, f0, voiced = pyin_track(wave, sample_rate)
    onset_a, onset_b = NOTE_WINDOWS["onset"]
    rows = []
    for n in sorted(notes, key=lambda n: n.start):
        reading = window_reading(times, f0, voiced, n.start + onset_a, min(n.start + onset_b, n.end), n.pitch)
        rows.append({"start": round(n.start, 3), "pitch": int(n.pitch), "velocity": int(n.velocity), **reading,
                     "level_db": round(level_db(wave, n.start, n.end, sample_rate), 2)})
    if not rows:
        return {"notes": 0, "onset_within_semitone": None, "onset_voiced": None, "level_spread_db": None,
                "per_note": []}
    levels = np.array([r["level_db"] for r in rows])
    return {"notes": len(rows), "onset_within_semitone": round(float(np.mean([r["right"] for r in rows])), 4),
            "onset_voiced": round(float(np.mean([r["voiced"] >= VOICED_SHARE for r in rows])), 4),
            "level_spread_db": round(float(np.percentile(levels, 90) - np.percentile(levels, 10)), 2),
            "per_note": rows}


def pitch_report(waves: torch.Tensor, pitches: torch.Tensor, *, classifier=None, use_pyin: bool = True,
                 windows: bool = False) -> dict:
    """Judge notes against the pitches they were asked for.

    waves: (B, 64000) at 16 kHz; pitches: (B,) MIDI. Returns shares over the B notes:
    `pyin_within_semitone` (voiced and |f0 error| <= 1 semitone), `pyin_voiced`, `classifier_accuracy`
    (None without a classifier), `quietest_db_below_loudest`, `timbre_distance_db`, and per-note rows.
    With `windows` (and librosa) also the same pYIN share per window of a note's life
    (`onset_within_semitone`, `sustain_...`, `tail_...`), and `clicks`, the notes that end with one.
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
        from audiogen.gansynth.classifier_input import classify_waves

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
        if windows:
            through = note_windows_report(waves, pitches)
            report.update({f"{name}_within_semitone": through[name]["within_semitone"] for name in NOTE_WINDOWS})
            report["clicks"] = through["clicks"]
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
