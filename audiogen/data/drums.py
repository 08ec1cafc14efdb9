"""A labelled library of drum one-shots from the kits on this system (`audiogen data drums`).

Sources:
- hydrogen: Hydrogen kits (`<kit>/drumkit.xml`): every layer file of every instrument, named by the
  instrument's `<name>`. Velocity layers stay separate one-shots (`__l1`, `__l2`, ... in document
  order). Hydrogen's `emptySample` placeholder and files listed twice are not copied (counted).
- sonic-pi: the one-shot drums among sonic-pi's samples (`drum_names.is_sonic_pi_one_shot`);
  its pads, loops, basses and effects are left out (counted as not_one_shot).
- soundfont: the GM drum kit (bank 128, preset 0) of each SoundFont, one render per note and
  velocity, classed by note number (`drum_names.gm_drum_class`).

Audio: WAV, each file at its own sample rate and channel count unless `sample_rate` / `mono` ask
otherwise; renders are mono at `sample_rate` (default 44.1 kHz). Every one-shot loses its
trailing silence (`trim_tail`), and one whose peak is below -80 dBFS is dropped as silent.

Layout: `DIR/<class>/<kit>__<instrument>__<layer>.wav` for the classes in `drum_names.CLASSES`
(all seven folders are made, empty or not) and `DIR/manifest.csv` (MANIFEST_COLUMNS; file paths
relative to DIR). The library is built in a hidden staging folder inside DIR and moved into place
at the end, manifest last, so an interrupted run leaves the previous library (or nothing) rather
than a half-written one. A DIR that is not empty is refused unless `force`, which replaces the
class folders and manifest.csv and leaves any other file in DIR alone.

Licences: a Hydrogen kit's `<license>` element, else its stanza in the Debian copyright file of the
package that installed it, else "unknown"; sonic-pi samples from the Debian copyright file;
SoundFonts from SOUNDFONT_LICENCES.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import os
import re
import secrets
import shutil
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiogen.data.drum_names import (CLASSES, classify_drum_name, classify_sonic_pi_name, gm_drum_class,
                                      gm_drum_name, is_sonic_pi_one_shot)
from audiogen.data.skips import SkipLog
from audiogen.errors import AudiogenError, BadInputError, require_file

SOURCES = ("hydrogen", "sonic-pi", "soundfont")
MANIFEST_COLUMNS = ("file", "class", "kit", "instrument", "layer", "source", "source_file", "licence",
                    "velocity", "sample_rate", "channels", "seconds")
DEBIAN_COPYRIGHT_FILES = {
    "hydrogen": ("/usr/share/doc/hydrogen-drumkits/copyright", "/usr/share/doc/hydrogen-data/copyright"),
    "sonic-pi": ("/usr/share/doc/sonic-pi-samples/copyright",),
}
# From the Debian packages' copyright files (fluid-soundfont-gm, timgm6mb-soundfont).
SOUNDFONT_LICENCES = {"FluidR3_GM": "MIT", "TimGM6mb": "GPL-2"}
DEFAULT_VELOCITIES = (40, 80, 120)
DEFAULT_NOTES = tuple(range(35, 82))  # the General MIDI 1 drum key map
RENDER_SAMPLE_RATE = 44100
RENDER_HOLD_S, RENDER_RELEASE_S = 3.5, 0.5  # long enough for crashes to decay; the tail is trimmed
DROPPED = ("silent", "duplicate", "placeholder", "not_one_shot")  # left out on purpose, not errors
SILENT_PEAK = 1e-4  # -80 dBFS
TAIL_THRESHOLD_DB = -60.0
NOISE_FLOOR_BELOW_PEAK_DB = -30.0  # a floor this far under the peak is noise, not the sound
ABOVE_NOISE_FLOOR_DB = 6.0
FADE_S = 0.01
STAGING_PREFIX = ".drums-staging-"
_NO_LICENCE = {"", "undefined license", "unknown"}


@dataclass
class OneShot:
    """One planned output: where its audio comes from and how it is labelled."""

    label: str  # one of CLASSES
    kit: str
    instrument: str
    layer: str  # "l1", "l2", ... (sample layers) or "v080" (rendered velocity)
    source: str  # one of SOURCES
    source_file: Path  # the sample file, or the SoundFont for renders
    licence: str
    note: int | None = None  # GM drum note, renders only
    velocity: int | None = None  # MIDI velocity, renders only


@dataclass
class Kit:
    """A kit as the summary reports it."""

    name: str
    source: str
    path: Path
    licence: str


# ---------------------------------------------------------------------------------------------
# Licences


def read_debian_copyright(path: str | os.PathLike) -> list[tuple[tuple[str, ...], str]]:
    """(file patterns, licence short name) for each `Files:` stanza of a machine-readable Debian
    copyright file, in file order; [] when the file is missing or unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    stanzas = []
    for block in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t"):
                if current:
                    fields[current] += "\n" + line.strip()
            elif ":" in line:
                current, _, value = line.partition(":")
                current = current.strip().lower()
                fields[current] = value.strip()
        if "files" in fields and "license" in fields:
            licence = fields["license"].split("\n")[0].strip()
            if licence:
                stanzas.append((tuple(fields["files"].split()), licence))
    return stanzas


def debian_licence(stanzas: list[tuple[tuple[str, ...], str]], names: list[str]) -> str | None:
    """The licence of the last stanza (Debian's rule) whose file pattern names one of `names`.

    Patterns are compared by their last path part, with ".h2drumkit" dropped, so the pattern
    "drumkits/Gimme?A?Hand?1.0.h2drumkit" names the kit folder "Gimme A Hand 1.0". A bare "*"
    (the package's own code) names nothing here.
    """
    found = None
    for patterns, licence in stanzas:
        for pattern in patterns:
            base = pattern.rsplit("/", 1)[-1]
            if base in ("", "*"):
                continue
            stem = base.removesuffix(".h2drumkit")
            if any(fnmatch.fnmatchcase(name, stem) for name in names):
                found = licence
    return found


def _copyright_stanzas(paths: tuple[str, ...]) -> list:
    return [stanza for path in paths for stanza in read_debian_copyright(path)]


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# ---------------------------------------------------------------------------------------------
# Hydrogen kits


def find_hydrogen_kits(roots) -> list[Path]:
    """Kit folders (holding drumkit.xml) in `roots`; a root may itself be a kit folder. Sorted per root."""
    kits = []
    for root in roots:
        root = Path(os.path.expanduser(str(root)))
        if (root / "drumkit.xml").is_file():
            kits.append(root)
        elif root.is_dir():
            kits.extend(sorted(p.parent for p in root.glob("*/drumkit.xml")))
    return kits


def _local(tag) -> str:
    """An element's tag without its namespace ("{http://...drumkit}name" -> "name")."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text
    return None


def read_drumkit_xml(xml_path: str | os.PathLike) -> dict:
    """A Hydrogen drumkit.xml -> {"name", "licence", "instruments": [(name, [filename, ...])]}.

    Namespace-agnostic; layer files are every `<filename>` inside the instrument (0.9+ kits:
    `<layer>` in `<instrument>` or `<instrumentComponent>`; older kits: a plain `<filename>`).
    Filenames are as written (relative to the kit folder); instruments without any are kept with
    []. Raises BadInputError when the XML cannot be parsed or is not a drumkit.
    """
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as e:
        raise BadInputError(xml_path, f"unparsable drumkit.xml ({e})") from None
    except OSError as e:
        raise BadInputError(xml_path, f"cannot read ({e.strerror or e})") from None
    if _local(root.tag) != "drumkit_info":
        raise BadInputError(xml_path, f"not a Hydrogen drumkit.xml (root element <{_local(root.tag)}>)")
    instruments = []
    for element in root.iter():
        if _local(element.tag) != "instrument":
            continue
        files = [_clean(e.text) for e in element.iter() if _local(e.tag) == "filename"]
        instruments.append((_clean(_child_text(element, "name")), [f for f in files if f]))
    return {"name": _clean(_child_text(root, "name")), "licence": _clean(_child_text(root, "license")),
            "instruments": instruments}


def hydrogen_one_shots(kit_dir: Path, kit_name: str, skips: SkipLog, seen: set[str], dropped: Counter,
                       stanzas: list) -> tuple[list[OneShot], Kit | None]:
    """The one-shots of one Hydrogen kit and the kit itself (None when its drumkit.xml is unusable).

    Missing sample files are skipped (`skips`); placeholders and files already in `seen` (real
    paths) are counted in `dropped`.
    """
    xml_path = kit_dir / "drumkit.xml"
    try:
        info = read_drumkit_xml(xml_path)
    except BadInputError as e:
        skips.skip(xml_path, e.problem, kind="unparsable drumkit.xml")
        return [], None
    licence = info["licence"]
    if licence.lower() in _NO_LICENCE:
        licence = debian_licence(stanzas, [kit_dir.name, info["name"]]) or "unknown"
    kit = Kit(kit_name, "hydrogen", kit_dir, licence)
    shots = []
    for position, (instrument, files) in enumerate(info["instruments"], start=1):
        instrument = instrument or f"instrument {position}"
        label = classify_drum_name(instrument)
        for index, filename in enumerate(files, start=1):
            path = kit_dir / filename
            if Path(filename).stem.lower() == "emptysample":  # Hydrogen's stand-in for "no sample"
                dropped["placeholder"] += 1
                continue
            if not path.is_file():
                skips.skip(path, f"listed in {xml_path} but missing", kind="missing sample file")
                continue
            real = os.path.realpath(path)
            if real in seen:
                dropped["duplicate"] += 1
                continue
            seen.add(real)
            shots.append(OneShot(label, kit_name, instrument, f"l{index}", "hydrogen", path, licence))
    return shots, kit


# ---------------------------------------------------------------------------------------------
# sonic-pi samples and SoundFonts


def sonic_pi_one_shots(folder: Path, dropped: Counter, stanzas: list) -> tuple[list[OneShot], Kit]:
    """The one-shot drum samples in a sonic-pi samples folder (others counted as not_one_shot)."""
    shots = []
    licences = Counter()
    folder_licence = _readme_licence(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".flac", ".wav") and p.is_file())
    for path in files:
        if not is_sonic_pi_one_shot(path.stem):
            dropped["not_one_shot"] += 1
            continue
        licence = debian_licence(stanzas, [path.name]) or folder_licence
        licences[licence] += 1
        shots.append(OneShot(classify_sonic_pi_name(path.stem), "sonic-pi", path.stem, "l1", "sonic-pi",
                             path, licence))
    kit_licence = ", ".join(sorted(licences)) or "unknown"
    return shots, Kit("sonic-pi", "sonic-pi", folder, kit_licence)


def _readme_licence(folder: Path) -> str:
    """"CC0" when the folder's README says its samples are under Creative Commons 0, else "unknown".

    sonic-pi's samples/README.md says so for the whole folder; Debian's copyright file lists only
    some of the samples one by one.
    """
    for name in ("README.md", "README"):
        try:
            text = (folder / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if re.search(r"Creative Commons 0|\bCC0\b", text):
            return "CC0"
    return "unknown"


def soundfont_one_shots(soundfont: Path, kit_name: str, notes, velocities) -> tuple[list[OneShot], Kit]:
    """One planned render per (GM drum note, velocity) of a SoundFont's standard drum kit."""
    licence = SOUNDFONT_LICENCES.get(soundfont.stem, "unknown")
    shots = [OneShot(gm_drum_class(note), kit_name, f"{note} {gm_drum_name(note)}", f"v{velocity:03d}",
                     "soundfont", soundfont, licence, note=note, velocity=velocity)
             for note in notes for velocity in velocities]
    return shots, Kit(kit_name, "soundfont", soundfont, licence)


def distinct_soundfonts(paths) -> list[Path]:
    """`paths` with one SoundFont per file name (after links): the first of each is kept.

    A system often holds the same font twice (Debian's TimGM6mb.sf2 and pretty_midi's copy, a
    default-GM.sf2 link to FluidR3_GM.sf2); rendering both would only duplicate the library.
    """
    unique: dict[str, Path] = {}
    for path in paths:
        unique.setdefault(Path(path).resolve().name.lower(), Path(path))
    return list(unique.values())


# ---------------------------------------------------------------------------------------------
# Audio


def trim_tail(wave: np.ndarray, sample_rate: int, *, threshold_db: float = TAIL_THRESHOLD_DB,
              fade_s: float = FADE_S) -> np.ndarray:
    """(channels, T) -> (channels, T'): cut after the last sample within `threshold_db` of the peak
    and above the clip's noise floor.

    The noise floor (dither, hiss) is the 10th percentile of the clip's 10-ms peak levels; when it
    lies more than 30 dB under the peak, what stays within 6 dB of it counts as silence too, so a
    quiet layer (a velocity-40 hit peaking at -34 dBFS over 16-bit dither) is trimmed like a loud
    one. A fade of `fade_s` follows the last sample kept (or ends the clip, when it still rings at
    the end) so the cut never clicks. An all-zero clip comes back empty.
    """
    level = np.abs(wave).max(axis=0)
    peak = float(level.max()) if level.size else 0.0
    if peak == 0.0:
        return wave[:, :0]
    fade = max(1, round(fade_s * sample_rate))
    cutoff = peak * 10 ** (threshold_db / 20)
    frame = max(1, sample_rate // 100)
    frames = level[: level.size // frame * frame].reshape(-1, frame).max(axis=1)
    if frames.size >= 10:
        floor = float(np.percentile(frames, 10))
        if floor < peak * 10 ** (NOISE_FLOOR_BELOW_PEAK_DB / 20):
            cutoff = max(cutoff, floor * 10 ** (ABOVE_NOISE_FLOOR_DB / 20))
    last = int(np.flatnonzero(level >= cutoff)[-1])
    end = min(wave.shape[1], last + 1 + fade)
    out = np.array(wave[:, :end], dtype=np.float32)
    n = min(fade, end)
    out[:, end - n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return out


def read_sample(path: Path, sample_rate: int | None, mono: bool) -> tuple[np.ndarray, int]:
    """A sample file -> ((channels, T) float32, rate): its own rate unless `sample_rate`; BadInputError if unusable."""
    import soundfile as sf

    from audiogen.dsp.audio_io import load_audio, resample

    wave = load_audio(path, sr=None, mono=False)  # validates: unreadable, truncated, empty, NaN
    rate = sf.info(str(path)).samplerate
    if mono:
        wave = wave.mean(dim=0, keepdim=True)
    if sample_rate and sample_rate != rate:
        wave, rate = resample(wave, rate, sample_rate), sample_rate
    return wave.numpy(), rate


class _Renderers:
    """One open NoteRenderer at a time (renders come grouped by SoundFont); failures remembered."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self.path: Path | None = None
        self.renderer = None
        self.failed: set[Path] = set()

    def get(self, soundfont: Path):
        from audiogen.data.soundfonts import NoteRenderer

        if soundfont != self.path:
            self.close()
            self.renderer, self.path = NoteRenderer(soundfont, sample_rate=self.sample_rate), soundfont
        return self.renderer

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
        self.renderer, self.path = None, None


# ---------------------------------------------------------------------------------------------
# Output


def safe_name(text: str, fallback: str = "x", limit: int = 60) -> str:
    """A file-name-safe piece: letters, digits, '.', '-'; other runs become '_' ("Kick (22\")" -> "Kick_22")."""
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("._-")[:limit].strip("._-")
    return name or fallback


def one_shot_filename(shot: OneShot) -> str:
    """`<kit>__<instrument>__<layer>.wav`, sanitised (uniqueness is the writer's job)."""
    return f"{safe_name(shot.kit, 'kit')}__{safe_name(shot.instrument, 'instrument')}__{shot.layer}.wav"


def _check_out_dir(out: Path, force: bool) -> None:
    """Refuse a file, or a folder holding anything (but stale staging) unless `force`."""
    if out.exists() and not out.is_dir():
        raise BadInputError(out, "is a file; expected a folder for the drum library")
    if out.is_dir():
        entries = [p for p in out.iterdir() if not p.name.startswith(STAGING_PREFIX)]
        if entries and not force:
            raise BadInputError(out, "folder is not empty; pass --force to replace the drum library in it "
                                     "(its class folders and manifest.csv)")


def _make_staging(out: Path) -> Path:
    staging = out / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
    try:
        for label in CLASSES:
            (staging / label).mkdir(parents=True)
    except OSError as e:
        raise BadInputError(out, f"cannot create the library here ({e.strerror or e})") from None
    return staging


def _publish(staging: Path, out: Path) -> None:
    """Move the staged class folders into `out`, replacing old ones, then the manifest last."""
    old_manifest = out / "manifest.csv"
    if old_manifest.exists():
        old_manifest.unlink()  # first, so no manifest ever lists files of a half-replaced library
    for label in CLASSES:
        target = out / label
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(staging / label, target)
    os.replace(staging / "manifest.csv", old_manifest)
    staging.rmdir()


def _manifest_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _unique(name: str, used: set[str]) -> str:
    """`name`, or name-2, name-3, ... when taken (compared case-blind for case-insensitive disks)."""
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}-{n}.{suffix}"
    used.add(candidate.lower())
    return candidate


# ---------------------------------------------------------------------------------------------
# The builder


def plan_one_shots(sources, *, hydrogen_dirs=None, sonic_pi_dirs=None, soundfonts=None,
                   notes=DEFAULT_NOTES, velocities=DEFAULT_VELOCITIES, skips: SkipLog,
                   copyright_files=DEBIAN_COPYRIGHT_FILES) -> tuple[list[OneShot], list[Kit], Counter, list[str]]:
    """Everything the sources offer, before any audio is read: (one-shots, kits, dropped counts, notes).

    `sources` None means all three, and a source with nothing installed is only noted; a source
    asked for by name that finds nothing raises AudiogenError. Explicit `hydrogen_dirs` /
    `sonic_pi_dirs` / `soundfonts` replace the system's default places.
    """
    from audiogen.data.soundfonts import (HYDROGEN_KIT_DIRS, SONIC_PI_SAMPLE_DIRS, find_soundfonts,
                                          fluidsynth_available, has_drum_kit)

    explicit = sources is not None
    sources = list(dict.fromkeys(sources or SOURCES))
    for folder in [*(hydrogen_dirs or []), *(sonic_pi_dirs or [])]:
        if not Path(folder).is_dir():
            raise BadInputError(folder, "not a folder" if Path(folder).exists() else "no such folder")
    for soundfont in soundfonts or []:
        require_file(soundfont, "a SoundFont file (.sf2)")
    shots: list[OneShot] = []
    kits: list[Kit] = []
    dropped: Counter = Counter()
    messages: list[str] = []
    used_kit_names: set[str] = set()

    def kit_name(name: str) -> str:
        candidate, n = name, 1
        while candidate in used_kit_names:
            n += 1
            candidate = f"{name}-{n}"
        used_kit_names.add(candidate)
        return candidate

    def nothing(source: str, reason: str) -> None:
        if explicit:
            raise AudiogenError(f"--source {source}: {reason}")
        messages.append(f"left out {source}: {reason}")

    if "hydrogen" in sources:
        roots = hydrogen_dirs or HYDROGEN_KIT_DIRS
        stanzas = _copyright_stanzas(copyright_files.get("hydrogen", ()))
        seen: set[str] = set()
        kit_dirs = find_hydrogen_kits(roots)
        for kit_dir in kit_dirs:
            kit_shots, kit = hydrogen_one_shots(kit_dir, kit_name(kit_dir.name), skips, seen, dropped, stanzas)
            shots.extend(kit_shots)
            kits.extend([kit] if kit else [])
        if not kit_dirs:
            nothing("hydrogen", f"no Hydrogen kits (drumkit.xml) in {', '.join(map(str, roots))}; "
                                "install hydrogen-drumkits or pass --hydrogen-dir")
    if "sonic-pi" in sources:
        folders = [Path(f) for f in (sonic_pi_dirs or SONIC_PI_SAMPLE_DIRS) if Path(f).is_dir()]
        stanzas = _copyright_stanzas(copyright_files.get("sonic-pi", ()))
        for folder in folders:
            kit_shots, kit = sonic_pi_one_shots(folder, dropped, stanzas)
            kit.name = kit_name(kit.name)
            for shot in kit_shots:
                shot.kit = kit.name
            shots.extend(kit_shots)
            kits.append(kit)
        if not folders:
            nothing("sonic-pi", f"no sonic-pi samples in {', '.join(SONIC_PI_SAMPLE_DIRS)}; "
                                "install sonic-pi-samples or pass --sonic-pi-dir")
    if "soundfont" in sources:
        ok, why = fluidsynth_available()
        fonts = distinct_soundfonts(soundfonts or find_soundfonts()) if ok else []
        without = [f for f in fonts if not has_drum_kit(f)]
        if without:  # probed once here: rendering them would print a FluidSynth error per note
            messages.append(f"skipped {len(without)} SoundFont(s) without a GM drum kit (bank 128): "
                            + ", ".join(str(f) for f in without))
            fonts = [f for f in fonts if f not in without]
        for soundfont in fonts:
            kit_shots, kit = soundfont_one_shots(soundfont, kit_name(soundfont.stem), notes, velocities)
            shots.extend(kit_shots)
            kits.append(kit)
        if not ok:
            nothing("soundfont", f"FluidSynth cannot render ({why}); install libfluidsynth3")
        elif not fonts:
            nothing("soundfont", "no SoundFont with a GM drum kit found; install fluid-soundfont-gm or pass "
                                 "--soundfont")
    return shots, kits, dropped, messages


def build_drum_library(out: str | os.PathLike, *, sources=None, hydrogen_dirs=None, sonic_pi_dirs=None,
                       soundfonts=None, notes=DEFAULT_NOTES, velocities=DEFAULT_VELOCITIES,
                       sample_rate: int | None = None, mono: bool = False, subtype: str = "PCM_16",
                       force: bool = False, strict: bool = False, quiet: bool = False,
                       copyright_files=DEBIAN_COPYRIGHT_FILES) -> dict:
    """Build the library in `out` (see the module docstring) and return its summary.

    Summary: {"out", "files", "classes": {class: n}, "kits": [{"kit", "source", "path", "licence",
    "files", "classes"}], "dropped": {"silent", "duplicate", "placeholder", "not_one_shot"},
    "skipped": SkipLog.to_dict(), "notes": [...], "seconds"}. Bad files are skipped with a warning
    (fatal with `strict`); AudiogenError when nothing at all was collected.
    """
    from audiogen.runtime.atomic import atomic_write_text
    from audiogen.runtime.progress import make_progress

    start = time.perf_counter()
    out = Path(out)
    _check_out_dir(out, force)
    created = not out.exists()
    skips = SkipLog(strict=strict)
    shots, kits, dropped, messages = plan_one_shots(
        sources, hydrogen_dirs=hydrogen_dirs, sonic_pi_dirs=sonic_pi_dirs, soundfonts=soundfonts, notes=notes,
        velocities=velocities, skips=skips, copyright_files=copyright_files)

    from audiogen.dsp.audio_io import save_audio  # torch: only once there is work to do

    staging = _make_staging(out)
    renderers = _Renderers(sample_rate or RENDER_SAMPLE_RATE)
    rows: list[dict] = []
    used: dict[str, set[str]] = {label: set() for label in CLASSES}
    published = False
    try:
        with make_progress(quiet=quiet, unit="file") as progress:
            task = progress.add_task("drum one-shots", total=len(shots))
            for shot in shots:
                progress.advance(task)
                if shot.source == "soundfont":
                    if shot.source_file in renderers.failed:
                        continue
                    try:
                        renderer = renderers.get(shot.source_file)
                    except BadInputError as e:
                        renderers.failed.add(shot.source_file)
                        skips.skip(shot.source_file, e.problem, kind="unusable SoundFont")
                        continue
                    wave = renderer.render(0, shot.note, shot.velocity, hold=RENDER_HOLD_S,
                                           release=RENDER_RELEASE_S, drum=True)[None, :]
                    rate = renderers.sample_rate
                else:
                    try:
                        wave, rate = read_sample(shot.source_file, sample_rate, mono)
                    except BadInputError as e:
                        skips.skip(shot.source_file, e.problem, kind="unreadable sample file")
                        continue
                if np.abs(wave).max() < SILENT_PEAK:
                    dropped["silent"] += 1
                    continue
                wave = trim_tail(wave, rate)
                name = _unique(one_shot_filename(shot), used[shot.label])
                save_audio(staging / shot.label / name, wave[0] if wave.shape[0] == 1 else wave, rate,
                           format="wav", subtype=subtype)
                rows.append({"file": f"{shot.label}/{name}", "class": shot.label, "kit": shot.kit,
                             "instrument": shot.instrument, "layer": shot.layer, "source": shot.source,
                             "source_file": str(shot.source_file), "licence": shot.licence,
                             "velocity": "" if shot.velocity is None else shot.velocity,
                             "sample_rate": rate, "channels": wave.shape[0],
                             "seconds": round(wave.shape[1] / rate, 4)})
        renderers.close()
        if not rows:
            raise AudiogenError("no drum one-shots collected" + (f" ({'; '.join(messages)})" if messages else ""))
        atomic_write_text(staging / "manifest.csv", _manifest_text(rows))
        _publish(staging, out)
        published = True
    finally:
        renderers.close()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if created and not published and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed first run leaves no empty folder behind
    return _summary(out, rows, kits, dropped, skips, messages, time.perf_counter() - start)


def _summary(out: Path, rows: list[dict], kits: list[Kit], dropped: Counter, skips: SkipLog,
             messages: list[str], seconds: float) -> dict:
    per_kit: dict[str, Counter] = {kit.name: Counter() for kit in kits}
    for row in rows:
        per_kit.setdefault(row["kit"], Counter())[row["class"]] += 1
    classes = Counter(row["class"] for row in rows)
    return {
        "out": str(out),
        "files": len(rows),
        "classes": {label: classes[label] for label in CLASSES},
        "kits": [{"kit": kit.name, "source": kit.source, "path": str(kit.path), "licence": kit.licence,
                  "files": sum(per_kit[kit.name].values()),
                  "classes": {label: per_kit[kit.name][label] for label in CLASSES}} for kit in kits],
        "dropped": {why: dropped[why] for why in DROPPED},
        "skipped": skips.to_dict(),
        "notes": messages,
        "seconds": round(seconds, 2),
    }


def read_manifest(out: str | os.PathLike) -> list[dict]:
    """The rows of DIR/manifest.csv as dicts (all values strings); BadInputError when missing."""
    path = Path(out) / "manifest.csv"
    if not path.is_file():
        raise BadInputError(path, "no such file (not a drum library built by `audiogen data drums`?)")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
