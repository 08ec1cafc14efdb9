"""Sampling that keeps bars in meter: which characters may come next in each tune being drawn.

Every tune of a sampling batch has its own `BarTracker` (audiogen.notation.bars), fed each character
as it is drawn. Before the next draw, `MeterMask.masks` turns each tracker's state into a
(V,) mask of the characters that keep the bar right:
- no bar line while the bar is short, except the tune's first bar (a pickup), a bar line that
  carries a short bar into the next one (`||`, `|]`, `|:`, the way parts end before a pickup) and
  `:|` where the bar completes the section's pickup; once the bar is full, a bar line (or a
  field line, a comment, the end) before any further note;
- no note or rest longer than what is left of the bar: length digits are offered only while the
  note still fits, and a note that is too long must go on with `/`; the same for a chord (its first
  note's length, or its own suffix), a tuplet (only where all its notes fit) and broken rhythm;
- no stray length digits outside a note (ending numbers after a bar line are kept).
Headers, comments, chord symbols, decorations and free meter (M:none) are not masked.
Masks are cached by what they depend on, so a batch step costs one table lookup per tune on
top of the tracker's own work. The module needs only torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from audiogen.notation.bars import (_BAR_TOKEN_GOES_ON, _TUPLET_Q, BAR_RESTS, DIGITS, FIELD_LETTERS, FIELD_LINE, GRACE,
                               HEADER_LINE, MUSIC, NOTE_LETTERS, NOTE_STARTS, BarTracker)

_ALL = None  # the key of "everything allowed"
_NOTE_START_CHARS = "".join(sorted(NOTE_STARTS))
_NOTE_LETTER_CHARS = "".join(sorted(NOTE_LETTERS))
_AFTER_FULL_BAR = "|\n)%\\"  # once a bar is full: its bar line (or a line break, slur end, comment)
# never drawn in the body while the mask is on: stray backticks, and fermatas (H, !fermata!), which
# abc2midi plays longer than written (so a bar that reads right would not scan)
_NEVER_IN_BODY = set("`!H")
_GRACE_CHARS = "".join(sorted(NOTE_LETTERS)) + "^_=,'/0123456789}"   # grace notes: notes only
_METER_CHARS = "0123456789/C| \n"      # M:6/8, M:C|: no stray text on a meter line
_UNIT_CHARS = "0123456789/ \n"
_AFTER_GRACE_BANNED = set("{|:")        # a grace group leads into its note: no second group, no bar line
_INLINE_FIELD_LETTERS = "".join(sorted(set(FIELD_LETTERS) - NOTE_LETTERS - set("XZ")))


def _section_first(t: BarTracker, length: int) -> int | None:
    """What the current repeat section began with (its pickup, if short), as `_bar_line` sees it."""
    if t.section_first is None and length > t.carried:
        return length - t.carried
    return t.section_first


def _repeat_ok(t: BarTracker, length: int) -> bool:
    """Whether `:|` may end the bar of `length` (see BarTracker._bar_line)."""
    meter, first = t.meter, _section_first(t, length)
    if length > meter:
        return False
    if first is None:
        return not 0 < length < meter
    if length < meter:
        return length + first == meter
    return first == meter


def _note_options(t: BarTracker) -> tuple[int, bool, bool]:
    """For the note (or chord) being written: (bits of the digits that may follow, whether "/"
    may follow, whether it may end here). A length is offered only where it fits the bar or can
    still be shortened to fit: digits while one "/" would do, "/" while "/16" would, and after
    "/" the denominators 2, 4, 8 and 16 that fit."""
    note = t.note
    if t.in_chord and t.chord is not None:
        return 0, False, True                # a chord's later notes: no lengths of their own
    base = note.base
    if base < 0:                             # a chord's first note: the chord's length
        base = t.next_note_base()
    limit = t.meter - t.bar_len
    num = note.num

    def fits(n: int, den: int) -> bool:
        return base * n <= limit * den

    def halves(n: int) -> bool:  # "/" may follow an odd numerator (A1/2, A3/2), not A2/
        return n % 2 == 1

    if note.broken or t.tuplet_left:         # A>B's second note, a tuplet's notes: no lengths of their own
        return 0, False, fits(num, 1)
    if note.stage in ("letter", "num"):
        bits = 0
        for d in range(10):
            n = num * 10 + d if note.num_given else d
            if n and n < 100 and (fits(n, 1) or (halves(n) and fits(n, 2))):
                bits |= 1 << d
        slash = (not note.num_given or halves(num)) and fits(num, 16)
        if note.chord is not None and not note.num_given:   # [c2e2]: as long as its first note
            return bits, slash, note.length() <= limit
        return bits, slash, fits(num, 1)
    if note.stage == "slash":
        if note.slashes > 1:
            return 0, False, True            # A//: a quarter, checked when "/" was offered
        bits = sum(1 << d for d, den in ((2, 2), (4, 4), (8, 8), (1, 16)) if fits(num, den))
        return bits, fits(num, 4), fits(num, 2)
    if note.den == 1:                        # A/1 on the way to A/16
        return (1 << 6) if fits(num, 16) else 0, False, fits(num, 1)
    return 0, False, True


def _ending_numbers(t: BarTracker) -> str:
    """Ending numbers that may follow: "2" after the first ending's :|, "1" where none began."""
    if t.ending == "1":
        return "2" if t._last_token.startswith(":") else ""
    return "" if t.in_ending else "1"


def _bits(digits: str) -> int:
    return sum(1 << int(d) for d in digits)


def _length_chars(note, digits: int, slash_ok: bool) -> str:
    """What may go on writing a note's length: the allowed digits, "/", octave marks after its letter."""
    chars = "".join(d for d in "0123456789" if digits & (1 << int(d))) + ("/" if slash_ok else "")
    if note is not None and note.stage == "letter" and note.octaves < 2:
        chars += ",'"
    return chars


def next_key(t: BarTracker) -> tuple | None:
    """What may come next in the tune `t` has read: a hashable key for `MeterMask`
    (None: anything; ("only", chars); or the flags of the general case)."""
    if not t.checked and not (t.context == HEADER_LINE and t.line[:2] in ("M:", "L:")):
        return _ALL
    if t.context == GRACE:
        return ("only", _GRACE_CHARS)
    if t.context in (HEADER_LINE, FIELD_LINE) and t.line[:2] in ("M:", "L:"):
        return ("only", _METER_CHARS if t.line[0] == "M" else _UNIT_CHARS)
    if t.context != MUSIC:
        return _ALL
    if t.tuplet_spec is not None:            # (3 (3:2 (3:2:3: the spec, then its first note
        spec = t.tuplet_spec
        if spec[-1] == "":
            return ("only", "123456789")
        return ("only", (":" if len(spec) < 3 else "") + _NOTE_START_CHARS)
    meter = t.meter
    if t.bracket_letter:
        return ("only", ":")                # "[K" must become an inline field, "[K:..."
    if t.bracket:
        empty = t.bar_len == t.carried       # an ending's [2 only where a bar begins
        notes = _NOTE_START_CHARS if t.bar_len < meter else ""
        return ("only", notes + "|" + (_ending_numbers(t) if empty else "") + _INLINE_FIELD_LETTERS)
    if t.bar_token:
        token = t.bar_token
        if token == ":":
            return ("only", "|:")
        if token == ":|" and t.ending == "1":
            return ("only", "2")                # a first ending's repeat goes on to the second
        if token == "|" and 0 < t.bar_len < meter and not (t.bar_number == 0 and not t.carried):
            return ("only", "|]:")          # a short bar that completes a pickup: ||, |] or |:
        after = t.copy()                     # what may start the next bar, once this bar line ends
        after._bar_line(token)
        after.bar_token, after.after_bar = "", True
        return ("plus", _BAR_TOKEN_GOES_ON.get(token, ""), next_key(after))
    note = t.note
    pending = t.pending_length()
    length = t.bar_len + pending
    room = meter - length
    line_field = ":" if t._line_letter is not None else ""
    if note is not None and note.stage == "accidental":
        return ("only", _NOTE_LETTER_CHARS) if room > 0 else ("only", line_field or "|")
    if room < 0 and note is None:
        return _ALL                          # the bar was broken already (by the seed)
    in_chord = t.in_chord
    writing = note is not None and not note.bar_rest
    digits, slash_ok, end_ok = _note_options(t) if writing else (0, False, True)
    if not end_ok:                           # too long yet: only what shortens it
        return ("only", _length_chars(note, digits, slash_ok) + line_field)
    if in_chord:                             # inside [...]: notes (at most four), their lengths, "]"
        chars = _length_chars(note, digits, slash_ok)
        if note is None or note.stage != "accidental":
            chars += "]" + (_NOTE_START_CHARS.replace("z", "").replace("x", "") if t.chord_notes < 4 else "")
        return ("only", chars)
    if note is None and t.after_bar:
        digits = _bits(_ending_numbers(t)) if not t._last_token.endswith(":") else 0  # |1 :|2
    elif t.paren:                            # a tuplet only where all its notes fit
        unit = t.unit_length()
        for p in range(2, 10):
            q = _TUPLET_Q.get(p) or (3 if t.compound_meter() else 2)
            if q * unit <= room:
                digits |= 1 << p
    # a new note needs room for at least a sixteenth of its unit (A/16)
    note_ok = room > 0 and room * 16 >= t.next_note_base()
    paren_ok = note_ok and not t.tuplet_left and not t.paren
    # broken rhythm (A>B, A<B) between two notes of the unit's length, where both fit
    gt_ok = lt_ok = (writing and not in_chord and not t.broken_sign and not note.broken and not t.tuplet_left
                     and note.ratio() == (1, 1) and t.bar_len + 2 * pending <= meter)
    # a bar line: where the bar is full; on the tune's first bar (a pickup); where a short bar
    # and the section's pickup make one bar (||, |], :| before the next part); not while a
    # broken rhythm waits for its second note or right after a bar line that carried a short bar
    blocked = in_chord or (t.broken_sign and note is None) or (t.carried and length == t.carried)
    first = _section_first(t, length)
    completes = first is not None and first < meter and length + first == meter
    pickup = t.bar_number == 0 and not t.carried and length > 0
    bar_ok = not blocked and (length == meter or (length == 0 and not t.carried) or pickup
                              or (completes and not t.in_ending))
    colon_ok = not blocked and _repeat_ok(t, length) and length > 0
    full = room == 0 and not in_chord
    bar_rest_ok = t.bar_len == 0 and note is None
    return (note_ok, paren_ok, digits, slash_ok, gt_ok, lt_ok, colon_ok, bar_ok, bar_rest_ok, full, line_field,
            writing and note.stage == "letter" and note.octaves < 2, writing, t.previous == " ", t.previous == "}")


class MeterMask:
    """Masks (B, V) bool for a batch of `BarTracker`s over the vocabulary `chars`."""

    def __init__(self, chars: str, device: torch.device | str = "cpu"):
        self.chars = chars
        self.device = torch.device(device)
        self._index: dict = {}
        self.fallbacks = 0  # masks that allowed nothing and were opened to every character (a bug if > 0)
        self._rows: list[torch.Tensor] = []
        self._table: torch.Tensor | None = None

    def trackers(self, seeds: Sequence[str]) -> list[BarTracker]:
        """One tracker per seed, each having read its seed."""
        read: dict[str, BarTracker] = {}
        out = []
        for seed in seeds:
            if seed not in read:
                read[seed] = BarTracker(record=False).feed_text(seed)
            out.append(read[seed].copy())
        return out

    def masks(self, trackers: Sequence[BarTracker]) -> torch.Tensor:
        """(B, V) bool: True where the character may be drawn next."""
        ids = [self._id(next_key(t)) for t in trackers]
        if self._table is None or self._table.shape[0] < len(self._rows):
            self._table = torch.stack(self._rows).to(self.device)
        return self._table[torch.tensor(ids, device=self.device)]

    def _id(self, key) -> int:
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self._rows)
            self._rows.append(self._mask_of(key))
        return found

    def _mask_of(self, key) -> torch.Tensor:
        chars = self.chars
        if key is _ALL:
            return torch.ones(len(chars), dtype=torch.bool)
        if key[0] == "only":
            allowed = set(key[1])
        elif key[0] == "plus":
            return self._mask_of(key[2]) | torch.tensor([c in key[1] for c in chars], dtype=torch.bool)
        else:
            (note_ok, paren_ok, digits, slash_ok, gt_ok, lt_ok, colon_ok, bar_ok, bar_rest_ok, full, line_field, octave_ok,
             tie_ok, after_space, after_grace) = key
            flagged = {"(": paren_ok, "/": slash_ok, ">": gt_ok, "<": lt_ok, ":": colon_ok or bool(line_field), "|": bar_ok,
                       "-": tie_ok, " ": not after_space and not full}
            flagged.update({d: bool(digits & (1 << int(d))) for d in DIGITS})
            if full:   # the bar is full: its bar line (or a line break, tie, comment) comes next
                allowed = set(_AFTER_FULL_BAR)
                if octave_ok:
                    allowed |= set(",'")
            else:
                allowed = set(chars) - _NEVER_IN_BODY
                if not note_ok:
                    allowed -= NOTE_STARTS   # "(" goes with them: paren_ok needs note_ok
                if not bar_rest_ok:
                    allowed -= BAR_RESTS
            allowed = {c for c in allowed if flagged.get(c, True)} | {c for c, ok in flagged.items() if ok}
            if not octave_ok:
                allowed -= set(",'")
            if after_grace:
                allowed -= _AFTER_GRACE_BANNED | {" "}
        row = torch.tensor([c in allowed for c in chars], dtype=torch.bool)
        if not row.any():  # never leave a tune without a character to draw
            self.fallbacks += 1
            row[:] = True
        return row

