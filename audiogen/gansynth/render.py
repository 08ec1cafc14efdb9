"""Playing a MIDI file with one GANSynth instrument (GANSynth's Bach-prelude demo).

Every note is a generated 4-s note at its pitch, made as loud as the model's other notes (each
pitch normalised against the model's own loudness there), shaped by a 10 ms attack and a 0.3 s
release at its MIDI end (cut at 4 s) that falls 100 dB linearly in dB, as a SoundFont's volume
envelope does, scaled by velocity through the samplers' default curve ((velocity / 127)^2, -12 dB
at velocity 64) and mixed; the mix is scaled down, never clipped. `audiogen export gansynth`
writes the same notes and envelope as an SF2 or SFZ instrument. One latent plays the whole piece, or with `interpolate_every` the latent glides (slerp)
between random anchors placed that many seconds apart. Notes sharing a pitch and a latent are
generated once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from audiogen.errors import BadInputError

ATTACK = 0.01
RELEASE = 0.3
NOTE_SECONDS = 4.0
GLIDE_STEPS = 8  # latent positions per interpolation segment (notes in one share a note)


@dataclass(frozen=True)
class MidiNote:
    start: float     # seconds
    end: float
    pitch: int
    velocity: int


def read_played_notes(path: str | os.PathLike) -> tuple[list[MidiNote], int]:
    """Every pitched note of a MIDI file (all tracks), sorted by start, and the count of drum notes
    left out. BadInputError for a file that is not a readable MIDI file, or holds no notes, or drums only."""
    import warnings

    from audiogen.data.soundfonts import import_pretty_midi
    from audiogen.errors import require_file

    pretty_midi = import_pretty_midi()
    path = require_file(path, "a MIDI file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi warns about odd but readable files
            midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as e:  # mido / pretty_midi raise many types for a corrupt file
        raise BadInputError(path, f"not a readable MIDI file ({str(e).strip() or type(e).__name__})") from None
    notes, drums = [], 0
    for instrument in midi.instruments:
        if instrument.is_drum:
            drums += len(instrument.notes)
            continue
        notes += [MidiNote(float(n.start), float(n.end), int(n.pitch), int(n.velocity))
                  for n in instrument.notes if n.end > n.start]
    if not notes:
        raise BadInputError(path, "holds only drum notes; nothing to play" if drums else "holds no notes")
    return sorted(notes, key=lambda n: (n.start, n.pitch)), drums


def fit_to_range(notes: list[MidiNote], low: int, high: int) -> tuple[list[MidiNote], int]:
    """Transpose notes outside [low, high] by whole octaves into it; returns (notes, how many moved)."""
    moved, out = 0, []
    for n in notes:
        p = n.pitch
        while p < low:
            p += 12
        while p > high:
            p -= 12
        if not low <= p <= high:  # a range narrower than an octave
            p = min(max(n.pitch, low), high)
        moved += p != n.pitch
        out.append(MidiNote(n.start, n.end, p, n.velocity))
    return out, moved


RELEASE_DB = 100.0  # the release falls this far over RELEASE seconds


def velocity_gain(velocity: int) -> float:
    """MIDI velocity -> amplitude gain, (velocity / 127)^2 (40 log10(v / 127) dB): the default
    velocity curve of SFZ (amp_veltrack 100) and of a SoundFont's default modulator."""
    return (max(0, min(127, velocity)) / 127.0) ** 2


def envelope(length: int, held: int, sample_rate: int) -> np.ndarray:
    """(length,) gain: linear attack over 10 ms, 1 until `held` samples, then a release that falls
    RELEASE_DB linearly in dB over RELEASE seconds (a sampler's release), reaching 0 at its end."""
    t = np.arange(length)
    attack = np.minimum(1.0, t / max(1, int(ATTACK * sample_rate)))
    into_release = (t - held) / max(1, int(RELEASE * sample_rate))
    release = np.where(into_release >= 1.0, 0.0, 10.0 ** (-RELEASE_DB * np.clip(into_release, 0.0, 1.0) / 20))
    return (attack * np.where(t < held, 1.0, release)).astype(np.float32)


def path_positions(notes: list[MidiNote], interpolate_every: float | None) -> list[float]:
    """Each note's position on the latent path: 0 with one latent, else its start / interpolate_every
    rounded to 1/GLIDE_STEPS of a segment."""
    if not interpolate_every:
        return [0.0] * len(notes)
    return [round(n.start / interpolate_every * GLIDE_STEPS) / GLIDE_STEPS for n in notes]


def latent_at(anchors: torch.Tensor, position: float) -> torch.Tensor:
    """The latent at a path position: slerp between anchors floor(position) and the next."""
    from audiogen.runtime.latents import slerp

    k = min(int(position), len(anchors) - 1)
    if k + 1 >= len(anchors):
        return anchors[k]
    return slerp(anchors[k], anchors[k + 1], position - k)


def render_midi(bundle, notes: list[MidiNote], anchors: torch.Tensor, *, interpolate_every: float | None = None,
                batch: int = 16, on_start=None, on_notes=None) -> tuple[np.ndarray, dict]:
    """Play `notes` (already within the model's range) -> (mono float32 wave at 16 kHz, info).

    anchors: (K, latent) latents; one is enough without `interpolate_every`. `on_start(total)`
    and `on_notes(n)` drive a progress bar over the distinct notes generated.
    """
    from audiogen.gansynth.generate import equal_loudness, generate_notes

    sr = bundle.sample_rate
    positions = path_positions(notes, interpolate_every)
    keys = sorted({(n.pitch, pos) for n, pos in zip(notes, positions)})
    z = torch.stack([latent_at(anchors, pos) for _, pos in keys])
    if on_start is not None:
        on_start(len(keys))
    waves = generate_notes(bundle, z, torch.tensor([p for p, _ in keys]), batch=batch, on_notes=on_notes)
    waves = equal_loudness(waves, sr).numpy()
    index = {key: i for i, key in enumerate(keys)}
    note_len = int(NOTE_SECONDS * sr)
    last = max(n.start + min(n.end - n.start, NOTE_SECONDS - RELEASE) for n in notes)
    total = int(np.ceil((last + RELEASE) * sr))
    mix = np.zeros(total + note_len, np.float32)
    cut = 0
    for n, pos in zip(notes, positions):
        start = int(round(n.start * sr))
        held = int(round((n.end - n.start) * sr))
        if held + int(RELEASE * sr) > note_len:
            cut += 1
            held = note_len - int(RELEASE * sr)
        length = min(note_len, held + int(RELEASE * sr))
        mix[start:start + length] += waves[index[(n.pitch, pos)]][:length] * envelope(length, held, sr) * velocity_gain(n.velocity)
    mix = mix[:total]
    peak = float(np.abs(mix).max()) if len(mix) else 0.0
    scale = min(1.0, 0.99 / peak) if peak > 0 else 1.0
    return mix * scale, {"notes": len(notes), "generated_notes": len(keys), "cut_to_4s": cut,
                         "seconds": total / sr, "gain": scale}
