"""Bar lengths of ABC tunes: a duration-aware reader that follows abc2midi's bar check.

`BarTracker` reads a tune one character at a time and knows, after every character, how full the
current bar is. The same object serves two jobs: `scan_tune` feeds it a whole text and reports
every bar whose length disagrees with the meter; the sampler (`audiogen.notation.meter_mask`) feeds
it each drawn character and asks which characters may come next without breaking the bar.

Lengths are kept in ticks, `TICKS` to a whole note: integers for the lengths tunes write (down
to 1/256 notes, tuplets of 2 to 9), so the sampler's arithmetic stays cheap; anything finer becomes
a `Fraction` of ticks. Reports give `Fraction`s of a whole note. A note's length is the unit (`L:`, by default 1/16 for
meters below 3/4 and 1/8 otherwise) times its suffix (`A2`, `A/2`, `A3/2`, `A/`, `A//`), times a
tuplet's q/p (`(3`, `(3:2:3`; q by the ABC 2.1 table, 3 or 2 for (5 (7 (9 by compound meter),
times a broken rhythm's 3/2 and 1/2 (`>`, `<`; 7/4 and 1/4 for `>>`). A chord lasts as long as its
first note, or, given a suffix, the suffix alone as abc2midi reads it (`[CEG]2`, `[C2E2]2`: 2 units); grace notes (`{...}`), chord symbols and
annotations (`"..."`), decorations (`!trill!`, `~`, `.`, `T`, ...) and ties take no time; `Z` is a
whole bar of rest. Inline fields `[M:3/4]` `[L:1/16]` and body field lines change meter and unit.

When a bar is right: where abc2midi (4.84) says so, checked against its verdicts on the training
collections (tests/test_abc_bars.py):
- a bar of the meter's length is right, a longer one never is;
- a short bar is right as the first bar of a section (a pickup: the tune's first bar, or the
  first after `|:`, `:|` or `::`), as the tune's last bar, and before `:|` when it and the
  section's first bar add up to one bar (the pickup completed at the repeat);
- a short bar before `||`, `|]`, `|:` or `[|` is carried into the next bar (abc2midi counts the
  two as one), so a part may end short when the next part's pickup completes it;
- `M:none` (free meter) is never checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

TICKS = 2 ** 8 * 3 ** 2 * 5 * 7  # ticks in a whole note: 1/256 notes, tuplets of 3, 5, 7, 9 stay whole


def _scale(ticks, num: int, den: int):
    """ticks * num / den, an int where it divides (always, for real tunes), else a Fraction."""
    product = ticks * num
    if isinstance(product, int) and product % den == 0:
        return product // den
    return Fraction(product, den)


def _ticks(length: Fraction):
    """A Fraction of a whole note in ticks."""
    return _scale(TICKS, length.numerator, length.denominator)

NOTE_LETTERS = frozenset("ABCDEFGabcdefg")
RESTS = frozenset("zx")
BAR_RESTS = frozenset("ZX")     # Z: a whole bar of rest (Z4: four bars; X: the same, invisible)
ACCIDENTALS = frozenset("^_=")
OCTAVE_MARKS = frozenset(",'")
DIGITS = frozenset("0123456789")
NOTE_STARTS = NOTE_LETTERS | RESTS | ACCIDENTALS  # characters that begin a note or a rest
BAR_CHARS = frozenset("|:")
# letters that begin a field line ("P:A", "M:3/4", "w:...") at the start of a body line
FIELD_LETTERS = frozenset("ABCDFGHIKLMNOPQRSTUVWXZmrsw")

# contexts: where the next character is read
MUSIC, HEADER_LINE, FIELD_LINE, COMMENT, QUOTE, BANG, PLUS, GRACE, INLINE_FIELD = range(9)
_CLOSERS = {QUOTE: '"', BANG: "!", PLUS: "+", GRACE: "}", INLINE_FIELD: "]"}

# what may stand between two "!" as a decoration (!trill!, !D.C.!, !<(!, !8va(!); anything else
# (a space, a bar line) means the "!" was an old-style line break
_DECORATION = re.compile(r"[A-Za-z0-9.+()<>^_/-]{1,24}")

# how abc2midi reads bar lines: "|:|" is "|:" then "|", ":||" is ":|" then "|", "||:" one token
_BAR_TOKEN_GOES_ON = {"|": "|]:", ":": "|:", ":|": ":]", "[|": "]", "||": ":"}

# q of a tuplet (p:q:r) when it is not given (ABC 2.1 §4.13); None: 3 in compound meters, else 2
_TUPLET_Q = {2: 3, 3: 2, 4: 3, 5: None, 6: 2, 7: None, 8: 3, 9: None}


def meter_numbers(text: str) -> tuple[int, int] | None | bool:
    """An M: value as written -> (numerator, denominator): "6/8" -> (6, 8), "2+3/8" -> (5, 8),
    "C" -> (4, 4), "C|" -> (2, 2); None for free meter ("none"); False when it is not a meter."""
    value = text.split("%", 1)[0].strip()
    if value in ("C", "C|"):
        return (4, 4) if value == "C" else (2, 2)
    if value.lower() == "none":
        return None
    top, _, bottom = value.partition("/")
    try:
        beats = sum(int(part) for part in top.strip("() ").split("+"))
        unit = int(bottom)
    except ValueError:
        return False
    return (beats, unit) if beats > 0 and unit > 0 else False


def parse_meter(text: str) -> Fraction | None | bool:
    """An M: value -> the bar length (Fraction of a whole note), None for free meter ("none"), or
    False when it is not a meter this reader knows (the tracker then keeps the meter it had, as
    abc2midi does: 4/4 before any M:)."""
    numbers = meter_numbers(text)
    return Fraction(*numbers) if numbers else numbers


def meter_unit(text: str) -> Fraction:
    """The unit an M: value counts in (its written denominator: 6/8 -> 1/8, C -> 1/4, C| -> 1/2)."""
    value = text.split("%", 1)[0].strip()
    if value in ("C", "C|"):
        return Fraction(1, 4 if value == "C" else 2)
    try:
        return Fraction(1, int(value.partition("/")[2]))
    except (ValueError, ZeroDivisionError):
        return Fraction(1, 4)


def parse_unit(text: str) -> Fraction | None:
    """An L: value such as "1/8" -> Fraction(1, 8), or None when unreadable."""
    value = text.split("%", 1)[0].strip()
    top, _, bottom = value.partition("/")
    try:
        unit = Fraction(int(top), int(bottom or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return unit if unit > 0 else None


def default_unit(meter: Fraction | None) -> Fraction:
    """ABC's default note length: 1/16 for a meter below 3/4, else 1/8 (and for free meter)."""
    return Fraction(1, 16) if meter is not None and meter < Fraction(3, 4) else Fraction(1, 8)


@dataclass(frozen=True)
class BarProblem:
    """One bar abc2midi would flag: its number (0 = the first bar of the tune), what is wrong,
    its length and the meter's, in whole notes."""

    bar: int
    kind: str          # "long bar", "short bar", "short bar at :|"
    length: Fraction
    meter: Fraction
    unit: Fraction     # what the meter counts in (1/8 for 6/8)

    def describe(self) -> str:
        """E.g. "bar 7: long bar (9 of 8 units)", units as abc2midi counts them."""
        return f"bar {self.bar}: {self.kind} ({self.length / self.unit} of {self.meter / self.unit} units)"


@dataclass
class TuneScan:
    """What `scan_tune` found: every completed bar's length, and the bars that break the meter."""

    bars: list[Fraction] = field(default_factory=list)
    problems: list[BarProblem] = field(default_factory=list)
    free_meter: bool = False   # M:none somewhere: its bars were not checked

    @property
    def scans(self) -> bool:
        """Every bar in meter (pickups allowed), as abc2midi's bar check would say."""
        return not self.problems


@dataclass
class _Note:
    """A note, rest or chord whose length suffix may still be being written."""

    base: int                # ticks: unit x tuplet x broken rhythm (x a chord's first-note ratio); -1 inside a chord
    stage: str = "letter"    # letter (octave marks may follow), num, slash, den
    num: int = 1
    num_given: bool = False
    slashes: int = 0
    den: int = 0
    bar_rest: bool = False   # Z / X
    octaves: int = 0         # octave marks (, ') after the letter
    broken: bool = False     # the second note of a broken rhythm (A>B)
    written: str = ""        # accidentals, letter and octave marks as written ("^c'"): the pitch

    chord: tuple[int, int] | None = None  # a chord's first-note ratio, its length while it has no suffix

    def ratio(self) -> tuple[int, int]:
        """The written suffix as (numerator, denominator): A3/2 -> (3, 2), A// -> (1, 4); a chord
        without one lasts as long as its first note (with one, abc2midi takes the suffix alone)."""
        if self.chord is not None and not self.num_given and not self.slashes:
            return self.chord
        return self.num, (self.den if self.den else 1 << self.slashes)

    def length(self):
        num, den = self.ratio()
        return _scale(self.base, num, den)


class BarTracker:
    """Reads an ABC tune character by character (`feed`) and keeps the running bar length.

    With ``record`` the completed bars and their problems are kept (see `scan_tune`); the
    sampler runs without. `pending_length()` and the state attributes are what the meter mask reads.
    """

    def __init__(self, *, record: bool = True):
        self.record = record
        self.result = TuneScan()
        self.context = HEADER_LINE
        self.in_body = False
        self.line = ""              # the current header or body field line, while it is read
        self.line_start = True
        self.meter: int | None = TICKS  # ticks; None: free meter; abc2midi's default 4/4
        self.meter_unit = Fraction(1, 4)
        self.fermata = False            # H or !fermata!: abc2midi plays the next note twice as long
        self.unit: int | None = None    # ticks; None: not given, the default of the meter
        self.bar_len = 0
        self.bar_number = 0
        self.carried = 0                # what a short bar before ||, |: ... carried into this one
        self.section_first: int | None = None  # what the repeat section began with, up to its first bar line
        self._section_before: int | None = None
        self._last_token = ""
        self.note: _Note | None = None
        self.last_length = 0            # the last completed note's length (broken rhythm rescales it)
        self.broken_next = (1, 1)       # factor of the next note's length (a broken rhythm's second)
        self.broken_count = 0           # ">" or "<" characters in the running broken-rhythm mark
        self.broken_sign = ""
        self.tuplet_left = 0
        self.tuplet_factor = (1, 1)     # q/p of the running tuplet
        self.tuplet_spec: list[str] | None = None  # "(3:2:3" being read: its parts as text
        self.paren = False              # "(" just read: a tuplet if a digit follows, else a slur
        self.bracket = False            # "[" just read: chord, inline field, [| or [1
        self.bracket_letter = ""        # "[" and a letter that is not a note: a field if ":" follows
        self.in_ending = False          # inside |1 or :|2 ...: its closing bar line starts a section
        self.ending = ""                # the number(s) of the section's last ending ("1", "2", "1-2")
        self.ending_open = False        # an ending's number was just read: "-2", ",3" may follow
        self.chord: tuple[int, int] | None = None  # inside [..]: the first note's ratio (None: no note yet)
        self.in_chord = False
        self.chord_notes = 0            # notes in the chord being read
        self.bar_token = ""             # "|", ":", "|:" ... while a bar line is being read
        self.after_bar = False          # digits right after a bar line name an ending
        self._line_letter: BarTracker | None = None  # state before a letter at a body line's start
        self._line_first = ""
        self.previous = ""              # the last character read
        self.last_ratio = (1, 1)        # the last note's written length suffix (A3/2 -> (3, 2))
        self.staccato_next = False      # "." read: the next note is staccato
        self.last_staccato = False      # the last note was

    def copy(self) -> "BarTracker":
        """An independent tracker in the same state (the sampler copies a read seed per tune)."""
        other = BarTracker.__new__(BarTracker)
        other.__dict__.update(self.__dict__)
        if self.note is not None:
            other.note = replace(self.note)
        if self.tuplet_spec is not None:
            other.tuplet_spec = list(self.tuplet_spec)
        if self._line_letter is not None:
            other._line_letter = self._line_letter.copy()
        other.result = TuneScan(list(self.result.bars), list(self.result.problems), self.result.free_meter)
        return other

    # -- reading -------------------------------------------------------------------------

    @property
    def checked(self) -> bool:
        """The bar check is on: in the body, with a meter this reader knows (not free)."""
        return self.in_body and self.meter is not None

    def unit_length(self):
        """The unit note length (L:) in ticks."""
        if self.unit is not None:
            return self.unit
        return _ticks(default_unit(self._meter_fraction()))

    def _meter_fraction(self) -> Fraction | None:
        meter = self.meter
        return None if meter is None else Fraction(meter, TICKS)

    def feed_text(self, text: str) -> "BarTracker":
        for char in text:
            self.feed(char)
        return self

    def feed(self, char: str) -> None:
        """Read one character."""
        self.previous = char
        context = self.context
        if context == MUSIC:
            self._music(char)
        elif context in (HEADER_LINE, FIELD_LINE):
            self._field_line(char)
        elif context == COMMENT:
            if char == "\n":
                self.context = MUSIC if self.in_body else HEADER_LINE
                self.line_start = True
        elif context == BANG and (char == "\n" or (char == "!" and not _DECORATION.fullmatch(self.line))):
            # "!" with no decoration after it: an old ABC line break; what followed it is music
            text, self.line, self.context = self.line, "", MUSIC
            for c in text:
                self.feed(c)
            if char == "!":
                self.context = BANG
            else:
                self.feed(char)
        elif char == _CLOSERS[context] or char == "\n":
            if context == INLINE_FIELD:
                self._field(self.line)
            elif context == BANG:
                self._decoration(self.line)
            self.line = ""
            self.context = MUSIC
            if char == "\n":
                self._newline()
        elif context in (INLINE_FIELD, BANG):
            self.line += char

    def _decoration(self, name: str) -> None:
        """A `!name!` decoration was read (`!fermata!` lengthens the next note, as `H` does)."""
        if name == "fermata":
            self.fermata = True

    def end(self) -> TuneScan:
        """The tune ended: close the last bar (a short last bar is right) and return the scan."""
        if self.context == MUSIC:
            if self.bar_token:
                self._bar_line(self.bar_token)
                self.bar_token = ""
            self._finish_pending()
            if self.checked and self.bar_len > self.meter:
                self._problem("long bar", self.bar_len)
            elif self.bar_len > 0 and self.record:
                self.result.bars.append(Fraction(self.bar_len, TICKS))
        self.result.free_meter = self.result.free_meter or self.meter is None
        return self.result

    # header and field lines

    def _field_line(self, char: str) -> None:
        if char != "\n":
            if self.context == HEADER_LINE and not self.line and char == "%":
                self.context = COMMENT
                return
            self.line += char
            return
        line, self.line = self.line, ""
        self.line_start = True
        if self.context == HEADER_LINE:
            if len(line) >= 2 and line[1] == ":" and line[0].isalpha():
                self._field(line)
                if line[0] == "K":
                    self._begin_body()
            elif line.strip():  # music before any K: line: the body has begun
                self._begin_body()
                for c in line + "\n":
                    self._music(c)
        else:
            self._field(line)
            self.context = MUSIC

    def _begin_body(self) -> None:
        self.in_body = True
        self.context = MUSIC
        if self.unit is None:  # the default unit comes from the header's meter, and stays
            self.unit = _ticks(default_unit(self._meter_fraction()))

    def _field(self, line: str) -> None:
        letter, value = line[:1], line[2:]
        if letter == "M":
            meter = parse_meter(value)
            if meter is False:  # not a meter: abc2midi keeps the one it had (4/4 by default)
                return
            self.meter = None if meter is None else _ticks(meter)
            self.meter_unit = meter_unit(value)
            if meter is None:
                self.result.free_meter = True
        elif letter == "L":
            unit = parse_unit(value)
            if unit is not None:
                self.unit = _ticks(unit)

    # music

    def _newline(self) -> None:
        self.line_start = True

    def _music(self, char: str) -> None:
        if self._line_letter is not None:
            before, self._line_letter = self._line_letter, None
            if char == ":":  # "P:", "M:3/4", "w:" ...: a field line, not a note
                letter = self._line_first
                self.__dict__.update(before.__dict__)
                self._line_letter = None
                self.line = letter + ":"
                self.context = FIELD_LINE
                self.line_start = False
                return
        if self.line_start and char in FIELD_LETTERS and not self.bar_token and self.tuplet_spec is None:
            self.line_start = False
            self._line_letter = self.copy()
            self._line_first = char
        elif char not in " \t":
            self.line_start = char == "\n"

        if self.bar_token:
            if char in _BAR_TOKEN_GOES_ON.get(self.bar_token, ""):
                self.bar_token += char
                return
            self._bar_line(self.bar_token)
            self.bar_token = ""
            self.after_bar = True
        if self.tuplet_spec is not None:
            if char in DIGITS:
                self.tuplet_spec[-1] += char
                return
            if char == ":" and len(self.tuplet_spec) < 3:
                self.tuplet_spec.append("")
                return
            self._start_tuplet()
        if self.paren:
            self.paren = False
            if char in DIGITS:
                self.tuplet_spec = [char]
                return
        if self.bracket_letter:
            letter, self.bracket_letter = self.bracket_letter, ""
            if char == ":":
                self.context, self.line = INLINE_FIELD, letter + ":"
                return
            self.in_chord, self.chord, self.chord_notes = True, None, 0  # "[T...": a decorated chord
        if self.bracket:
            self.bracket = False
            if char in NOTE_STARTS or char == "{":  # "[{g}CE]": a chord that starts with a grace note
                self.in_chord, self.chord, self.chord_notes = True, None, 0
            elif char == "|":
                self.bar_token = "[|"
                return
            elif char in DIGITS:  # [1: an ending
                self._ending(char)
                return
            elif char.isalpha():  # [M:3/4] or a decorated chord: the next character tells
                self.bracket_letter = char
                return
        if self.ending_open:
            if char in DIGITS or char in ",-":  # |1-2, |1,3: more numbers of the same ending
                self.ending += char
                self._ending_extended()
                return
            self.ending_open = False
        note = self.note
        if note is not None:
            if char in DIGITS:
                if note.stage in ("letter", "num"):
                    note.num = (note.num * 10 + int(char)) if note.num_given else int(char)
                    note.num_given, note.stage = True, "num"
                    return
                if note.stage in ("slash", "den"):
                    note.den = note.den * 10 + int(char)
                    note.stage = "den"
                    return
            if char == "/" and note.stage != "den":
                note.slashes += 1
                note.stage = "slash"
                return
            if char in OCTAVE_MARKS and note.stage == "letter":
                note.octaves += 1
                note.written += char
                return
        if char in DIGITS:
            if self.after_bar:   # |1 :|2 [1: an ending's number
                self._ending(char)
                return
            self.after_bar = False
            return  # a stray digit takes no time
        if char not in ",-":
            self.after_bar = False

        if char in ">" "<":
            self._finish_pending()
            if self.broken_sign != char:
                self.broken_sign, self.broken_count = char, 0
            self.broken_count += 1
            self._broken_rescale()
            return
        if char in NOTE_STARTS or char in BAR_RESTS:
            if char in ACCIDENTALS:
                if self.note is not None and self.note.stage != "accidental":
                    self._finish_pending()
                if self.note is None:
                    self.note = _Note(base=0, stage="accidental")
                self.note.written += char
                return
            accidental = ""
            if self.note is not None and self.note.stage == "accidental":
                accidental, self.note = self.note.written, None
            else:
                self._finish_pending()
            self._start_note(char)
            if self.note is not None:
                self.note.written = accidental + char
            return
        self._finish_pending()
        if char in BAR_CHARS:
            if self.in_chord:
                return
            self.bar_token = char
        elif char == "[":
            self.bracket = True
        elif char == "]":
            if self.in_chord:
                self.in_chord = False
                self.fermata = False  # abc2midi does not lengthen a chord with a fermata
                self.note = _Note(base=self._note_base(), chord=self.chord or (0, 1))
        elif char == "(":
            self.paren = True
        elif char == ".":
            self.staccato_next = True
        elif char == '"':
            self.context = QUOTE
        elif char == "!":
            self.context, self.line = BANG, ""
        elif char == "H":
            self.fermata = True
        elif char == "+":
            self.context = PLUS
        elif char == "{":
            self.context = GRACE
        elif char == "%":
            self.context = COMMENT
        elif char == "\n":
            self._newline()

    def next_note_base(self):
        """Ticks of a plain note started now: the unit times the running tuplet and broken rhythm."""
        tq, tp = self.tuplet_factor
        bn, bd = self.broken_next
        return _scale(self.unit_length(), tq * bn, tp * bd)

    def _note_base(self):
        base = self.next_note_base()
        if self.fermata:
            self.fermata = False
            return base * 2
        return base

    def _start_note(self, char: str) -> None:
        if self.in_chord:
            # a chord's notes: the first one's length ratio is the chord's
            self.note = _Note(base=-1)
            self.chord_notes += 1
            return
        if char in BAR_RESTS:
            self.note = _Note(base=0, bar_rest=True)
            return
        staccato, self.staccato_next = self.staccato_next, False
        if self.broken_sign and staccato != self.last_staccato:
            # abc2midi drops a broken rhythm between a staccato note and a plain one ("A>.B", ".A>B")
            self._cancel_broken()
        self.last_staccato = staccato
        self.note = _Note(base=self._note_base(), broken=self.broken_next != (1, 1))

    def _finish_pending(self) -> None:
        """The note being read is complete: add its length to the bar. An accidental with no
        letter after it (`=` at a line's end) is dropped, as abc2midi drops it."""
        note = self.note
        if note is None:
            return
        if note.stage == "accidental":
            self.note = None
            return
        self.note = None
        if note.base < 0:  # a note inside a chord
            if self.chord is None:
                self.chord = note.ratio()
            return
        if note.bar_rest:
            if self.bar_len == 0 and self.checked:
                self.bar_len = self.meter
            return
        if note.broken and self.broken_sign and note.ratio() != self.last_ratio:
            # abc2midi plays a broken rhythm only between notes written alike (A>B, A2>B2; not A2>B)
            num, den = self.broken_next
            note.base = _scale(note.base, den, num)
            self._cancel_broken()
        length = note.length()
        self.bar_len += length
        self.last_length = length
        self.last_ratio = note.ratio()
        self.broken_next = (1, 1)
        self.broken_sign, self.broken_count = "", 0
        if self.tuplet_left:
            self.tuplet_left -= 1
            if not self.tuplet_left:
                self.tuplet_factor = (1, 1)

    def _broken_rescale(self) -> None:
        """After the n-th ">" (or "<"): the last note gets 2 - 1/2^n (or 1/2^n) of its written
        length, the next note the other factor."""
        n = self.broken_count
        den = 2 ** n
        short, long_ = (1, den), (2 * den - 1, den)         # 1/2^n and 2 - 1/2^n
        first, second = (long_, short) if self.broken_sign == ">" else (short, long_)
        if n > 1:  # undo the factor the previous ">" gave the first note
            half = den // 2
            was = (2 * half - 1, half) if self.broken_sign == ">" else (1, half)
            written = _scale(self.last_length, was[1], was[0])
        else:
            written = self.last_length
        rescaled = _scale(written, *first)
        self.bar_len += rescaled - self.last_length
        self.last_length = rescaled
        self.broken_next = second

    def _cancel_broken(self) -> None:
        """Undo the running broken rhythm: the last note gets its written length back."""
        n = self.broken_count
        den = 2 ** n
        factor = (2 * den - 1, den) if self.broken_sign == ">" else (1, den)
        written = _scale(self.last_length, factor[1], factor[0])
        self.bar_len += written - self.last_length
        self.last_length = written
        self.broken_next = (1, 1)
        self.broken_sign, self.broken_count = "", 0

    def _start_tuplet(self) -> None:
        spec, self.tuplet_spec = self.tuplet_spec, None
        try:
            p = int(spec[0])
            q = int(spec[1]) if len(spec) > 1 and spec[1] else None
            r = int(spec[2]) if len(spec) > 2 and spec[2] else p
        except ValueError:
            return
        if p < 1:
            return
        if q is None:
            q = _TUPLET_Q.get(p)
            if q is None:
                q = 3 if self.compound_meter() else 2
        self.tuplet_factor = (q, p)
        self.tuplet_left = max(r, 1)

    def _bar_line(self, token: str) -> None:
        """A bar line ends the bar being read: check it as abc2midi would (module docstring)."""
        length = self.bar_len
        self.fermata = False
        self._last_token = token
        if self.section_first is None and length > self.carried:
            self.section_first = length - self.carried  # what the section starts with
        if token.startswith(":") and self.checked and self.section_first is not None:
            # played again from the section's start: this bar, if short, and the section's
            # first (a pickup, if short) must make whole bars
            first = self.section_first
            if (length < self.meter and length + first != self.meter) or (length == self.meter and first < self.meter):
                self._problem("short bar at :|", length if length < self.meter else first)
        if token.startswith(":") or token.endswith(":") or (self.in_ending and token != "|"):
            # a new repeat section starts after |:, :|, :: and the bar line that closes an ending
            self._section_before, self.section_first = self.section_first, None
            self.in_ending = False
            if not token.startswith(":"):
                self.ending = ""
        if length == 0:
            return
        if not self.checked or length == self.meter:
            self._close_bar(length)
        elif length > self.meter:
            self._problem("long bar", length)
            self._close_bar(length)
        elif self.bar_number == 0 and not self.carried:  # the tune's first bar: a pickup
            self._close_bar(length)
        elif token != "|":  # ||, |], |:, :|, ::, [|: a short bar goes on into the next one
            self.carried = length
        else:
            self._problem("short bar", length)
            self._close_bar(length)

    def _ending(self, number: str) -> None:
        """|1, :|2, [2: the ending's bars belong to the section the bar line would have ended."""
        self.after_bar = False
        self.in_ending = True
        self.ending = number
        self.ending_open = True
        if self.section_first is None:
            self.section_first = self._section_before
        if self._last_token.startswith(":") and self.carried and self.bar_len == self.carried:
            # a short first ending: played, then the repeat (checked at :|); the next ending
            # starts a bar of its own
            self._close_bar(self.bar_len)

    def _ending_extended(self) -> None:
        """The ending being read got another number or a separator (`self.ending`: "1-2")."""

    def compound_meter(self) -> bool:
        """Whether a tuplet of 5, 7 or 9 counts in threes here: as abc2midi decides it, when the
        written numerator is a multiple of 3 (6/8, 9/8, and 3/4, 3/8 too)."""
        meter = self._meter_fraction()
        if meter is None:
            return False
        beats = meter / self.meter_unit
        return beats.denominator == 1 and beats.numerator % 3 == 0

    def _close_bar(self, length) -> None:
        if self.record:
            self.result.bars.append(Fraction(length, TICKS))
        self.bar_number += 1
        self.bar_len = 0
        self.carried = 0

    def _problem(self, kind: str, length) -> None:
        if self.record:
            self.result.problems.append(BarProblem(self.bar_number, kind, Fraction(length, TICKS),
                                                   Fraction(self.meter, TICKS), self.meter_unit))

    # -- what the meter mask reads ----------------------------------------------------------

    def pending_length(self):
        """The ticks the note being written has so far (0 when none); a bar rest (Z) fills the bar."""
        note = self.note
        if note is None:
            return 0
        if note.bar_rest:
            return self.meter - self.bar_len if self.checked and self.bar_len == 0 else 0
        if note.base <= 0:   # an accidental, a chord's note
            return 0
        return note.length()


def scan_tune(text: str) -> TuneScan:
    """The bars of one tune (its whole text, header included) and the ones that break the meter."""
    return BarTracker().feed_text(text).end()


def scan_share(texts) -> float | None:
    """The share of tune texts that scan (None for no tunes)."""
    texts = list(texts)
    return sum(scan_tune(t).scans for t in texts) / len(texts) if texts else None


_FINGERING = re.compile(r'"[0-9]+"')  # a fingering written as an annotation: "4"


def strip_stray_marks(text: str) -> str:
    """A tune's text without the marks abc2midi ignores or rejects in its body: backticks
    (beaming spacers) and fingerings written as annotations ("4", which abc2midi reads as an
    unknown chord name). The header is kept as it is."""
    match = re.search(r"(?m)^K:[^\n]*\n", text)
    if match is None:
        return text
    body = text[match.end():]
    return text[:match.end()] + _FINGERING.sub("", body.replace("`", ""))
