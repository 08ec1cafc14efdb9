"""Our ABC reader (`audiogen.notation.notes`): each construct against a hand-written note list, and a
few tunes against abc2midi's MIDI."""

from __future__ import annotations

import shutil

import pytest

from audiogen.notation.notes import key_signature, played_out, read_tune

HEAD = "X:1\nT:t\nM:4/4\nL:1/4\n"


def notes(body: str, *, key: str = "C", header: str = HEAD, expand: bool = False, graces: bool = False):
    """[(onset, length, pitch)] in quarter notes of a tune with this body."""
    tune = read_tune(f"{header}K:{key}\n{body}\n")
    if expand:
        tune = played_out(tune)
    return [(tune.quarters(n.start), tune.quarters(n.length), n.pitch) for n in tune.notes if graces or not n.grace]


def pitches(body: str, **kwargs) -> list[int]:
    return [p for _, _, p in notes(body, **kwargs)]


def test_keys_and_modes():
    assert key_signature("D") == {"F": 1, "C": 1}
    assert key_signature("Ador") == {"F": 1} and key_signature("Amin") == {} and key_signature("Am") == {}
    assert key_signature("Bb") == {"B": -1, "E": -1} and key_signature("Gm") == {"B": -1, "E": -1}
    assert key_signature("D mix") == {"F": 1} and key_signature("E Phrygian") == {}
    assert key_signature("F exp ^c") == {"C": 1} and key_signature("G ^c") == {"F": 1, "C": 1}
    assert key_signature("none") == {} and key_signature("C clef=bass % comment") == {}
    assert pitches("F c f", key="D") == [66, 73, 78]
    assert pitches("B e E", key="Bb") == [70, 75, 63]


def test_accidentals_last_to_the_bar_line_in_every_octave_and_naturals_cancel():
    assert pitches("^F F f | F") == [66, 66, 78, 65]          # abc2midi carries an accidental to every octave
    assert pitches("=F F | F", key="D") == [65, 65, 66]       # a natural lasts the bar, then the key again
    assert pitches("_B ^^C __D =B") == [70, 62, 60, 71]


def test_octave_marks():
    assert pitches("C, C c c' C,, c''") == [48, 60, 72, 84, 36, 96]


def test_lengths_broken_rhythm_and_tuplets():
    assert notes("A2 B/ c3/2 d// e") == [(0, 2, 69), (2, .5, 71), (2.5, 1.5, 72), (4, .25, 74), (4.25, 1, 76)]
    assert notes("A>B A<B A>>B") == [(0, 1.5, 69), (1.5, .5, 71), (2, .5, 69), (2.5, 1.5, 71), (4, 1.75, 69),
                                     (5.75, .25, 71)]
    third = 2 / 3
    got = notes("(3ABc d")
    assert [round(o, 6) for o, _, _ in got] == [0, round(third, 6), round(2 * third, 6), 2]
    assert pitches("A>.B", header=HEAD) == [69, 71] and notes("A>.B")[1][0] == 1  # as abc2midi: no dotting


def test_chords_give_every_note_with_the_first_note_s_length():
    assert sorted(notes("[CEG]2 [C2E2] [CE]3/2")) == [(0, 2, 60), (0, 2, 64), (0, 2, 67), (2, 2, 60), (2, 2, 64),
                                                        (4, 1.5, 60), (4, 1.5, 64)]


def test_ties_join_notes_across_bar_lines_and_keep_their_accidental():
    assert notes("A2- | A2 B") == [(0, 4, 69), (4, 1, 71)]
    assert notes("^F- | F F") == [(0, 2, 66), (2, 1, 65)]     # abc2midi: the tied F stays sharp
    assert notes("A-B") == [(0, 1, 69), (1, 1, 71)]           # a tie between two pitches joins nothing
    assert sorted(notes("[CE]-[CE]")) == [(0, 2, 60), (0, 2, 64)]


def test_grace_notes_are_marked_and_take_no_time():
    tune = read_tune(f"{HEAD}K:C\n{{^g}}A B\n")
    assert [(tune.quarters(n.start), n.pitch, n.grace, n.length) for n in tune.notes] == [
        (0, 80, True, 0), (0, 69, False, tune.notes[1].length), (1, 71, False, tune.notes[2].length)]
    assert notes("{g}A B") == [(0, 1, 69), (1, 1, 71)]


def test_first_and_second_endings_and_a_single_section_repeat():
    body = "|: C D |1 E F :|2 G A || B c"
    assert pitches(body) == [60, 62, 64, 65, 67, 69, 71, 72]                       # as written
    assert pitches(body, expand=True) == [60, 62, 64, 65, 60, 62, 67, 69, 71, 72]  # played out
    assert pitches("C D | E F :|", expand=True) == [60, 62, 64, 65] * 2           # the whole tune, twice
    assert pitches("C D :| E F :|", expand=True) == [60, 62, 60, 62, 64, 65, 64, 65]
    assert pitches("C D :| E F || G A :|", expand=True) == [60, 62, 60, 62, 64, 65, 67, 69, 67, 69]
    expanded = notes("|: C D :|", expand=True)
    assert [o for o, _, _ in expanded] == [0, 1, 2, 3]


def test_inline_fields_change_key_meter_and_unit():
    assert pitches("F [K:G] F | F") == [65, 66, 66]
    assert notes("A [L:1/8] A A | [M:3/4] [L:1/2] A") == [(0, 1, 69), (1, .5, 69), (1.5, .5, 69), (2, 2, 69)]
    body = "A B\nK:D\nF\nL:1/8\nF"
    assert notes(body) == [(0, 1, 69), (1, 1, 71), (2, 1, 66), (3, .5, 66)]


def test_dynamics_set_velocity_and_fermatas_keep_the_written_length():
    tune = read_tune(f"{HEAD}K:C\nA !p! B !ff! c HA !fermata!B\n")
    assert [n.velocity for n in tune.notes] == [80, 60, 120, 120, 120]
    assert [tune.quarters(n.length) for n in tune.notes] == [1, 1, 1, 1, 1]


def test_old_line_breaks_and_dangling_accidentals():
    assert pitches("A B !C D\nE") == [69, 71, 60, 62, 64]   # "!" with no decoration: a line break
    assert pitches("A =\nF", key="D") == [69, 66]            # an accidental with no note is dropped


def test_title_meter_and_tempo_from_the_header():
    tune = read_tune("X:1\nT:First\nT:Second\nM:6/8\nQ:3/8=60\nL:1/8\nK:G\nABc|\n")
    assert tune.title == "First" and tune.meter == (6, 8) and tune.tempo_qpm == 90


def test_garbage_gets_one_line_and_exit_2(tmp_path):
    import os

    from clitools import run_cli

    from audiogen.data.midi_notes import MelodyInputError, read_abc_notes

    with pytest.raises(MelodyInputError, match="no notes"):
        read_abc_notes("X:1\nT:rests\nK:C\nz4|Z|\n", "rests.abc:1")
    (tmp_path / "junk.abc").write_bytes(b"\x00\x01\x02 junk {[(\n")
    (tmp_path / "rests.abc").write_text("X:1\nT:rests\nK:C\nz4|z4|\n")
    for name in ("junk.abc", "rests.abc"):
        done = run_cli(["data", "melodies", "--data", str(tmp_path / name), "--out", str(tmp_path / "m.npz")],
                       dict(os.environ), tmp_path)
        errors = [line for line in done.stderr.splitlines() if line.startswith("audiogen: error:")]
        assert done.code == 2 and "Traceback" not in done.stderr and len(errors) == 1, done
        assert "no windows extracted" in errors[0] and done.stderr.rstrip().endswith(errors[0]), done
        assert not (tmp_path / "m.npz").exists()


TUNES = [
    "X:1\nT:Jig\nM:6/8\nL:1/8\nK:G\n|:D|G2B AGA|B2d e2d|[1 gfe dBA:|[2 gfe d2||\nK:D\n(3efg a>f d2|]\n",
    "X:2\nT:Reel\nM:C|\nL:1/8\nK:Ador\nEA~A2 =cAeA|^G2Bd egdB|[CEA]2 A>B c2-c>B|A4 z4::\nac'ba gede|gage d2Bd:|\n",
    "X:3\nT:Air\nM:3/4\nL:1/4\nK:F\nA>B c|(3dcB A|!f! _E2 =E|F3|]\n",
]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (Debian abcmidi) is not installed")
@pytest.mark.parametrize("text", TUNES)
def test_notes_agree_with_abc2midi(text, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from abc_read import judged_by_abc2midi

    from types import SimpleNamespace

    assert judged_by_abc2midi(SimpleNamespace(text=text), str(tmp_path)) == "same"


def test_bars_between_bar_lines_with_pickup_and_missing_bar_lines():
    from audiogen.data.midi_notes import read_abc_notes

    read = read_abc_notes("X:1\nT:t\nM:3/4\nL:1/4\nK:C\nC | D E F | G A B c d e | f2 ||\n", "t.abc:1")
    assert [(b.start, b.length) for b in read.bars] == [(0, 3), (3, 3), (6, 3), (9, 3), (12, 2)]
    assert read.notes[0].tolist() == [2, 3, 60]  # the pickup ends the first, full-length bar


@pytest.mark.parametrize("body, played", [
    ("|: C |1 D :|2 E :: F |1 G :|2 A |]", [60, 62, 60, 64, 65, 67, 65, 69]),  # abc2midi's order
    ("|: C |1 D :|2 E :: F :|", [60, 62, 60, 64, 65, 65]),                     # :: closing a last ending
    ("|: C |1-2 D :|3 E ||", [60, 62, 60, 62, 60, 64]),                        # an ending for passes 1 and 2
    ("C ||: D E :|", [60, 62, 64, 62, 64]),                                    # ||: opens a repeat
])
def test_repeats_and_endings_played_out(body, played):
    assert pitches(body, expand=True) == played


def test_broken_rhythm_only_between_notes_written_alike_and_ties_across_a_key_change():
    assert notes("A2>B C") == [(0, 2, 69), (2, 1, 71), (3, 1, 60)]   # abc2midi: A2>B is not dotted
    assert notes("A2>B2 C") == [(0, 3, 69), (3, 1, 71), (4, 1, 60)]
    assert pitches("F- [K:D] F F") == [65, 66, 66]                   # the new key: no longer one note
    assert sorted(notes("[{g}CE] D")) == [(0, 1, 60), (0, 1, 64), (1, 1, 62)]
