"""The NSynth layout: `examples.json` + `audio/<note_str>.wav`, read with filters.

`examples.json` is a dict keyed by note_str; each entry holds note, note_str, instrument,
instrument_str, pitch, velocity, sample_rate, instrument_family(_str), instrument_source(_str),
qualities (10 flags) and qualities_str (docs/design.md §4). Keys beyond those are ignored. Audio is
16 kHz mono, 64000 samples (4 s).

Sources are 0 acoustic, 1 electronic, 2 synthetic. Filters match on the names (`acoustic`), and an
entry's source name comes from its `instrument_source_str` when present, else from the id through
that table — so `--filter source=acoustic` selects id 0 (a public GANSynth port selected id 1,
electronic, while calling it acoustic).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from audiogen.data.gm import FAMILIES, SOURCES
from audiogen.data.ranges import parse_int_list, parse_int_range
from audiogen.data.skips import SkipLog
from audiogen.errors import AudiogenError, BadInputError

NSYNTH_SAMPLE_RATE = 16000
NSYNTH_SAMPLES = 64000
NSYNTH_VELOCITIES = (25, 50, 75, 100, 127)
QUALITIES = ("bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
             "nonlinear_env", "percussive", "reverb", "tempo-synced")
REQUIRED_KEYS = ("pitch", "velocity", "instrument", "instrument_family", "instrument_source")
GANSYNTH_PITCHES = (24, 84)


@dataclass(frozen=True)
class NSynthFilter:
    """Which notes to keep; None means any. Pitches are MIDI numbers, inclusive."""

    sources: tuple[str, ...] | None = None
    families: tuple[str, ...] | None = None
    pitch_min: int = 0
    pitch_max: int = 127
    velocities: tuple[int, ...] | None = None
    instruments: tuple[str, ...] | None = None  # instrument_str names

    @classmethod
    def gansynth(cls) -> "NSynthFilter":
        """GANSynth's training set: acoustic notes, MIDI 24-84."""
        return cls(sources=("acoustic",), pitch_min=GANSYNTH_PITCHES[0], pitch_max=GANSYNTH_PITCHES[1])

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...]) -> "NSynthFilter":
        """From CLI words: `gansynth`, `source=acoustic,electronic`, `family=keyboard`, `pitch=24-84`,
        `velocity=75,100`, `instrument=keyboard_acoustic_004`. Later words refine earlier ones.

        Raises AudiogenError naming the bad word.
        """
        fields: dict = {}
        for spec in specs:
            spec = spec.strip()
            if spec == "gansynth":
                fields.update(sources=("acoustic",), pitch_min=GANSYNTH_PITCHES[0], pitch_max=GANSYNTH_PITCHES[1])
                continue
            if spec in ("all", ""):
                continue
            key, sep, value = spec.partition("=")
            values = tuple(v.strip() for v in value.split(",") if v.strip())
            if not sep or not values:
                raise AudiogenError(f"--filter {spec!r}: expected KEY=VALUE[,VALUE...] or 'gansynth'")
            key = key.strip().lower()
            if key in ("source", "sources"):
                bad = [v for v in values if v not in SOURCES]
                if bad:
                    raise AudiogenError(f"--filter {spec!r}: unknown source {bad[0]!r} (choose from {', '.join(SOURCES)})")
                fields["sources"] = values
            elif key in ("family", "families"):
                bad = [v for v in values if v not in FAMILIES]
                if bad:
                    raise AudiogenError(f"--filter {spec!r}: unknown family {bad[0]!r} (choose from {', '.join(FAMILIES)})")
                fields["families"] = values
            elif key in ("pitch", "pitches"):
                low, high = parse_int_range(value, f"--filter {spec!r}", 0, 127)
                fields.update(pitch_min=low, pitch_max=high)
            elif key in ("velocity", "velocities"):
                fields["velocities"] = tuple(parse_int_list(value, f"--filter {spec!r}", 0, 127))
            elif key in ("instrument", "instruments"):
                fields["instruments"] = values
            else:
                raise AudiogenError(f"--filter {spec!r}: unknown key {key!r} "
                                    "(choose from source, family, pitch, velocity, instrument)")
        return cls(**fields)

    def matches(self, note: dict) -> bool:
        """True when a normalised note (see `normalise_entry`) passes every condition."""
        return self.failed_rule(note) is None

    def rules(self) -> list[tuple[str, object]]:
        """The active conditions in order: (CLI word, predicate on a normalised note)."""
        rules: list[tuple[str, object]] = []
        if self.sources is not None:
            rules.append(("source=" + ",".join(self.sources), lambda n: n["instrument_source_str"] in self.sources))
        if self.families is not None:
            rules.append(("family=" + ",".join(self.families), lambda n: n["instrument_family_str"] in self.families))
        if (self.pitch_min, self.pitch_max) != (0, 127):
            rules.append((f"pitch={self.pitch_min}-{self.pitch_max}",
                          lambda n: self.pitch_min <= n["pitch"] <= self.pitch_max))
        if self.velocities is not None:
            rules.append(("velocity=" + ",".join(map(str, self.velocities)), lambda n: n["velocity"] in self.velocities))
        if self.instruments is not None:
            rules.append(("instrument=" + ",".join(self.instruments), lambda n: n["instrument_str"] in self.instruments))
        return rules

    def failed_rule(self, note: dict, rules: list | None = None) -> str | None:
        """The first rule (CLI word) a normalised note fails, or None when it passes them all.
        `rules`: `self.rules()` computed once by a caller that checks many notes."""
        for word, passes in (self.rules() if rules is None else rules):
            if not passes(note):
                return word
        return None

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def describe(self) -> str:
        parts = []
        if self.sources:
            parts.append("source=" + ",".join(self.sources))
        if self.families:
            parts.append("family=" + ",".join(self.families))
        if (self.pitch_min, self.pitch_max) != (0, 127):
            parts.append(f"pitch={self.pitch_min}-{self.pitch_max}")
        if self.velocities:
            parts.append("velocity=" + ",".join(map(str, self.velocities)))
        if self.instruments:
            parts.append("instrument=" + ",".join(self.instruments))
        return " ".join(parts) or "all notes"


def normalise_entry(key: str, entry: dict) -> dict:
    """An examples.json entry -> the labels audiogen uses, names and ids both filled in.

    Raises ValueError naming the problem (missing key, unknown id, wrong type).
    """
    if not isinstance(entry, dict):
        raise ValueError("entry is not a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in entry]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    note_str = str(entry.get("note_str", key))
    family = int(entry["instrument_family"])
    source = int(entry["instrument_source"])
    if not 0 <= source < len(SOURCES):
        raise ValueError(f"instrument_source {source} is not 0, 1 or 2")
    if not 0 <= family < len(FAMILIES):
        raise ValueError(f"instrument_family {family} is not 0-{len(FAMILIES) - 1}")
    for name in ("pitch", "velocity"):
        if not 0 <= int(entry[name]) <= 127:
            raise ValueError(f"{name} {entry[name]} is not a MIDI value 0-127")
    qualities = entry.get("qualities") or [0] * len(QUALITIES)
    if len(qualities) != len(QUALITIES):
        raise ValueError(f"qualities has {len(qualities)} flags, expected {len(QUALITIES)}")
    return {
        "note": int(entry.get("note", -1)),
        "note_str": note_str,
        "instrument": int(entry["instrument"]),
        "instrument_str": str(entry.get("instrument_str", note_str.rsplit("-", 2)[0])),
        "pitch": int(entry["pitch"]),
        "velocity": int(entry["velocity"]),
        "sample_rate": int(entry.get("sample_rate", NSYNTH_SAMPLE_RATE)),
        "instrument_family": family,
        "instrument_family_str": str(entry.get("instrument_family_str", FAMILIES[family])),
        "instrument_source": source,
        "instrument_source_str": str(entry.get("instrument_source_str", SOURCES[source])),
        "qualities": [int(bool(q)) for q in qualities],
        "qualities_str": [QUALITIES[i] for i, q in enumerate(qualities) if q],
    }


def examples_path(root: str | os.PathLike) -> Path:
    """The examples.json of an NSynth folder; BadInputError when the folder or file is missing."""
    root = Path(root)
    if not root.exists():
        raise BadInputError(root, "no such directory")
    if root.is_file():
        if root.name == "examples.json":
            return root
        raise BadInputError(root, "expected an NSynth folder holding examples.json and audio/")
    path = root / "examples.json"
    if not path.is_file():
        raise BadInputError(root, "not an NSynth folder: no examples.json")
    return path


def read_examples(root: str | os.PathLike, filt: NSynthFilter | None = None, *,
                  skips: SkipLog | None = None, removed: dict[str, int] | None = None) -> list[dict]:
    """The filtered, normalised notes of an NSynth folder, sorted by note_str.

    Each note dict carries the labels of `normalise_entry` plus "path" (its WAV). Malformed entries
    go to `skips`; a missing or unreadable examples.json raises BadInputError. WAVs are not opened.
    `removed`, when given, is filled with {rule word: notes removed}, each note counted under the
    first rule it fails (every active rule is a key, 0 when it removed none).
    """
    path = examples_path(root)
    skips = skips if skips is not None else SkipLog()
    try:
        with open(path, "rb") as f:
            raw = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInputError(path, f"not readable JSON ({e})") from None
    if not isinstance(raw, dict):
        raise BadInputError(path, "expected a JSON object keyed by note_str")
    audio_dir = path.parent / "audio"
    filt = filt or NSynthFilter()
    rules = filt.rules()
    if removed is not None:
        removed.update({word: 0 for word, _ in rules})
    notes = []
    for key in sorted(raw):
        try:
            note = normalise_entry(key, raw[key])
        except (ValueError, TypeError) as e:
            skips.skip(f"{path} [{key}]", f"bad entry: {e}", kind="bad entry")
            continue
        failed = filt.failed_rule(note, rules)
        if failed is None:
            note["path"] = str(audio_dir / f"{note['note_str']}.wav")
            notes.append(note)
        elif removed is not None:
            removed[failed] += 1
    return notes


def describe_removals(total: int, removed: dict[str, int]) -> str:
    """'source=acoustic removed 150 of 200 notes, pitch=24-84 removed 10' for messages."""
    if not removed:
        return f"{total} notes, no filter"
    parts = [f"{word} removed {count}" for word, count in removed.items()]
    parts[0] = parts[0] + f" of {total} notes"
    return ", ".join(parts)


def read_note_wav(path: str | os.PathLike, *, sample_rate: int = NSYNTH_SAMPLE_RATE,
                  length: int = NSYNTH_SAMPLES, resample: bool = False) -> np.ndarray:
    """One NSynth WAV -> (length,) int16; see `read_note_wav_rate`."""
    return read_note_wav_rate(path, sample_rate=sample_rate, length=length, resample=resample)[0]


def read_note_wav_rate(path: str | os.PathLike, *, sample_rate: int = NSYNTH_SAMPLE_RATE,
                       length: int = NSYNTH_SAMPLES, resample: bool = False) -> tuple[np.ndarray, int]:
    """One NSynth WAV -> ((length,) int16, the file's own sample rate). Raises ValueError naming
    the problem.

    The file must be mono with exactly `length` frames at `sample_rate`; nothing is padded, since
    a note that differs is not an NSynth note and would silently skew training. A file at another
    rate is refused, or with `resample` converted when it lasts the same time (within 1%), and
    then fitted to exactly `length` frames.
    """
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            if f.samplerate != sample_rate and not resample:
                raise ValueError(f"sample rate {f.samplerate} Hz, expected {sample_rate}")
            if f.channels != 1:
                raise ValueError(f"{f.channels} channels, expected mono")
            if f.samplerate != sample_rate:
                return _resampled_note(f, sample_rate, length), f.samplerate
            if f.subtype in ("FLOAT", "DOUBLE"):  # read as float: a cast to int16 would hide NaN as 0
                wave = _finite(f.read(frames=length + 1, dtype="float32"))
                data = np.round(np.clip(wave, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)
            else:
                data = f.read(frames=length + 1, dtype="int16")
    except FileNotFoundError:
        raise ValueError("missing WAV") from None
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError) as e:
        if not os.path.exists(path):
            raise ValueError("missing WAV") from None
        raise ValueError(f"not a readable WAV ({str(e).split(': ')[-1].strip()})") from None
    if data.shape[0] != length:
        raise ValueError(f"{data.shape[0]} samples, expected {length}")
    return data, sample_rate


def _finite(wave: np.ndarray) -> np.ndarray:
    if not np.isfinite(wave).all():
        raise ValueError("contains NaN or infinite samples")
    return wave


def _resampled_note(f, sample_rate: int, length: int) -> np.ndarray:
    """The rest of `read_note_wav` for an open file at another rate."""
    import torch

    from audiogen.dsp.audio_io import resample as resample_wave

    native = round(length * f.samplerate / sample_rate)
    data = f.read(frames=native + native // 50 + 1, dtype="float32")
    if abs(data.shape[0] - native) > native // 100:
        raise ValueError(f"{data.shape[0] / f.samplerate:.2f} s at {f.samplerate} Hz, expected "
                         f"{length / sample_rate:g} s")
    wave = resample_wave(torch.from_numpy(np.ascontiguousarray(_finite(data))), f.samplerate, sample_rate).numpy()
    wave = np.pad(wave[:length], (0, max(0, length - wave.shape[0])))
    return np.round(np.clip(wave, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)


def iter_notes(root: str | os.PathLike, filt: NSynthFilter | None = None, *,
               skips: SkipLog | None = None) -> Iterator[tuple[np.ndarray, dict]]:
    """(float32 (64000,) audio in [-1, 1), labels) for each readable note that passes `filt`.

    Missing, corrupt, wrong-rate or wrong-length WAVs go to `skips` (fatal when it is strict).
    """
    skips = skips if skips is not None else SkipLog()
    for note in read_examples(root, filt, skips=skips):
        try:
            pcm = read_note_wav(note["path"])
        except ValueError as e:
            skips.skip(note["path"], str(e), kind=problem_kind(str(e)))
            continue
        yield pcm.astype(np.float32) / 32768.0, note


def problem_kind(problem: str) -> str:
    """Group problems for the summary: 'sample rate 44100 Hz, expected 16000' -> 'wrong sample rate'."""
    if problem.startswith("sample rate"):
        return "wrong sample rate"
    if "samples, expected" in problem or " Hz, expected " in problem:
        return "wrong length"
    if "channels" in problem:
        return "not mono"
    if problem.startswith("not a readable"):
        return "unreadable WAV"
    return problem
