"""Notes of ABC tunes: the bar reader (`notation.bars.BarTracker`) walking the text once and emitting
every note with its pitch, onset and length, as abc2midi plays it (docs/design.md §10).

`read_tune(text)` gives the tune as written: notes in ticks (`TICKS` to a whole note), the bar
lines, repeat marks and endings where they fall, the title, meter and tempo. `played_out(tune)`
plays its repeats and endings out. What follows abc2midi (4.84), checked against its MIDI:
- pitch: C = MIDI 60, c = 72, each ' an octave up and each , one down; the key signature of `K:`
  (tonic, mode, explicit accidentals such as `K:D exp ^c`), an accidental lasting to the bar line
  and applying to its letter in every octave; a note tied over a bar line keeps its accidental;
- lengths as `BarTracker` reads them (unit, suffix, tuplets, broken rhythm), except a fermata:
  abc2midi plays the note twice as long, we keep its written length so that bars stay in meter;
- chords give all their notes; tied notes (`-`) are joined; grace notes (`{...}`) are kept, marked,
  with no length (abc2midi takes their time from the next note; melodies drop them);
- dynamics (`!p!`, `!ff!`, ...) set the velocity of the notes after them;
- repeats: `:|` goes back to the last `|:`, or past the last `:|`/`::` played, or to the tune's start; the
  first time through a section plays ending 1, the second ending 2 (`|1`, `:|2`, `[1`), a third
  time (a later `:|` that goes back as far) neither; `|1-2` and `|1,3` are played on each pass
  they name; a `:|` or `::` that closes a section's last ending goes on (a new section); a
  skipped ending runs to the next ending, repeat mark, `||`, `|]` or `|:`. Once a repeat has been
  played through, a `||` or `|]` starts a new section: a later `:|` comes back there (before
  any, it goes back to the tune's start). So does a `||` or `|]` closing a section's last ending
  (abc2midi goes back to the tune's start instead, plays it without endings and then plays no
  later repeat, which no player would).
Not read: `P:` part orders, voices other than the first (callers pass `first_voice(text)`), lyrics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from audiogen.notation.bars import GRACE, MUSIC, TICKS, BarTracker, meter_numbers

QUARTER_TICKS = TICKS // 4
NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_ORDER, FLAT_ORDER = "FCGDAEB", "BEADGCF"
MAJOR_SHARPS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7,
                "F": -1, "Bb": -2, "Eb": -3, "Ab": -4, "Db": -5, "Gb": -6, "Cb": -7,
                "G#": 8, "D#": 9, "A#": 10, "E#": 11, "B#": 12, "Fb": -8}
MODE_FIFTHS = {"": 0, "maj": 0, "ion": 0, "m": -3, "min": -3, "aeo": -3, "mix": -1, "dor": -2, "phr": -4,
               "loc": -5, "lyd": 1}
ACCIDENTAL_STEPS = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
DYNAMICS = {"pppp": 15, "ppp": 30, "pp": 45, "p": 60, "mp": 75, "mf": 90, "f": 105, "ff": 120, "fff": 127,
            "ffff": 127}
DEFAULT_VELOCITY = 80
_KEY = re.compile(r"\s*(HP|Hp|none|[A-G])([#b]?)\s*([A-Za-z]*)")
_KEY_ACCIDENTAL = re.compile(r"(\^\^|\^|__|_|=)([A-Ga-g])")
_GRACE_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")
REPEAT_ENDS = (":",)        # a bar token starting with ":" ends a repeat (:| :: :|])
SECTION_LINES = ("||", "|]", "[|")


def key_signature(value: str) -> dict[str, int]:
    """A `K:` value -> {letter: semitones} for the letters it sharpens or flattens ("D" -> F and C
    +1; "Ador" -> F +1; "F exp ^c" -> C +1 only). Unknown keys are C major."""
    text = value.split("%", 1)[0]
    match = _KEY.match(text)
    steps: dict[str, int] = {}
    rest = text
    if match:
        tonic, accidental, mode = match.groups()
        rest = text[match.end():]
        if tonic in ("HP", "Hp"):
            fifths = 2
        elif tonic == "none":
            fifths = 0
        else:  # "m" is minor; otherwise the mode's first three letters, major when unknown
            mode_key = "m" if mode.lower() == "m" else mode.lower()[:3]
            fifths = MAJOR_SHARPS.get(tonic + accidental, 0) + MODE_FIFTHS.get(mode_key, 0)
        if "exp" in mode.lower()[:3]:
            fifths = 0
        if fifths > 0:
            for k in range(min(fifths, 7)):
                steps[SHARP_ORDER[k]] = 1 + (fifths > 7 + k)
        elif fifths < 0:
            for k in range(min(-fifths, 7)):
                steps[FLAT_ORDER[k]] = -1 - (-fifths > 7 + k)
    for token in rest.split():  # explicit accidentals: "^f", "_B", "=c" (not "clef=bass")
        match = _KEY_ACCIDENTAL.fullmatch(token)
        if match:
            steps[match.group(2).upper()] = ACCIDENTAL_STEPS[match.group(1)]
    return steps


@dataclass
class AbcNote:
    """One sounding note: onset and length in ticks, MIDI pitch and velocity; `grace`: no length."""

    start: int | Fraction
    length: int | Fraction
    pitch: int
    velocity: int = DEFAULT_VELOCITY
    grace: bool = False
    letter: str = ""          # the letter and octave marks it was written with
    accidental: bool = False  # written with an accidental (a tie over the bar line keeps it)
    tied: bool = False        # a "-" follows: joined to the next note of its pitch


@dataclass
class Marker:
    """A bar line ("bar", its token: "|", "|:", ":|", "||" ...) or an ending ("ending", "1") at `time` (ticks),
    with the meter then in force."""

    time: int | Fraction
    kind: str
    value: str
    meter: tuple[int, int] | None


@dataclass
class TuneNotes:
    """A tune read by `read_tune`: notes in time order (ticks), bar lines and endings, and its fields."""

    notes: list[AbcNote] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    end: int | Fraction = 0
    title: str = ""
    meter: tuple[int, int] | None = None     # the first meter
    end_meter: tuple[int, int] | None = None # the meter in force at the end
    tempo_qpm: float | None = None           # Q: in quarter notes per minute

    def quarters(self, ticks) -> float:
        """Ticks (an int, or a Fraction for lengths finer than the tick) -> quarter notes."""
        return float(ticks) / QUARTER_TICKS


class NoteReader(BarTracker):
    """A `BarTracker` that also keeps the notes it reads (module docstring)."""

    def __init__(self):
        super().__init__(record=False)
        self.tune = TuneNotes()
        self.time = 0
        self.key: dict[str, int] = {}
        self.bar_accidentals: dict[str, int] = {}
        self.velocity = DEFAULT_VELOCITY
        self.written_meter: tuple[int, int] | None = (4, 4)
        self.chord_notes_read: list[tuple[int, str, bool]] = []  # `_pitch` of each note of the chord being read
        self.chord_ties: set[int] = set()
        self.open_ties: dict[int, AbcNote] = {}              # pitch -> the note a tie continues
        self.last_notes: list[AbcNote] = []                  # the notes of the last note or chord
        self.last_sounded = False                            # the last length was a note (not a rest)
        self.grace_text = ""

    # fields

    def _field(self, line: str) -> None:
        super()._field(line)
        letter, value = line[:1], line[2:]
        if letter == "K":
            self.key = key_signature(value)
            self.bar_accidentals = {}
        elif letter == "M":
            numbers = meter_numbers(value)
            if numbers is not False:  # not a meter: the one in force stays
                self.written_meter = numbers
            if self.tune.meter is None and numbers is not None and not self.in_body:
                self.tune.meter = numbers
        elif letter == "T" and not self.tune.title and not self.in_body:
            self.tune.title = value.strip()
        elif letter == "Q" and self.tune.tempo_qpm is None:
            self.tune.tempo_qpm = _tempo(value)

    def _decoration(self, name: str) -> None:
        super()._decoration(name)
        if name in DYNAMICS:
            self.velocity = DYNAMICS[name]

    # pitches

    def _pitch(self, written: str) -> tuple[int, str, bool]:
        """("^c'" ...) -> (MIDI pitch, letter and octave marks, written with an accidental); an
        accidental is remembered to the bar line."""
        body = written.lstrip("^_=")
        accidental = written[: len(written) - len(body)]
        letter = body[:1]
        upper = letter.upper()
        octave = 1 if letter.islower() else 0
        octave += body.count("'") - body.count(",")
        if accidental:
            steps = ACCIDENTAL_STEPS.get(accidental, 0)
            self.bar_accidentals[upper] = steps
        else:
            steps = self.bar_accidentals.get(upper, self.key.get(upper, 0))
        pitch = 60 + 12 * octave + NATURAL[upper] + steps
        if not accidental:
            for tied in self.open_ties.values():  # a note tied over the bar line keeps its accidental
                if (tied.accidental and tied.letter == letter + body[1:] and tied.start + tied.length == self.time
                        and upper not in self.bar_accidentals):
                    pitch = tied.pitch
        return pitch, letter + body[1:], bool(accidental)

    # notes

    def _finish_pending(self) -> None:
        note = self.note
        if note is None or note.stage == "accidental":
            super()._finish_pending()
            return
        super()._finish_pending()
        if note.base < 0:  # a note inside a chord
            if _sounds(note.written):
                self.chord_notes_read.append(self._pitch(note.written))
            return
        if note.bar_rest:
            count = note.num if note.num_given else 1
            bar = self.meter if self.meter is not None else TICKS
            self.time += bar * count
            self.last_sounded = False
            return
        length = note.length()
        if note.chord is not None:
            pitches, self.chord_notes_read = self.chord_notes_read, []
            ties, self.chord_ties = self.chord_ties, set()
        else:
            pitches, ties = ([self._pitch(note.written)] if _sounds(note.written) else []), set()
        self.last_notes = [self._sound(pitch, letter, length, pitch in ties, accidental)
                           for pitch, letter, accidental in pitches]
        self.last_sounded = bool(pitches)
        self.time += length

    def _sound(self, pitch: int, letter: str, length, tied: bool, accidental: bool) -> AbcNote:
        held = self.open_ties.pop(pitch, None)
        if held is not None and held.start + held.length == self.time:
            held.length += length
            held.tied = tied
            if tied:
                self.open_ties[pitch] = held
            return held
        note = AbcNote(self.time, length, pitch, self.velocity, letter=letter, accidental=accidental, tied=tied)
        self.tune.notes.append(note)
        if tied:
            self.open_ties[pitch] = note
        return note

    def _note_base(self):
        self.fermata = False  # a fermata is how long a player holds the note: the bar keeps its written length
        return self.next_note_base()

    def _broken_rescale(self) -> None:
        before = self.last_length
        super()._broken_rescale()
        self._last_length_changed(before)

    def _cancel_broken(self) -> None:
        before = self.last_length
        super()._cancel_broken()
        self._last_length_changed(before)

    def _last_length_changed(self, before) -> None:
        """A broken rhythm changed the last note's length: so is its end, and the time."""
        change = self.last_length - before
        self.time += change
        if self.last_sounded:
            for note in self.last_notes:
                note.length += change

    def _music(self, char: str) -> None:
        super()._music(char)
        if char == "-" and self.context == MUSIC:
            if self.in_chord and self.chord_notes_read:
                self.chord_ties.add(self.chord_notes_read[-1][0])
            else:
                for note in self.last_notes:
                    note.tied = True
                    self.open_ties[note.pitch] = note

    def feed(self, char: str) -> None:
        if self.context == GRACE:
            if char == "}" or char == "\n":
                self._grace_notes(self.grace_text)
                self.grace_text = ""
            else:
                self.grace_text += char
        super().feed(char)

    def _grace_notes(self, text: str) -> None:
        for accidental, letter, octaves in _GRACE_NOTE.findall(text.lstrip("/")):
            pitch, written, _ = self._pitch((accidental or "") + letter + octaves)
            self.tune.notes.append(AbcNote(self.time, 0, pitch, self.velocity, grace=True, letter=written))

    # bar lines and endings

    def _bar_line(self, token: str) -> None:
        self.tune.markers.append(Marker(self.time, "bar", token, self.written_meter))
        self.bar_accidentals = {}
        super()._bar_line(token)

    def _ending(self, number: str) -> None:
        self.tune.markers.append(Marker(self.time, "ending", number, self.written_meter))
        super()._ending(number)

    def _ending_extended(self) -> None:
        self.tune.markers[-1].value = self.ending

    def finish(self) -> TuneNotes:
        self.end()
        self.tune.end = self.time
        if self.tune.meter is None:
            self.tune.meter = self.written_meter
        self.tune.end_meter = self.written_meter
        for note in self.tune.notes:  # a tie to nothing: the note keeps its written length
            note.tied = False
        self.tune.notes.sort(key=lambda n: (n.start, not n.grace))
        return self.tune


def _sounds(written: str) -> bool:
    """Whether a note as written ("^c'", "z") is a pitch, not a rest."""
    return written.lstrip("^_=")[:1].upper() in NATURAL


def _tempo(value: str) -> float | None:
    """A `Q:` value ("1/4=120", "120", "3/8=80", '"Allegro" 1/4=120') -> quarter notes per minute."""
    text = re.sub(r'"[^"]*"', "", value.split("%", 1)[0]).strip()
    match = re.search(r"(?:(\d+)/(\d+)\s*=\s*)?(\d+(?:\.\d+)?)\s*$", text)
    if not match:
        return None
    beats = float(match.group(3))
    if match.group(1):
        beats *= 4 * int(match.group(1)) / int(match.group(2))
    return beats if beats > 0 else None


def read_tune(text: str) -> TuneNotes:
    """One tune's notes and marks as written (its whole text, header first; module docstring)."""
    reader = NoteReader()
    reader.feed_text(text if text.endswith("\n") else text + "\n")
    return reader.finish()


def ending_numbers(value: str) -> set[int]:
    """The passes an ending is played on: "1" -> {1}, "1-2" -> {1, 2}, "1,3" -> {1, 3}."""
    numbers: set[int] = set()
    for part in value.split(","):
        first, _, last = part.partition("-")
        try:
            numbers.update(range(int(first), int(last or first) + 1))
        except ValueError:
            continue
    return numbers or {1}


def _next_endings(markers: list[Marker], i: int) -> set[int]:
    """The numbers of the ending that starts where bar line i is (`:|2`, `:| [2`): {} when none does."""
    j = i + 1
    while j < len(markers) and markers[j].time == markers[i].time:
        if markers[j].kind == "ending":
            return ending_numbers(markers[j].value)
        j += 1
    return set()


def play_order(markers: list[Marker], end) -> list[tuple]:
    """The spans (start, stop) of written time, in ticks, that a player plays in turn (module docstring)."""
    spans: list[tuple] = []
    at, i, pass_number, in_ending, armed = 0, 0, 1, False, False
    taken: dict[int, int] = {}   # repeat marks -> times gone back from them
    repeat_from, repeat_index = 0, 0
    passes: dict[int, int] = {}  # times through the section that begins at each repeat point
    while i < len(markers):
        mark = markers[i]
        if mark.kind == "bar":
            if mark.value.startswith(REPEAT_ENDS):
                following = _next_endings(markers, i)
                closes_last_ending = in_ending and pass_number > 1 and not following
                if not closes_last_ending and taken.get(i, 0) < max(1, max(following, default=2) - 1):
                    taken[i] = taken.get(i, 0) + 1
                    spans.append((at, mark.time))
                    passes[repeat_index] = passes.get(repeat_index, 1) + 1
                    at, i, pass_number = repeat_from, repeat_index, passes[repeat_index]
                    in_ending = False
                    continue
                pass_number, armed, in_ending = 1, True, False
                repeat_from, repeat_index = mark.time, i + 1
            elif mark.value.endswith(":"):
                repeat_from, repeat_index, pass_number = mark.time, i + 1, 1
            elif mark.value in SECTION_LINES:
                if in_ending or armed:  # a new section: a later :| comes back here
                    repeat_from, repeat_index = mark.time, i + 1
                if in_ending:  # inside a section played again, a || does not end the pass
                    pass_number, in_ending = 1, False
            i += 1
            continue
        if pass_number in ending_numbers(mark.value):
            in_ending = True
            i += 1
            continue
        spans.append((at, mark.time))  # an ending not played this time through: skip to its end
        j = i + 1
        while j < len(markers) and not (markers[j].kind == "ending" or markers[j].value.startswith(REPEAT_ENDS)
                                        or markers[j].value.endswith(":") or markers[j].value in SECTION_LINES):
            j += 1
        if j == len(markers):
            return [s for s in spans if s[1] > s[0]]
        at = markers[j].time
        if markers[j].kind == "bar" and markers[j].value.startswith(REPEAT_ENDS):
            taken[j] = max(taken.get(j, 0), 1)  # the skipped ending's own repeat: not taken again this pass
            i = j + 1  # and a later :| still goes back to where this one did
        else:
            i = j
    spans.append((at, end))
    return [s for s in spans if s[1] > s[0]]


def played_out(tune: TuneNotes) -> TuneNotes:
    """The tune with its repeats and endings played out: notes and marks moved to where they sound."""
    spans = play_order(tune.markers, tune.end)
    notes, markers, offset = [], [], 0
    for start, stop in spans:
        shift = offset - start
        for note in tune.notes:
            if start <= note.start < stop:
                notes.append(AbcNote(note.start + shift, note.length, note.pitch, note.velocity, note.grace,
                                     note.letter))
        for mark in tune.markers:
            if start < mark.time <= stop and mark.kind == "bar":
                markers.append(Marker(mark.time + shift, mark.kind, "|" if mark.time == stop else mark.value,
                                      mark.meter))
        offset += stop - start
    return TuneNotes(notes, markers, offset, tune.title, tune.meter, tune.end_meter, tune.tempo_qpm)
