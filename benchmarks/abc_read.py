"""ABC reading: our reader (`audiogen.notation.notes`) against music21's parser and abc2midi.

One run measures, on the same tunes:
  - speed: tunes/s of `read_abc_notes` (ours) and of the music21-based reference reader below
    (what `data melodies` used until 2026-12), both on one thread, whole tunes from their text;
  - agreement with music21: the share of the tunes music21 reads whose note lists (pitch, onset,
    length in quarters, after the same pickup and bar handling) are the same, and the kinds of
    difference, counted;
  - agreement with abc2midi (`--abc2midi N`): the pitches and onsets of N tunes against the MIDI
    abc2midi writes for them (grace notes, which abc2midi plays before the beat, left out).

    python benchmarks/abc_read.py --data runs/mv/folk.abc --tunes 300
    python benchmarks/abc_read.py --data runs/mv/folk.abc --tunes 0 --abc2midi 200   # all tunes
    python benchmarks/abc_read.py --data t300.abc --music21-parse-only   # the yardstick for `data melodies`

With `--music21-parse-only` the script only parses every tune of --data with music21 and exits: the
yardstick `farm-bench` times `audiogen data melodies --jobs 1` against (both whole processes).

The music21 reference is kept here only to be measured against; nothing in audiogen uses it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from audiogen.data.abc import music21_score, read_abc_file
from audiogen.data.midi_notes import (Bar, MelodyInputError, NoteList, _check_meter, abc_note_list, first_voice,
                                      join_split_bars, read_abc_notes)
from audiogen.data.skips import SkipLog

_BODY_METER = re.compile(r"^\s*M:|\[M:", re.MULTILINE)


def _written_meter_changes(text: str) -> bool:
    """Whether the tune body (after its first K: line) holds an M: field or an inline [M:...]."""
    key = re.search(r"^\s*K:.*$", text, re.MULTILINE)
    return bool(key and _BODY_METER.search(text, key.end()))


def _abc_bars(measures, source: str, meter_changes: bool) -> list[Bar]:
    """Bars from music21 measures: written lengths and meters, then the repairs (module docstring).

    music21 splits a bar longer than its meter in two and gives the rest a time signature of its
    own (a 2/4 bar of 9 sixteenths -> 2/4 + 1/16). Without written meter changes (`meter_changes`
    False) such a time signature is that artefact, and the rest goes back into its bar.
    """
    bars: list[Bar] = []
    numerator, denominator = 4, 4
    for m in measures:
        ts = m.timeSignature
        length = float(m.duration.quarterLength)
        if ts is not None and bars and not meter_changes:
            if (int(ts.numerator), int(ts.denominator)) != (numerator, denominator):
                last = bars.pop()
                bars.append(Bar(last.start, last.length + length, last.numerator, last.denominator))
                continue
        elif ts is not None:
            numerator, denominator = int(ts.numerator), int(ts.denominator)
            _check_meter(source, numerator, denominator)
        if length > 0:
            bars.append(Bar(float(m.offset), length, numerator, denominator))
    return join_split_bars(bars)


def _tied_rows(notes) -> list[list[float]]:
    """[start, end, pitch] rows (quarters) of music21 notes and chords in time order, ties merged.

    (music21's own `stripTies` deep-copies the part: it took ~40% of the reading time.)
    """
    rows: list[list[float]] = []
    open_ties: dict[int, int] = {}  # pitch -> row of the note an open tie continues
    for n in notes:
        length = float(n.duration.quarterLength)
        if length <= 0:  # grace notes
            continue
        start = float(n.offset)
        tie = n.tie.type if n.tie is not None else None
        for pitch in (p.midi for p in n.pitches):
            row = open_ties.pop(pitch, None)
            if row is not None and tie in ("stop", "continue"):
                rows[row][1] = start + length
            else:
                row = len(rows)
                rows.append([start, start + length, pitch])
            if tie in ("start", "continue"):
                open_ties[pitch] = row
    return rows


def _expanded(part):
    """A music21 part with its repeats played out, or the part itself when they cannot be."""
    try:
        return part.expandRepeats()
    except Exception:  # music21's expander raises several kinds on badly formed repeat marks
        return part




def music21_notes(text: str, source: str, *, expand_repeats: bool = False) -> NoteList:
    """The reference: the notes and bars of one ABC tune as the music21-based reader (used until
    2026-12) read them.

    Only the first voice of a multi-voice tune is read (see `first_voice`). `expand_repeats` plays
    repeats and first/second endings out as a player would (|: A :| -> A A; [1 and [2 in turn);
    a tune whose repeat marks music21 cannot expand is read as written.
    `source` names the tune in messages (e.g. "tunes.abc:120"). Raises MelodyInputError when
    music21 cannot parse it or it has no notes. Imports music21 (about 1-2 s the first time).
    """
    import music21

    from audiogen.data.abc import music21_score

    try:
        parsed = music21_score(first_voice(text))
        part = (list(parsed.parts) or [parsed])[0]
        if expand_repeats:
            part = _expanded(part)
        measures = list(part.getElementsByClass(music21.stream.Measure))
        rows = _tied_rows(n for n in part.flatten().notes if not isinstance(n, music21.harmony.ChordSymbol))
    except MelodyInputError:
        raise
    except ValueError as e:
        raise MelodyInputError(source, str(e), kind="unreadable ABC") from None
    except Exception as e:  # music21 can also fail while walking what it parsed
        raise MelodyInputError(source, f"music21 cannot parse this tune ({type(e).__name__}: {e})",
                               kind="unreadable ABC") from None
    title = (parsed.metadata.title or "") if parsed.metadata is not None else ""
    return abc_note_list(rows, _abc_bars(measures, source, _written_meter_changes(text)), source, str(title))


# ------------------------------------------------------------------------------------- measuring

def _same(ours: NoteList, ref: NoteList) -> str | None:
    """None when the note lists agree (pitch, onset, length; order of simultaneous notes aside), else the kind of difference."""
    a = ours.notes[np.lexsort((ours.notes[:, 2], ours.notes[:, 0]))]
    b = ref.notes[np.lexsort((ref.notes[:, 2], ref.notes[:, 0]))]
    if a.shape != b.shape:
        return "note count"
    if not np.array_equal(a[:, 2], b[:, 2]):
        return "pitch"
    if not np.allclose(a[:, 0], b[:, 0], atol=1e-6):
        return "onset"
    if not np.allclose(a[:, 1], b[:, 1], atol=1e-6):
        return "length"
    return None


def _name(tune) -> str:
    """A tune's source and X: number ("folk.abc:1203 X:17"), which names it uniquely."""
    number = re.match(r"X:\s*(\S*)", tune.text)
    return f"{tune.source} X:{number.group(1) if number else '?'}"


def _timed(read, tune, expand_repeats: bool):
    """(the NoteList `read` makes of a tune, or the kind of its MelodyInputError; seconds taken)."""
    began = time.perf_counter()
    try:
        notes = read(tune.text, tune.source, expand_repeats=expand_repeats)
    except MelodyInputError as e:
        notes = e.kind
    return notes, time.perf_counter() - began


def agreement_with_music21(tunes, *, expand_repeats: bool, examples: int = 5) -> dict:
    """Our reader and the music21 reference on each tune: speed and agreement (module docstring)."""
    ours, ref, ours_s, ref_s = {}, {}, 0.0, 0.0
    for tune in tunes:
        ours[_name(tune)], seconds = _timed(read_abc_notes, tune, expand_repeats)
        ours_s += seconds
        ref[_name(tune)], seconds = _timed(music21_notes, tune, expand_repeats)
        ref_s += seconds
    kinds: dict[str, list[str]] = collections.defaultdict(list)
    read_by_music21 = [s for s, r in ref.items() if isinstance(r, NoteList)]
    for source in read_by_music21:
        kind = ours[source] if isinstance(ours[source], str) else _same(ours[source], ref[source])
        if kind is not None:
            kinds[kind].append(source)
    agree = len(read_by_music21) - sum(len(v) for v in kinds.values())
    by_tune = {_name(t): t for t in tunes}
    with tempfile.TemporaryDirectory() as workdir:
        judged = {kind: collections.Counter(judged_by_abc2midi(by_tune[s], workdir) for s in sources)
                  for kind, sources in kinds.items()}
    return {"tunes": len(tunes), "ours_tunes_per_s": round(len(tunes) / ours_s, 1),
            "music21_tunes_per_s": round(len(tunes) / ref_s, 2), "speed_ratio": round(ref_s / ours_s, 1),
            "read_by_music21": len(read_by_music21),
            "read_by_ours": sum(isinstance(v, NoteList) for v in ours.values()),
            "same_notes": agree, "same_share": round(agree / max(len(read_by_music21), 1), 4),
            "differences": {k: {"tunes": len(v), "ours_against_abc2midi": dict(judged[k]), "examples": v[:examples]}
                            for k, v in sorted(kinds.items(), key=lambda kv: -len(kv[1]))}}


_ORNAMENTS = re.compile(r"![^!\n]*!|(?<!\[)[TM~](?!:)")  # trills, mordents, rolls: abc2midi plays them


def abc2midi_notes(text: str, workdir: str) -> list[tuple[float, int]] | None:
    """(onset in quarters, pitch) of the notes abc2midi writes for a tune: without its chord
    symbols' accompaniment, grace notes (abc2midi takes their time from the next note) and
    fermatas (-NGUI -NGRA -NFER), without its R: line (abc2midi swings a hornpipe's even
    notes), and with its ornaments (trills, mordents, rolls, which abc2midi
    plays as several notes) taken out of the text; None when abc2midi writes no file."""
    import pretty_midi

    header, _, body = text.partition("\nK:")
    # abc2midi swings hornpipes (R:hornpipe): a way to play them, not the notes
    header = "\n".join(line for line in header.split("\n") if not line.startswith("R:"))
    key_line, _, rest = body.partition("\n")
    source = os.path.join(workdir, "tune.abc")
    target = os.path.join(workdir, "tune.mid")
    lines = [line if re.match(r"[A-Za-z]:", line) else _ORNAMENTS.sub("", line) for line in rest.split("\n")]
    Path(source).write_text(f"{header}\nK:{key_line}\n" + "\n".join(lines))
    if os.path.exists(target):
        os.remove(target)
    subprocess.run(["abc2midi", source, "-o", target, "-NGUI", "-NGRA", "-NFER", "-silent"], capture_output=True,
                   timeout=30)
    if not os.path.exists(target):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        midi = pretty_midi.PrettyMIDI(target)
    return sorted((midi.time_to_tick(n.start) / midi.resolution, n.pitch) for inst in midi.instruments
                  for n in inst.notes)


def judged_by_abc2midi(tune, workdir: str) -> str:
    """How our reading (repeats played out, grace notes left out) compares with abc2midi's MIDI: "same", "pitches" (the pitch sequences differ),
    "onsets" (same pitches, an onset off by 0.06 quarter or more) or "no MIDI"."""
    from audiogen.notation.notes import played_out, read_tune

    theirs = abc2midi_notes(tune.text, workdir)
    if theirs is None:
        return "no MIDI"
    played = played_out(read_tune(tune.text))
    ours = _chords_sorted(sorted((played.quarters(n.start), n.pitch) for n in played.notes if not n.grace))
    theirs = _chords_sorted(theirs)
    if [p for _, p in ours] != [p for _, p in theirs]:
        return "pitches"
    return "same" if all(abs(a - b) < 0.06 for (a, _), (b, _) in zip(ours, theirs)) else "onsets"


def agreement_with_abc2midi(tunes, count: int, seed: int = 0) -> dict:
    """`judged_by_abc2midi` on `count` random single-voice tunes without P: part orders."""
    plain = [t for t in tunes if not re.search(r"(?m)^(V|P):", t.text.partition("\nK:")[2])]
    rng = np.random.default_rng(seed)
    chosen = [plain[i] for i in rng.choice(len(plain), size=min(count, len(plain)), replace=False)]
    verdicts: dict[str, list[str]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as workdir:
        for tune in chosen:
            verdicts[judged_by_abc2midi(tune, workdir)].append(_name(tune))
    return {"sampled": len(chosen), "single_voice_tunes": len(plain),
            "verdicts": {k: {"tunes": len(v), "examples": v[:5]} for k, v in verdicts.items()}}


def _chords_sorted(notes):
    """(onset, pitch) pairs with the notes of one chord (onsets within 0.1 quarter: abc2midi
    staggers them) in pitch order."""
    out, group = [], []
    for onset, pitch in notes:
        if group and onset - group[0][0] >= 0.1:
            out += sorted(group, key=lambda n: n[1])
            group = []
        group.append((onset, pitch))
    return out + sorted(group, key=lambda n: n[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an ABC file (e.g. `audiogen data abc`'s folk.abc)")
    parser.add_argument("--tunes", type=int, default=300, help="tunes to read (evenly spaced; 0: all)")
    parser.add_argument("--expand-repeats", action="store_true", help="play repeats out in both readers")
    parser.add_argument("--abc2midi", type=int, default=0, help="also compare N random tunes with abc2midi")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--music21-parse-only", action="store_true", help="only parse every tune with music21")
    args = parser.parse_args()
    tunes = read_abc_file(args.data, skips=SkipLog(warn=False))
    if args.music21_parse_only:
        parsed = 0
        for tune in tunes:
            try:
                music21_score(tune.text)
                parsed += 1
            except ValueError:
                pass
        print(f"music21 parsed {parsed} of {len(tunes)} tunes")
        return
    if args.tunes and args.tunes < len(tunes):
        tunes = [tunes[int(i)] for i in np.linspace(0, len(tunes) - 1, args.tunes)]
    figures = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}",
               "data": str(args.data), "expand_repeats": args.expand_repeats,
               "music21": agreement_with_music21(tunes, expand_repeats=args.expand_repeats)}
    if args.abc2midi:
        figures["abc2midi"] = agreement_with_abc2midi(tunes, args.abc2midi)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
