"""Is a tune usable music? abc2midi, our reader and music21 as judges, and the M:/L:/K: header rules.

**abc2midi** (Debian `abcmidi`) is the reference converter (the MIT lab's "valid" is abc2midi
exiting 0). It is run on one tune per temp file, never on a file of many tunes: it crashes on large
concatenated files and overwrites tunes with duplicate X: numbers. A tune converts when abc2midi
exits 0 *and* writes a MIDI file; it prints warnings (and even "Error" lines) for tunes it still
converts, so the note count of the MIDI it writes is what tells a tune from junk.

**Our reader** (`notation.notes`) is the fallback where abc2midi is not installed (CI machines):
it reads the tune in process, in about 2 ms; notes are counted per pitch (a chord counts each of
its notes, chord symbols and grace notes not at all, tied notes once), repeats are not expanded.

**music21** gives a second opinion on sampled tunes: the share its parser accepts.

**Headers** (`header_checks`): M: present and a meter (N/M with N possibly 2+3, C, C|, none);
L: present and 1/N; K: present and ABC key syntax: tonic A-G with #/b and an optional mode
(m, maj, min, ion, dor, phr, lyd, mix, aeo, loc, exp: the first three letters count, any case),
or HP/Hp/none, followed by optional explicit accidentals (^f _B =c) and clef words/settings.
A trailing % comment is ignored.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from audiogen.notation.tunes import header_field
from audiogen.data.abc import music21_score

ABC2MIDI = "abc2midi"
INSTALL_HINT = "Debian/Ubuntu: sudo apt-get install abcmidi"

_METER = re.compile(r"\(?[1-9][0-9]*(?:\+[1-9][0-9]*)*\)?/[1-9][0-9]*|C\|?|none", re.IGNORECASE)
_UNIT = re.compile(r"1/[1-9][0-9]*")
_TONIC = re.compile(r"([A-G][#b]?)([A-Za-z]*)")
_MODES = ("maj", "min", "ion", "dor", "phr", "lyd", "mix", "aeo", "loc", "exp")
_ACCIDENTAL = re.compile(r"(?:\^{1,2}|_{1,2}|=)[A-Ga-g]")
_CLEF = re.compile(r"(?:treble|bass|alto|tenor|perc|none)[1-5]?(?:[+-]8)?", re.IGNORECASE)
_SETTING = re.compile(r"[a-z-]+=\S+")  # clef=bass, middle=d, transpose=-2, octave=1, stafflines=5


# ---------------------------------------------------------------------------------------------
# abc2midi


def abc2midi_available() -> bool:
    """True when the `abc2midi` program is on PATH."""
    return shutil.which(ABC2MIDI) is not None


@dataclass(frozen=True)
class Abc2midiResult:
    """What abc2midi made of one tune."""

    ok: bool            # exit 0 and a MIDI file written
    notes: int | None   # notes in that MIDI file (None when not ok or unreadable)
    message: str        # the first error line, or why it failed, or "converted"
    errors: bool        # abc2midi printed an "Error" line (it may still have converted)
    bar_warnings: int = 0  # "Bar N has X time units while the time signature has Y" lines: abc2midi's bar check

    @property
    def scans(self) -> bool | None:
        """abc2midi's own bar check passed (every bar in meter); None when it did not convert."""
        return None if not self.ok else self.bar_warnings == 0


def _problem_lines(output: str) -> tuple[list[str], list[str]]:
    lines = [ln.strip() for ln in output.splitlines()]
    return ([ln for ln in lines if ln.startswith("Error")], [ln for ln in lines if ln.startswith("Warning")])


BAR_WARNING = "time units while the time signature has"


def _run_abc2midi(tune_text: str, folder: Path, timeout: float) -> tuple[Path | None, str, bool, int]:
    """(MIDI path or None, message, printed errors, bar-length warnings) for one tune converted
    inside `folder`."""
    source, midi = folder / "tune.abc", folder / "tune.mid"
    source.write_text(tune_text if tune_text.endswith("\n") else tune_text + "\n", encoding="utf-8")
    try:
        done = subprocess.run([ABC2MIDI, source.name, "-o", midi.name], cwd=folder, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"abc2midi timed out after {timeout:g} s", False, 0
    except OSError as e:
        return None, f"abc2midi could not run ({e.strerror or e})", False, 0
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    errors, warnings_ = _problem_lines(output)
    bars = sum(BAR_WARNING in line for line in warnings_)
    first = errors[0] if errors else (warnings_[0] if warnings_ else "")
    if done.returncode != 0:
        return None, f"abc2midi exited with code {done.returncode}" + (f": {first}" if first else ""), bool(errors), bars
    if not midi.is_file() or midi.stat().st_size == 0:
        return None, "abc2midi wrote no MIDI file" + (f": {first}" if first else ""), bool(errors), bars
    return midi, (f"converted with: {first}" if first else "converted"), bool(errors), bars


def load_pretty_midi():
    """pretty_midi (quietly imported), with its warning about abc2midi's tempo track silenced:
    abc2midi puts its tempo on track 1, which pretty_midi warns about once per file."""
    from audiogen.data.soundfonts import import_pretty_midi

    warnings.filterwarnings("ignore", message="Tempo, Key or Time signature change events",
                            category=RuntimeWarning)
    return import_pretty_midi()


def count_midi_notes(path: str | os.PathLike) -> int | None:
    """Notes in a MIDI file, every track (drums included); None when pretty_midi cannot read it."""
    pretty_midi = load_pretty_midi()
    try:
        midi = pretty_midi.PrettyMIDI(os.fspath(path))
    except Exception:  # pretty_midi/mido raise many kinds on a damaged file
        return None
    return sum(len(instrument.notes) for instrument in midi.instruments)


def abc2midi_check(tune_text: str, timeout: float = 20) -> Abc2midiResult:
    """Convert one tune with abc2midi in a temp folder and count the notes of the MIDI it writes."""
    with tempfile.TemporaryDirectory(prefix="audiogen-abc2midi-") as folder:
        midi, message, errors, bars = _run_abc2midi(tune_text, Path(folder), timeout)
        if midi is None:
            return Abc2midiResult(False, None, message, errors, bars)
        notes = count_midi_notes(midi)
        if notes is None:
            return Abc2midiResult(False, None, "abc2midi wrote a MIDI file that cannot be read", errors, bars)
        return Abc2midiResult(True, notes, message, errors, bars)


def abc2midi_midi(tune_text: str, out_path: Path, timeout: float = 20) -> tuple[bool, str]:
    """Convert one tune to `out_path` (written atomically) with abc2midi; (ok, message)."""
    from audiogen.runtime.atomic import atomic_write_bytes

    with tempfile.TemporaryDirectory(prefix="audiogen-abc2midi-") as folder:
        midi, message, _, _ = _run_abc2midi(tune_text, Path(folder), timeout)
        if midi is None:
            return False, message
        atomic_write_bytes(out_path, midi.read_bytes())
        return True, message


def abc2midi_notes(tune_text: str, timeout: float = 20) -> int | None:
    """Notes in the MIDI abc2midi writes for one tune; None if it failed."""
    return abc2midi_check(tune_text, timeout).notes


# ---------------------------------------------------------------------------------------------
# music21


def score_notes(score) -> int:
    """Sounding notes of a music21 stream: each pitch of a chord counts, chord symbols do not."""
    from music21 import harmony

    return sum(len(n.pitches) for n in score.recurse().notes if not isinstance(n, harmony.Harmony))


def music21_notes(tune_text: str) -> int | None:
    """Notes music21 parses in one tune; None if it fails."""
    try:
        return score_notes(music21_score(tune_text))
    except Exception:  # ValueError from parsing; walking a half-built stream can fail too
        return None


def reader_notes(tune_text: str) -> int:
    """Notes our ABC reader finds in one tune, as written (see the module docstring)."""
    from audiogen.notation.notes import read_tune

    return sum(1 for note in read_tune(tune_text).notes if not note.grace)


def is_playable(tune_text: str, min_notes: int = 8) -> bool:
    """At least `min_notes` notes once converted: abc2midi when available, else our reader."""
    notes = abc2midi_notes(tune_text) if abc2midi_available() else reader_notes(tune_text)
    return notes is not None and notes >= min_notes


# ---------------------------------------------------------------------------------------------
# Headers


def _value(text: str | None) -> str | None:
    return None if text is None else text.split("%", 1)[0].strip()


def valid_meter(value: str | None) -> bool:
    """An M: value: N/M (N may be 2+3+2, in brackets), C, C| or none."""
    value = _value(value)
    return bool(value) and _METER.fullmatch(value) is not None


def valid_unit(value: str | None) -> bool:
    """An L: value of the form 1/N."""
    value = _value(value)
    return bool(value) and _UNIT.fullmatch(value) is not None


def _is_mode(word: str) -> bool:
    return word.lower() == "m" or (word.isalpha() and len(word) >= 3 and word[:3].lower() in _MODES)


def valid_key(value: str | None) -> bool:
    """A K: value in ABC key syntax (see the module docstring)."""
    tokens = (_value(value) or "").split()
    if not tokens:
        return False
    first = tokens.pop(0)
    if first not in ("HP", "Hp") and first.lower() != "none":
        match = _TONIC.fullmatch(first)
        if match is None:
            return False
        if match[2] and not _is_mode(match[2]):
            return False
        if not match[2] and tokens and _is_mode(tokens[0]):  # "A minor", "D Mix"
            tokens.pop(0)
    return all(_ACCIDENTAL.fullmatch(t) or _CLEF.fullmatch(t) or _SETTING.fullmatch(t) for t in tokens)


def header_checks(tune_text: str) -> dict[str, bool]:
    """{"M", "L", "K": whether each header field is present and valid, "all": all three}."""
    checks = {"M": valid_meter(header_field(tune_text, "M")),
              "L": valid_unit(header_field(tune_text, "L")),
              "K": valid_key(header_field(tune_text, "K"))}
    return {**checks, "all": all(checks.values())}
