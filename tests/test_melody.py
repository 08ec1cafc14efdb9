"""Melodies for MusicVAE: MIDI and ABC -> 16th-note events -> 16-step segments -> windows.

MIDI fixtures are written tick by tick with mido (pretty_midi's MIDI library), so tempo changes
and time signatures sit exactly where a test puts them; ABC fixtures are tiny inline tunes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from audiogen.data.melody import (NOTE_OFF, PAD, Melody, events_to_notes, melody_from_abc, melody_from_midi,
                                  note_on, segments, transpose, windows, windows_with_bars, write_midi)
from audiogen.data.midi_notes import MelodyInputError

mido = pytest.importorskip("mido")

TPQ = 480  # ticks per quarter note
DRUMS = 9  # MIDI channel 10


def write_midi_file(path: Path, tracks: list[dict], *, meters=((0, 4, 4),), tempos=((0, 120),)) -> Path:
    """A type-1 MIDI file. tracks: {"name", "program", "channel", "notes": [(start_q, end_q, pitch)]};
    meters: (quarter, numerator, denominator); tempos: (quarter, bpm)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    meta = [(round(q * TPQ), mido.MetaMessage("time_signature", numerator=n, denominator=d)) for q, n, d in meters]
    meta += [(round(q * TPQ), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))) for q, bpm in tempos]
    for events in [meta] + [_track_events(t) for t in tracks]:
        track = mido.MidiTrack()
        now = 0
        for tick, message in sorted(events, key=lambda e: e[0]):
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(path)
    return path


def _track_events(spec: dict) -> list:
    channel = spec.get("channel", 0)
    events = [(0, mido.MetaMessage("track_name", name=spec.get("name", ""))),
              (0, mido.Message("program_change", program=spec.get("program", 0), channel=channel))]
    for start, end, pitch in spec["notes"]:
        events.append((round(end * TPQ), mido.Message("note_off", note=pitch, velocity=0, channel=channel)))
        events.append((round(start * TPQ), mido.Message("note_on", note=pitch, velocity=90, channel=channel)))
    return events  # sorted() is stable: a note-off sorts before a note-on at the same tick


def beats(pitches, start=0.0, length=1.0):
    return [(start + i * length, start + (i + 1) * length, p) for i, p in enumerate(pitches)]


# --------------------------------------------------------------------------------------------- MIDI

def test_known_midi_gives_the_exact_event_sequence(tmp_path):
    melody = [(0, 1, 60), (0, 2, 64),  # same onset: the higher one
              (1, 1.5, 62),            # starts under the sounding 64: dropped
              (2, 2.5, 67),            # then a rest: note-off at step 10
              (3, 4, 65), (4, 4.25, 72),  # back to back: no note-off between
              (4.5, 5, 110),           # above the piano: dropped
              (6, 8, 21)]
    drums = {"name": "Drums", "channel": DRUMS, "notes": beats([36] * 8, length=1.0)}
    # The tempo halves after bar 1: quantising in seconds would put bar 2 in the wrong place.
    path = write_midi_file(tmp_path / "tune.mid", [drums, {"name": "Piano", "notes": melody}],
                           tempos=((0, 120), (4, 60)))
    m = melody_from_midi(path)
    expected = np.zeros(32, dtype=np.int8)
    expected[[0, 8, 10, 12, 16, 17, 24]] = [note_on(64), note_on(67), NOTE_OFF, note_on(65), note_on(72), NOTE_OFF,
                                             note_on(21)]
    np.testing.assert_array_equal(m.events, expected)
    assert m.bar_starts.tolist() == [0, 16] and m.time_signature == (4, 4) and m.steps_per_bar == 16
    assert (m.track, m.track_name) == (1, "Piano")  # instrument 0 is the drum kit
    assert (m.notes_total, m.notes_kept) == (7, 5)
    np.testing.assert_array_equal(windows(m, 2, 1), expected[None])
    assert events_to_notes(expected) == [(0, 8, 64), (8, 10, 67), (12, 16, 65), (16, 17, 72), (24, 32, 21)]


def test_track_choice_and_track_option(tmp_path):
    chords = [n for i in range(8) for n in ((i, i + 1, 60), (i, i + 1, 64), (i, i + 1, 67))]
    tracks = [{"name": "Piano", "program": 0, "channel": 0, "notes": chords},
              {"name": "Bass", "program": 33, "channel": 1, "notes": beats([36, 38, 40, 41, 43, 45, 47, 48])},
              {"name": "Flute", "program": 73, "channel": 2, "notes": beats([72, 74, 76, 77, 79, 81])},
              {"name": "Kit", "channel": DRUMS, "notes": beats([36] * 8)}]
    path = write_midi_file(tmp_path / "band.mid", tracks)
    # Chords keep a third of their notes, the bass is a bass: the monophonic flute is the melody.
    assert melody_from_midi(path).track_name == "Flute"
    named = write_midi_file(tmp_path / "named.mid", tracks + [
        {"name": "Lead Vocal", "program": 0, "channel": 3, "notes": beats([67, 69], start=4)}])
    chosen = melody_from_midi(named)
    assert chosen.track_name == "Lead Vocal" and chosen.track == 4
    assert melody_from_midi(path, track=0).events[:4].tolist() == [note_on(67), 0, 0, 0]
    with pytest.raises(MelodyInputError, match="track 3 is a drum track"):
        melody_from_midi(path, track=3)
    with pytest.raises(MelodyInputError, match="has no track 9"):
        melody_from_midi(path, track=9)


def test_drums_only_empty_and_unreadable_midi_are_refused(tmp_path):
    drums = write_midi_file(tmp_path / "drums.mid", [{"name": "Kit", "channel": DRUMS, "notes": beats([36] * 4)}])
    empty = write_midi_file(tmp_path / "empty.mid", [{"name": "Piano", "notes": []}])
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"MThd but not really")
    for path, kind in ((drums, "only drums"), (empty, "no notes"), (junk, "unreadable MIDI")):
        with pytest.raises(MelodyInputError) as caught:
            melody_from_midi(path)
        assert caught.value.kind == kind and caught.value.path == str(path)


@pytest.mark.parametrize("meter", [(3, 4), (6, 8)])
def test_three_four_and_six_eight_midi_are_kept_with_padding(tmp_path, meter):
    notes = beats([60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79], length=0.5)  # 2 bars of 12 steps
    path = write_midi_file(tmp_path / "t.mid", [{"notes": notes}], meters=((0, *meter),))
    m = melody_from_midi(path)
    assert m.time_signature == meter and m.steps_per_bar == 12 and m.bar_starts.tolist() == [0, 12]
    found = windows(m, 2, 1)
    assert found.shape == (1, 32)
    row = found[0]
    assert (row[12:16] == PAD).all() and (row[28:32] == PAD).all() and (row[:12] != PAD).all()
    assert row[[0, 2, 16]].tolist() == [note_on(60), note_on(62), note_on(71)]
    # Padding carries no time: the notes come back on the melody's own steps.
    assert events_to_notes(row) == [(2 * i, 2 * i + 2, p) for i, (_, _, p) in enumerate(notes)]


def test_meter_changes_start_a_new_grid_and_long_bars_split(tmp_path):
    # 4/4 bar, then 3/4 interrupted after two beats by 2/4: that bar is 8 steps; then 2/4 bars.
    notes = beats([60 + i for i in range(10)])
    path = write_midi_file(tmp_path / "changes.mid", [{"notes": notes}], meters=((0, 4, 4), (4, 3, 4), (6, 2, 4)))
    m = melody_from_midi(path)
    assert m.bar_starts.tolist() == [0, 16, 24, 32] and m.bar_steps.tolist() == [16, 8, 8, 8]
    assert m.time_signatures == ((0, 4, 4), (1, 3, 4), (2, 2, 4))
    assert m.meter() == "4/4+3/4+2/4" and m.meter(2, 3) == "2/4"
    found, first, last = windows_with_bars(m, 2, 1)
    assert first.tolist() == [0, 1, 2] and last.tolist() == [1, 2, 3]

    nine_eight = write_midi_file(tmp_path / "98.mid", [{"notes": beats([60, 62, 64], length=1.5)}],
                                 meters=((0, 9, 8),))
    m = melody_from_midi(nine_eight)
    segs, owner = segments(m)
    assert owner.tolist() == [0, 0] and m.steps_per_bar == 18
    assert segs[0].tolist() == [note_on(60)] + [0] * 5 + [note_on(62)] + [0] * 5 + [note_on(64)] + [0] * 3
    assert segs[1].tolist() == [0, 0] + [PAD] * 14


def test_windows_drop_silence_and_restate_held_notes():
    events = np.zeros(64, dtype=np.int8)  # 4 bars of 4/4
    events[0] = note_on(60)   # bar 0: a note held across into bar 1
    events[28] = NOTE_OFF     # bar 1: silent from step 12
    events[60] = note_on(62)  # bar 3: one beat of sound; bar 2 silent
    m = Melody(events=events, bar_starts=np.arange(0, 64, 16), time_signatures=((0, 4, 4),), source="x")
    found, first, _ = windows_with_bars(m, 2, 1)
    # Bars 0-1 sound 28 of 32 steps (kept), bars 1-2 12 of 32, bars 2-3 4 of 32 (dropped).
    assert first.tolist() == [0]
    found, first, _ = windows_with_bars(m, 1, 1)
    assert first.tolist() == [0, 1]  # 16 and 12 of 16 steps; bar 2 silent, bar 3 4 of 16
    assert found[1, 0] == note_on(60) and found[1, 12] == NOTE_OFF  # the held note restated at the window start


def test_transpose_drops_windows_leaving_the_piano():
    high = np.array([[note_on(105), 0, NOTE_OFF, PAD]], dtype=np.int8)
    low = np.array([[0, note_on(22), 0, PAD]], dtype=np.int8)
    rests = np.array([[NOTE_OFF, 0, 0, PAD]], dtype=np.int8)
    out, shift, index = transpose(np.concatenate([high, low, rests]), range(-2, 5))
    kept = {(int(s), int(i)) for s, i in zip(shift, index)}
    assert kept == {(s, 0) for s in range(-2, 4)} | {(s, 1) for s in range(-1, 5)} | {(s, 2) for s in range(-2, 5)}
    row = out[(shift == 3) & (index == 0)][0]
    assert row.tolist() == [note_on(108), 0, NOTE_OFF, PAD] and out.dtype == np.int8


def test_write_midi_round_trip(tmp_path):
    from audiogen.data.soundfonts import import_pretty_midi

    events = np.array([note_on(60), 0, 0, NOTE_OFF, PAD, PAD, note_on(67), 0, 0, 0], dtype=np.int8)
    path = write_midi(events, tmp_path / "out.mid", bpm=120, time_signature=(3, 4))
    pm = import_pretty_midi().PrettyMIDI(str(path))
    got = [(round(n.start / 0.125), round(n.end / 0.125), n.pitch) for n in pm.instruments[0].notes]
    assert got == events_to_notes(events) == [(0, 3, 60), (4, 8, 67)]
    assert (pm.time_signature_changes[0].numerator, pm.time_signature_changes[0].denominator) == (3, 4)


# ---------------------------------------------------------------------------------------------- ABC

JIG = """X:1
T:Test Jig
M:6/8
L:1/8
K:G
D|GAB cde|d2B G2z|[DF]2A dcB|A3 A2:|
|:B|c2d e2f|g3 z2|]
"""

WALTZ = """X:2
T:Test Waltz
M:3/4
L:1/4
K:C
C|E G c|c2 B A/|A-A G|E3|
"""


def test_abc_jig_in_six_eight_keeps_its_bar_lines():
    m = melody_from_abc(JIG, "tunes.abc:1")
    assert m.title == "Test Jig" and m.time_signature == (6, 8) and m.track is None
    # The pickup D ends a full first bar; "A3 A2" + the second part's pickup "B" make one bar;
    # the short last bar "g3 z2" stays 10 steps.
    assert m.bar_steps.tolist() == [12, 12, 12, 12, 12, 12, 10]
    segs, _ = segments(m)
    d, a, b, c, f_sharp, high_g = (note_on(p) for p in (62, 69, 71, 72, 66, 79))
    assert segs[0].tolist() == [0] * 10 + [d, 0] + [PAD] * 4
    assert segs[3].tolist() == [f_sharp, 0, 0, 0, a, 0, note_on(74), 0, c, 0, b, 0] + [PAD] * 4  # chord: top note
    assert segs[4].tolist() == [a] + [0] * 5 + [a, 0, 0, 0, b, 0] + [PAD] * 4
    assert segs[6].tolist() == [high_g] + [0] * 5 + [NOTE_OFF, 0, 0, 0] + [PAD] * 6
    assert windows(m, 2, 1).shape == (6, 32) and m.meter() == "6/8"


def test_abc_waltz_in_three_four_merges_ties_and_keeps_an_overlong_bar():
    m = melody_from_abc(WALTZ, "tunes.abc:9")
    # "c2 B A/" is 3.5 beats: music21 splits it as 3/4 + 1/8; it stays one 14-step bar.
    assert m.time_signatures == ((0, 3, 4),) and m.bar_steps.tolist() == [12, 12, 14, 12, 12]
    c, e, g, a, b, high_c = (note_on(p) for p in (60, 64, 67, 69, 71, 72))
    segs, _ = segments(m)
    assert segs[0].tolist() == [0] * 8 + [c, 0, 0, 0] + [PAD] * 4  # pickup on beat 3
    assert segs[2].tolist() == [high_c] + [0] * 7 + [b, 0, 0, 0, a, 0, PAD, PAD]
    assert segs[3].tolist() == [a] + [0] * 7 + [g, 0, 0, 0] + [PAD] * 4  # A-A tied: one note
    assert segs[4].tolist() == [e] + [0] * 11 + [PAD] * 4


def test_unparsable_abc_is_refused():
    with pytest.raises(MelodyInputError) as caught:
        melody_from_abc("X:1\nT:Nothing\nM:4/4\nK:C\nz4|z4|\n", "bad.abc:1")
    assert caught.value.path == "bad.abc:1" and caught.value.kind == "no notes"


# ---------------------------------------------------------------------------------------------- CLI

def _run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "CI": "1"}, cwd=cwd, timeout=300)


def test_cli_builds_windows_from_midi_and_abc_and_reports_skips(tmp_path):
    data = tmp_path / "data"
    (data / "abc").mkdir(parents=True)
    four = beats([60, 62, 64, 65, 67, 69, 71, 72])
    write_midi_file(data / "four.mid", [{"notes": four + [(q + 8, e + 8, p) for q, e, p in four]}])
    write_midi_file(data / "three.midi", [{"notes": beats([60, 64, 67, 72, 67, 64])}], meters=((0, 3, 4),))
    write_midi_file(data / "drums.mid", [{"channel": DRUMS, "notes": beats([36] * 8)}])
    (data / "junk.mid").write_bytes(b"not a MIDI file")
    (data / "abc" / "tunes.abc").write_text(JIG + "\n" + WALTZ)
    (data / "notes.txt").write_text("ignored: not a melody file")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "junk.mid").write_bytes(b"not a MIDI file")
    write_midi_file(bad / "ok.mid", [{"notes": four}])
    out = tmp_path / "out" / "melodies.npz"
    runs = [["data", "melodies", "--data", data, "--out", out, "--transpose", "-1..1", "--json", "--quiet"],
            ["data", "melodies", "--data", bad, "--out", tmp_path / "strict.npz", "--strict"],
            ["data", "melodies", "--data", data / "drums.mid", "--out", tmp_path / "none.npz"]]
    with ThreadPoolExecutor(max_workers=3) as pool:
        ok, strict, empty = pool.map(lambda a: _run(a, tmp_path), runs)

    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)  # stdout is exactly one JSON document
    assert (report["midi_files"], report["abc_tunes"], report["melodies"]) == (4, 2, 4)
    # four.mid: 4 bars -> 3 windows; three.midi: 2 bars -> 1; jig 7 bars -> 6; waltz 5 bars -> 4.
    assert report["windows_by_meter"] == {"4/4": 3, "3/4": 5, "6/8": 6}
    assert report["windows_before_transpose"] == 14 and report["windows"] == 42
    assert report["skipped"]["reasons"] == {"only drums": 1, "unreadable MIDI": 1}
    assert report["args"]["transpose"] == [-1, 1]
    with np.load(out) as saved:  # no pickle needed
        events, meter, source = saved["events"], saved["meter"], saved["sources"][saved["source"]]
        assert events.shape == (42, 32) and events.dtype == np.int8
        assert sorted(set(meter.tolist())) == ["3/4", "4/4", "6/8"]
        three_four = events[source == str(data / "three.midi")]
        assert len(three_four) == 3 and (meter[source == str(data / "three.midi")] == "3/4").all()
        assert (three_four[:, 12:16] == PAD).all() and (three_four[:, 28:32] == PAD).all()
        assert sorted(set(saved["transpose"].tolist())) == [-1, 0, 1]
        assert (source == str(data / "four.mid")).sum() == 9
    assert "skipped" in ok.stderr and "junk.mid" in ok.stderr

    assert strict.returncode == 2 and not (tmp_path / "strict.npz").exists()
    # One error line, last (the progress bar's final state and pyfluidsynth's CI notice may precede it).
    last = strict.stderr.strip().splitlines()[-1]
    assert strict.stderr.count("audiogen: error:") == 1 and last.startswith("audiogen: error: ")
    assert str(bad / "junk.mid") in last and "--strict" in last

    assert empty.returncode == 2 and not (tmp_path / "none.npz").exists()
    last = empty.stderr.strip().splitlines()[-1]
    assert last.startswith("audiogen: error: no windows") and "only drums 1" in last


def test_first_voice_keeps_only_the_first_voice_of_a_multi_voice_tune():
    from audiogen.data.midi_notes import first_voice, read_abc_notes

    tune = "X:1\nT:Two voices\nM:2/4\nL:1/8\nV:1\nV:2\nK:D\nV:1\nDEFG|\nV:2\nA,B,CD|\nV:1\nabc'd'|\n"
    assert first_voice(tune) == "X:1\nT:Two voices\nM:2/4\nL:1/8\nK:D\nDEFG|\nabc'd'|\n"
    single = "X:1\nT:One\nM:2/4\nL:1/8\nK:D\nDEFG|\n"
    assert first_voice(single) == single
    notes = read_abc_notes(tune, "two-voices")
    assert [int(p) for p in notes.notes[:, 2]] == [62, 64, 66, 67, 81, 83, 85, 86]


REPEATED = """X:5
T:Repeats
M:4/4
L:1/4
K:C
|:C D E F|G A B c:|
|:c B A G|[1 F E D C:|[2 E D C2|]
"""


def test_expanded_repeats_play_each_part_and_ending_in_turn():
    """Written: 2 + 3 bars; played: A A (4 bars) + B with ending 1, B with ending 2 (4 bars)."""
    written = melody_from_abc(REPEATED, "tunes.abc:1")
    played = melody_from_abc(REPEATED, "tunes.abc:1", expand_repeats=True)
    assert len(written.bar_steps) == 5 and len(played.bar_steps) == 8
    assert played.bar_steps.tolist() == [16] * 8
    segs, _ = segments(played)
    c, f, e = note_on(60), note_on(65), note_on(64)
    assert segs[2].tolist() == segs[0].tolist() and segs[0][0] == c  # the A part again
    assert segs[5][0] == f and segs[7][0] == e  # first ending, then second ending
    assert windows(played, 2, 1).shape == (7, 32) and windows(written, 2, 1).shape == (4, 32)


def test_a_second_ending_without_a_first_is_played_as_abc2midi_plays_it():
    tune = "X:6\nT:Odd\nM:4/4\nL:1/4\nK:C\nC D E F:|G A B c|[2 c4|]\n"  # a second ending with no first
    as_written = melody_from_abc(tune, "tunes.abc:1")
    expanded = melody_from_abc(tune, "tunes.abc:1", expand_repeats=True)
    assert len(as_written.bar_steps) == 3
    # abc2midi 4.84: C D E F C D E F G A B c (the repeat taken; [2 is not this pass's ending)
    segs, _ = segments(expanded)
    assert [row[0] for row in segs] == [note_on(60), note_on(60), note_on(67)]
