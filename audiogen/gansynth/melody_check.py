"""Melodies played with one timbre and read back by pYIN: what a musician hears first.

A folder of held-out MIDI melodies is played by the model with a few timbres (each the latent
`--rng-seed N` gives `render gansynth`), or by a SoundFont through FluidSynth for comparison;
every render is judged by `pitch_check.melody_report` (each note's pitch over its first 0.4 s,
the spread of the note levels). `eval gansynth --melodies` and the training check use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MELODY_SEEDS = (1, 2)  # the timbres each melody is played with: latents of --rng-seed 1 and 2


def melody_files(paths: list[str | os.PathLike]) -> list[Path]:
    """The .mid/.midi files among `paths` (folders searched recursively), sorted by name within
    each folder. BadInputError for a path that does not exist or a folder without MIDI files."""
    from audiogen.errors import BadInputError

    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".mid", ".midi") and p.is_file())
            if not found:
                raise BadInputError(path, "holds no .mid files")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise BadInputError(path, "no such file or folder")
    return files


def read_melodies(paths: list[str | os.PathLike], *, skips=None) -> list[tuple[Path, list]]:
    """(path, notes) for every MIDI file: its pitched notes as `render gansynth` reads them. A file
    that is not a readable MIDI file, or holds no pitched notes, is skipped into `skips` (a
    SkipLog: a warning, or the error with --strict); AudiogenError when none is left."""
    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError, BadInputError
    from audiogen.gansynth.render import read_played_notes

    skips = skips if skips is not None else SkipLog()
    melodies = []
    for path in melody_files(paths):
        try:
            melodies.append((path, read_played_notes(path)[0]))
        except BadInputError as e:
            skips.skip(e.path, e.problem)
    if not melodies:
        raise AudiogenError(f"no usable melodies in {', '.join(map(str, paths))}")
    return melodies


def _row(name: str, timbre, report: dict) -> dict:
    right = sum(r["right"] for r in report["per_note"])
    from audiogen.gansynth.pitch_check import VOICED_SHARE

    voiced = sum(r["voiced"] >= VOICED_SHARE for r in report["per_note"])
    return {"melody": name, "timbre": timbre, "notes": report["notes"], "right": int(right), "voiced": int(voiced),
            "onset_within_semitone": report["onset_within_semitone"], "level_spread_db": report["level_spread_db"]}


def play_with_model(bundle, melodies: list[tuple[Path, list]], *, seeds=MELODY_SEEDS, latents=None,
                    on_render=None) -> list[dict]:
    """Render every melody with every timbre and judge it: one row per render. Notes outside the
    model's range move by octaves, as `render gansynth` moves them. `latents` (K, latent) replaces
    the seeds' latents (the training check plays its grid's)."""
    from audiogen.gansynth.generate import latent_from_seed
    from audiogen.gansynth.pitch_check import melody_report
    from audiogen.gansynth.render import fit_to_range, render_midi

    if latents is None:
        import torch

        latents = torch.stack([latent_from_seed(seed, bundle.config.latent) for seed in seeds])
        names = list(seeds)
    else:
        names = [f"latent {i}" for i in range(len(latents))]
    rows = []
    for path, notes in melodies:
        notes, _ = fit_to_range(notes, *bundle.pitch_range)
        for timbre, z in zip(names, latents):
            wave, _ = render_midi(bundle, notes, z[None])
            rows.append(_row(Path(path).stem, timbre, melody_report(wave, notes, bundle.sample_rate)))
            if on_render is not None:
                on_render()
    return rows


def play_with_soundfont(soundfont: str | os.PathLike, program: int | None, melodies: list[tuple[Path, list]], *,
                        sample_rate: int = 16000, on_render=None) -> list[dict]:
    """Render every melody file through FluidSynth with `soundfont` (every part as `program`, or
    its own when None) and judge it as the model's renders are."""
    from audiogen.data.soundfonts import MidiRenderer
    from audiogen.gansynth.pitch_check import melody_report

    rows = []
    with MidiRenderer(soundfont, sample_rate=sample_rate) as synth:
        for path, notes in melodies:
            wave = synth.render_midi(path, program=program)
            rows.append(_row(path.stem, Path(soundfont).name, melody_report(wave, notes, sample_rate)))
            if on_render is not None:
                on_render()
    return rows


def summarise(rows: list[dict]) -> dict:
    """Figures over renders: `onset_within_semitone` and `onset_voiced` pooled over all their notes,
    the worst and median level spread (dB), and the rows themselves."""
    notes = sum(r["notes"] for r in rows)
    spreads = [r["level_spread_db"] for r in rows if r["level_spread_db"] is not None]
    return {"renders": len(rows), "notes": notes,
            "onset_within_semitone": round(sum(r["right"] for r in rows) / notes, 4) if notes else None,
            "onset_voiced": round(sum(r["voiced"] for r in rows) / notes, 4) if notes else None,
            "level_spread_db_max": round(max(spreads), 2) if spreads else None,
            "level_spread_db_median": round(float(np.median(spreads)), 2) if spreads else None,
            "renders_detail": rows}
