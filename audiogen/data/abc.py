"""ABC tune files: split into tunes, read files and folders, renumber, find music21's ABC corpus.

The rules, on top of ABC 2.1 (https://abcnotation.com/wiki/abc:standard:v2.1):

- A **tune** starts at an ``X:`` line and ends at a blank line, the next ``X:`` line (so files
  without blank lines between tunes split too) or the end of the file. Its header runs from
  ``X:`` to the first ``K:`` line; everything after ``K:`` is its body.
- A tune **has a body** when at least one body line is a music line: not a comment, not a field
  line (``w:``, ``P:``, ...), and holding a note or rest (``A``-``G``, ``a``-``g``, ``z``, ``Z``,
  ``x``) once chord symbols ``"..."``, decorations ``!...!``, inline fields ``[X:...]`` and
  trailing comments are removed. A tune without ``K:`` has no body. Tunes without a body are
  dropped and counted (``no_body``).
- A **blank line inside a tune** (a body broken in two, as in the Essen file ``irl.abc``): when
  the next non-blank line before any ``X:`` is a music line with a bar line ``|``, it continues
  the tune (the blank line is removed; counted as ``rejoined_lines``). Otherwise the tune ended.
- **File header**: field lines before the first ``X:`` apply to every tune in the file (ABC 2.1
  §2.2.2). Each tune must stand alone once tunes from many files are merged, so each field is
  copied into every tune that lacks a field of that letter, just before its ``K:`` line (never
  ``X:``, ``T:``, ``K:`` or lyrics). ``%`` comments and ``%%`` directives there are not copied.
- **Garbage lines** are dropped and counted (``garbage_lines``; ``garbage_first`` is the first's
  line number): any line holding control characters other than tab (binary junk), and, outside
  tunes, text that is neither blank, a ``%`` comment or ``%%`` directive, nor a header field
  (ABC 2.1's free text between tunes counts here: it is never part of a tune). Field lines after
  the first tune but outside any tune count too. ``%`` lines between tunes are dropped silently.
- Tune text is kept as written otherwise (comments and directives inside a tune included), with
  trailing whitespace removed from each line and ``\\n`` line ends.

`read_abc` applies the batch-job rules (docs/design.md §2) per file: a file that cannot be read or
yields no tune (binary, not ABC, only bodiless tunes) is skipped through the SkipLog; a file with
garbage lines keeps its good tunes and gets one warning naming the file (fatal with ``strict``).
Files are decoded as UTF-8 (a BOM is dropped), else Windows-1252, else Latin-1; C1 control
characters (old DOS code-page letters, as in the Essen files) are mapped back to letters.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audiogen.data.files import list_files
from audiogen.data.skips import MAX_WARNINGS, SkipLog, warn
from audiogen.errors import AudiogenError, BadInputError

# music21 corpus folders holding ABC tune books -> what the output header says about them.
COLLECTIONS: dict[str, str] = {
    "oneills1850": "O'Neill's Music of Ireland (1903): 1850 melodies; ABC by Norbert Paap",
    "ryansMammoth": "Ryan's Mammoth Collection (Boston, 1883)",
    "airdsAirs": "Aird's Selection of Scotch, English, Irish and Foreign Airs (1778-1803); ABC by Jack Campin",
    "miscFolk": "American fife music and Northumbrian minstrelsy; ABC by Jack Campin",
    "essenFolksong": "Essen folksong database (EsAC), ABC by Seymour Shlien",
}
DEFAULT_COLLECTIONS: tuple[str, ...] = ("oneills1850", "ryansMammoth", "airdsAirs", "miscFolk")
LICENCES: dict[str, str] = {
    "essenFolksong": "NON-COMMERCIAL USE ONLY: distributed with music21 by permission of Ewa Dahlig-Turek "
                     "for non-commercial use (music21/corpus/essenFolksong/license.txt)",
}
PUBLIC_DOMAIN_NOTE = ("tunes from public-domain books; the ABC encodings are distributed with music21 "
                      "by their encoders' permission (music21/corpus/license.txt)")

_FIELD = re.compile(r"[A-Za-z+]:")  # a field line: one letter (or + continuation), colon
_X_LINE = re.compile(r"\s*X:(.*)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters but tab (\n is split off)
# C1 controls in decoded text are letters of an old 8-bit code page converted as if Latin-1: the
# Essen files hold 0x81/0x84/0x94 (u/a/o umlauts of DOS code page 437) and 0x9E (sharp s of the
# Atari ST set, where 437 has a peseta sign). Map them back; they never mean anything in ABC.
_C1_LETTERS = str.maketrans({chr(b): bytes([b]).decode("cp437") for b in range(0x80, 0xA0)} | {"\x9e": "ß"})
# What is not music inside a line: chord symbols/annotations, decorations, inline fields, comments.
_NOT_NOTES = re.compile(r'"[^"]*"|![^!]*!|\[[A-Za-z]:[^\]]*\]|%.*')
_NOTE = re.compile(r"[A-Ga-gzZx]")
_NOT_INHERITED = frozenset("XTKWw")


@dataclass(frozen=True)
class AbcTune:
    """One tune: its text from ``X:`` on (ends with "\\n") and where it came from."""

    text: str           # the whole tune: header lines from X: on, then the body; ends with "\n"
    number: int | None  # the X: number as written (None if unparsable)
    title: str          # first T: line's text, "" if none
    meter: str | None   # M: field value (e.g. "6/8", "C|"), None if absent
    unit: str | None    # L: field value
    key: str | None     # K: field value
    source: str         # file it came from (or a collection name)
    line: int           # 1-based line of its X: in that file


def _is_music_line(line: str) -> bool:
    if line.lstrip().startswith("%") or _FIELD.match(line):
        return False
    return bool(_NOTE.search(_NOT_NOTES.sub("", line)))


def _field(line: str) -> tuple[str, str] | None:
    """("T", "value") for a field line, else None."""
    if _FIELD.match(line):
        return line[0], line[2:].strip()
    return None


@dataclass
class _Draft:
    """A tune being collected: (line number, text) pairs from its X: line on."""

    lines: list[tuple[int, str]]
    has_key: bool = False
    has_body: bool = False

    def add(self, number: int, line: str) -> None:
        self.lines.append((number, line))
        if not self.has_key:
            self.has_key = line.startswith("K:")
        elif not self.has_body:
            self.has_body = _is_music_line(line)


def _finish(draft: _Draft, header: list[str], source: str) -> AbcTune:
    lines = [text for _, text in draft.lines]
    fields: dict[str, str] = {}
    key_at = len(lines)
    for i, text in enumerate(lines):
        parsed = _field(text)
        if parsed is None:
            continue
        fields.setdefault(parsed[0], parsed[1])
        if parsed[0] == "K":
            key_at = i
            break
    inherited = [text for text in header if text[0] not in fields and text[0] not in _NOT_INHERITED]
    for text in inherited:
        fields.setdefault(text[0], text[2:].strip())
    lines[key_at:key_at] = inherited
    number_text = _X_LINE.match(lines[0]).group(1).strip()
    number = int(number_text) if re.fullmatch(r"[0-9]+", number_text) else None
    return AbcTune(text="\n".join(lines) + "\n", number=number,
                   title=fields.get("T", ""), meter=fields.get("M"), unit=fields.get("L"), key=fields.get("K"),
                   source=source, line=draft.lines[0][0])


def split_tunes(text: str, source: str = "<string>") -> tuple[list[AbcTune], dict]:
    """Split ABC text into tunes with a body, by the rules in this module's docstring.

    Returns (tunes, counts); counts: ``tunes`` (kept), ``no_body`` (dropped), ``garbage_lines``,
    ``garbage_first`` (line number of the first, or None), ``rejoined_lines`` (blank lines removed
    inside a tune), ``header_fields`` (file-header fields copied into each tune),
    ``duplicate_numbers`` (kept tunes whose X: number an earlier kept tune already has).
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    tunes: list[AbcTune] = []
    counts = Counter(no_body=0, garbage_lines=0, rejoined_lines=0)
    garbage_first: int | None = None
    header: list[str] = []  # file-header field lines
    seen_tune = False
    draft: _Draft | None = None  # the open tune
    ended: _Draft | None = None  # the tune a blank line just ended (a music line may continue it)
    blanks = 0

    def close(d: _Draft | None) -> None:
        if d is None:
            return
        if d.has_body:
            tunes.append(_finish(d, header, source))
        else:
            counts["no_body"] += 1

    for number, line in enumerate(lines, 1):
        if _CONTROL.search(line):
            counts["garbage_lines"] += 1
            garbage_first = garbage_first or number
            continue
        if not line.strip():
            if draft is not None:
                ended, draft, blanks = draft, None, 0
            blanks += 1
            continue
        if _X_LINE.match(line):
            close(draft)
            close(ended)
            draft, ended, seen_tune = _Draft([]), None, True
            draft.add(number, line.strip())
            continue
        if draft is not None:
            draft.add(number, line)
            continue
        if ended is not None and ended.has_body and "|" in line and _is_music_line(line):
            draft, ended = ended, None
            counts["rejoined_lines"] += blanks
            draft.add(number, line)
            continue
        close(ended)
        ended = None
        if line.lstrip().startswith("%"):
            continue
        if not seen_tune and _FIELD.match(line):
            if line.startswith("+:") and header:
                header[-1] += " " + line[2:].strip()
            elif not line.startswith("+:"):
                header.append(line)
            continue
        counts["garbage_lines"] += 1
        garbage_first = garbage_first or number
    close(draft)
    close(ended)
    numbers = Counter(t.number for t in tunes if t.number is not None)
    return tunes, {"tunes": len(tunes), "no_body": counts["no_body"], "garbage_lines": counts["garbage_lines"],
                   "garbage_first": garbage_first, "rejoined_lines": counts["rejoined_lines"],
                   "header_fields": len(header), "duplicate_numbers": sum(n - 1 for n in numbers.values())}


def decode_abc(data: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 (BOM dropped), else Windows-1252, else Latin-1 (never fails).

    C1 control characters left in the text are mapped to the DOS letters they stood for
    (see `_C1_LETTERS`); the name then ends in "+c1-repaired".
    """
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            pass
    name = encoding.removesuffix("-sig")
    repaired = text.translate(_C1_LETTERS)
    return repaired, name + ("+c1-repaired" if repaired != text else "")


def list_abc_files(root: str | os.PathLike) -> list[Path]:
    """`root` itself when it is a file (any extension), else the ``*.abc`` files under it, sorted.

    Hidden files and folders are left out (see `list_files`). Raises BadInputError when `root`
    does not exist or a folder holds no ``.abc`` file.
    """
    found = list_files(root, (".abc",))
    if not found:
        raise BadInputError(root, "no .abc files in this folder")
    return found


@dataclass
class AbcReadReport:
    """What reading some ABC files found: totals over the files read, plus files with garbage lines."""

    files: int = 0              # files read (skipped ones not counted)
    tunes: int = 0
    no_body: int = 0
    garbage_lines: int = 0
    rejoined_lines: int = 0
    duplicate_numbers: int = 0  # within each file
    garbage_files: list[dict] = field(default_factory=list)  # {"path", "lines", "first_line"}
    encodings: Counter = field(default_factory=Counter)       # encoding name -> files

    def to_dict(self) -> dict:
        return {"files": self.files, "tunes": self.tunes, "no_body": self.no_body,
                "garbage_lines": self.garbage_lines, "rejoined_lines": self.rejoined_lines,
                "duplicate_numbers": self.duplicate_numbers, "garbage_files": self.garbage_files,
                "encodings": dict(self.encodings)}


def read_abc_file(path: str | os.PathLike, *, skips: SkipLog, report: AbcReadReport | None = None,
                  source: str | None = None) -> list[AbcTune]:
    """The tunes of one file (source = `source`, default the path); [] when skipped via `skips`.

    Garbage lines: one warning naming the file; with ``skips.strict``, BadInputError instead.
    `report`, when given, is updated with this file's counts.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        skips.skip(path, f"cannot read ({e.strerror or e})", kind="unreadable")
        return []
    if not data.strip():
        skips.skip(path, "empty file", kind="empty")
        return []
    text, encoding = decode_abc(data)
    tunes, counts = split_tunes(text, source or str(path))
    if not tunes:
        if counts["no_body"]:
            problem, kind = f"none of its {counts['no_body']} tunes has a body (K: and a music line)", "no body"
        elif _CONTROL.search(text):
            problem, kind = "not ABC text (binary data or control characters)", "binary"
        else:
            problem, kind = "no ABC tunes (no X: line)", "not ABC"
        skips.skip(path, problem, kind=kind)
        return []
    if counts["no_body"] and skips.strict:
        raise BadInputError(path, f"{counts['no_body']} of its tunes have no body (K: and a music line)" + skips.strict_mark)
    if counts["garbage_lines"]:
        garbage = f"{counts['garbage_lines']} garbage line(s), the first at line {counts['garbage_first']}"
        if skips.strict:
            raise BadInputError(path, garbage + skips.strict_mark)
        earlier = len(report.garbage_files) if report is not None else 0
        if skips.warn and earlier < MAX_WARNINGS:
            warn(f"{path}: dropped {garbage}; kept its {len(tunes)} good tunes")
        elif skips.warn and earlier == MAX_WARNINGS:
            warn("more files with garbage lines; the summary counts them all")
    if report is not None:
        report.files += 1
        report.encodings[encoding] += 1
        for name in ("tunes", "no_body", "garbage_lines", "rejoined_lines", "duplicate_numbers"):
            setattr(report, name, getattr(report, name) + counts[name])
        if counts["garbage_lines"]:
            report.garbage_files.append({"path": str(path), "lines": counts["garbage_lines"],
                                         "first_line": counts["garbage_first"]})
    return tunes


def read_abc(paths: Iterable[str | os.PathLike], *, skips: SkipLog,
             report: AbcReadReport | None = None) -> list[AbcTune]:
    """The tunes of every file in `paths` (files, or folders searched recursively for ``*.abc``), in order.

    Bad files are skipped through `skips` (see `read_abc_file`); a missing path or a folder without
    ``.abc`` files raises BadInputError. Pass a fresh `report` to get the counts.
    """
    report = AbcReadReport() if report is None else report  # also caps the garbage warnings
    tunes: list[AbcTune] = []
    for root in paths:
        for path in list_abc_files(root):
            tunes += read_abc_file(path, skips=skips, report=report)
    return tunes


def renumber(tunes: Sequence[AbcTune]) -> str:
    """One ABC text: the tunes in order with X: 1..N, separated by exactly one blank line, ending "\\n"."""
    parts = []
    for i, tune in enumerate(tunes, 1):
        rest = tune.text.partition("\n")[2]
        parts.append(f"X:{i}\n{rest}")
    return "\n".join(parts)


def music21_corpus_dir() -> Path:
    """The ``corpus`` folder of the installed music21, found without importing music21 (slow)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise AudiogenError("music21 is not installed: its bundled corpus holds the ABC collections "
                            "(pip install music21), or pass your own files with --data")
    corpus = Path(list(spec.submodule_search_locations)[0]) / "corpus"
    if not corpus.is_dir():
        raise BadInputError(corpus, "music21 is installed without its corpus")
    return corpus


def corpus_collections() -> dict[str, Path]:
    """name -> folder, for each ABC collection of `COLLECTIONS` present in music21's corpus."""
    corpus = music21_corpus_dir()
    return {name: corpus / name for name in COLLECTIONS if (corpus / name).is_dir()}


def read_collection(name: str, *, skips: SkipLog, report: AbcReadReport | None = None) -> list[AbcTune]:
    """The tunes of one music21 corpus collection; each tune's source is "<name>/<file>"."""
    folders = corpus_collections()
    if name not in folders:
        valid = ", ".join(folders) or "none (music21's corpus has no ABC collection)"
        raise AudiogenError(f"unknown ABC collection {name!r}; valid: {valid}")
    tunes: list[AbcTune] = []
    for path in list_abc_files(folders[name]):
        tunes += read_abc_file(path, skips=skips, report=report,
                               source=f"{name}/{path.relative_to(folders[name]).as_posix()}")
    return tunes


def music21_score(tune_text: str):
    """One tune parsed by music21 (a Score; the first of an Opus); raises ValueError on failure.

    music21 prints some complaints on stdout, which may carry --json output: they go to stderr.
    Imports music21 (1-2 s the first time).
    """
    import contextlib
    import sys
    import warnings

    import music21

    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            parsed = music21.converter.parse(tune_text, format="abc")
    except Exception as e:  # music21's ABC reader raises many kinds on malformed tunes
        raise ValueError(f"music21 cannot parse this tune ({type(e).__name__}: {e})") from None
    if isinstance(parsed, music21.stream.Opus):
        if not parsed.scores:
            raise ValueError("music21 found no tune in this text")
        parsed = parsed.scores[0]
    return parsed


def tune_stem(index: int, title: str, width: int = 3) -> str:
    """`007-The_Enchanted_Valley`: position, then the sanitised title ("untitled" if none)."""
    from audiogen.data.drums import safe_name

    return f"{index:0{width}d}-{safe_name(title, 'untitled')}"
