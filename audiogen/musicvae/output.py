"""Writing generated melodies: one MIDI file each (and a WAV through FluidSynth), plus joined sequences."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from audiogen.data.melody import PAD, SEGMENT_STEPS, write_midi

METER_OF_SEGMENT = {16: (4, 4), 12: (3, 4), 8: (2, 4), 6: (3, 8), 4: (1, 4)}


def time_signature(events: np.ndarray, meter: str | None = None,
                   preferred: dict[int, str] | None = None) -> tuple[int, int] | None:
    """The time signature to write: `meter` ("6/8") when given, else read from the first segment's
    padding: `preferred` maps real steps per segment to a meter ({12: "6/8"}: 3/4 and 6/8 bars
    are both 12 steps, so the padding alone cannot tell them apart), else METER_OF_SEGMENT."""
    real = int((np.asarray(events).reshape(-1)[:SEGMENT_STEPS] != PAD).sum())
    meter = meter or (preferred or {}).get(real)
    if meter:
        numerator, denominator = meter.split("/")
        return int(numerator), int(denominator)
    return METER_OF_SEGMENT.get(real)


def preferred_meters(histogram: dict[str, int] | None) -> dict[int, str]:
    """Real steps per segment -> the meter of that length most common in a model's training
    windows (its `meters` histogram), e.g. {16: "4/4", 12: "6/8"} for a corpus of jigs; x/2 meters
    are left out (2/2 is written 4/4)."""
    chosen: dict[int, tuple[int, str]] = {}
    for meter, count in (histogram or {}).items():
        try:
            numerator, denominator = (int(p) for p in meter.split("/"))
        except ValueError:
            continue
        steps = numerator * 16 // denominator
        if denominator <= 2:  # cut time reads as 4/4 and 2/4: only simple vs compound is in question
            continue
        if steps in METER_OF_SEGMENT and count > chosen.get(steps, (0, ""))[0]:
            chosen[steps] = (count, meter)
    return {steps: meter for steps, (_, meter) in chosen.items()}


class MelodyWriter:
    """Writes event sequences into `out_dir` as MIDI (bpm, GM program) and, with `wav`, as WAV files
    at the tool's output level plus `gain_db`.

    `write(events, stem)` returns {"midi", "wav", "notes"}. Use it as a context manager: the files
    of one run are a set (`runtime.output_sets`) that replaces this `command`'s earlier set in
    `out_dir`, and a run that fails leaves none of its files; `force` lets it replace files another
    command wrote there.
    """

    def __init__(self, out_dir: str | os.PathLike, *, bpm: float = 120.0, program: int = 0,
                 meter: str | None = None, wav: bool = False, soundfont: str | os.PathLike | None = None,
                 sample_rate: int = 22050, command: str = "musicvae", meters: dict[str, int] | None = None,
                 gain_db: float = 0.0, force: bool = False):
        from audiogen.errors import BadInputError
        from audiogen.runtime.output_sets import OutputSet

        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise BadInputError(self.out_dir, "is a file; expected a folder for the MIDI files")
        self.bpm, self.program, self.meter, self.sample_rate = bpm, program, meter, sample_rate
        self.gain_db = gain_db
        self.preferred = preferred_meters(meters)
        self._renderer = None
        if wav:
            from audiogen.data.soundfonts import MidiRenderer

            self._renderer = MidiRenderer(soundfont, sample_rate)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.outputs = OutputSet(self.out_dir, command, force=force)

    def write(self, events: np.ndarray | list[np.ndarray], stem: str) -> dict:
        """One melody, or a list of melodies played one after another, each in its own meter
        (a time-signature change wherever the next one's differs)."""
        from audiogen.data.melody import events_to_notes

        parts = events if isinstance(events, list) else [events]
        meters = [time_signature(part, self.meter, self.preferred) for part in parts]
        changes, offset = [], 0
        for part, meter, previous in zip(parts, meters, [meters[0]] + meters[:-1]):
            if offset and meter is not None and meter != previous:
                changes.append((offset, meter))
            offset += int((np.asarray(part) != PAD).sum())
        events = np.concatenate(parts)
        path = self.out_dir / f"{stem}.mid"
        staged = write_midi(events, self.outputs.stage(path), bpm=self.bpm, program=self.program,
                            time_signature=meters[0], meter_changes=changes)
        entry = {"midi": str(path), "wav": None, "notes": len(events_to_notes(events))}
        if self._renderer is not None and entry["notes"]:
            from audiogen.dsp import save_audio
            from audiogen.dsp.loudness import output_peak_dbfs

            wave = self._renderer.render_midi(staged)
            save_audio(self.outputs.stage(path.with_suffix(".wav")), wave, self.sample_rate,
                       peak_dbfs=output_peak_dbfs(self.gain_db))
            entry["wav"] = str(path.with_suffix(".wav"))
        return entry

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "MelodyWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
        if exc_type is None:
            self.outputs.commit()
            return
        reworded = self.outputs.fail(exc)
        if reworded is not None:
            raise reworded from None
