"""Edits of a MIDI file in place: one tempo for the whole file, one GM program for every pitched part."""

from __future__ import annotations

import os

DRUM_CHANNEL = 9  # GM percussion (channel 10, counted from 1)


def set_tempo_and_program(path: str | os.PathLike, *, bpm: float | None = None, program: int | None = None) -> None:
    """Rewrite `path`: with `bpm` every tempo event becomes `bpm` quarter notes a minute (one is
    added at time 0 when the file has none); with `program` every pitched channel plays that GM
    program (0-127) from time 0, drums (channel 10) untouched. Note timing in ticks is kept, so
    notes stay on their beats."""
    import mido

    midi = mido.MidiFile(str(path))
    if bpm is not None:
        tempo = mido.bpm2tempo(bpm)
        found = False
        for track in midi.tracks:
            for message in track:
                if message.type == "set_tempo":
                    message.tempo, found = tempo, True
        if not found:
            midi.tracks[0].insert(0, mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    if program is not None:
        for track in midi.tracks:
            channels = sorted({m.channel for m in track if m.type in ("note_on", "note_off", "program_change")
                               and m.channel != DRUM_CHANNEL})
            # The removed program changes may have carried delta time: give it to the next message.
            rebuilt, carry = [], 0
            for message in track:
                if message.type == "program_change" and message.channel != DRUM_CHANNEL:
                    carry += message.time
                    continue
                rebuilt.append(message.copy(time=message.time + carry) if carry else message)
                carry = 0
            track[:] = [mido.Message("program_change", channel=c, program=program, time=0) for c in channels] + rebuilt
    midi.save(str(path))
