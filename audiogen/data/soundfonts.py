"""SoundFonts and drum kits on this system, and notes rendered from a SoundFont with FluidSynth.

FluidSynth runs in-process through pyfluidsynth (libfluidsynth3 on Debian); the SoundFont is
loaded once per `NoteRenderer`.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import sys
import threading
import warnings
from pathlib import Path

import numpy as np

from audiogen.errors import AudiogenError, BadInputError

SOUNDFONT_DIRS = ("/usr/share/sounds/sf2", "/usr/share/sounds/sf3", "/usr/share/soundfonts",
                  "/usr/local/share/soundfonts", "/opt/homebrew/share/soundfonts")
HYDROGEN_KIT_DIRS = ("/usr/share/hydrogen/data/drumkits", "~/.hydrogen/data/drumkits",
                     "~/.local/share/hydrogen/data/drumkits")
SONIC_PI_SAMPLE_DIRS = ("/usr/share/sonic-pi/samples", "/usr/lib/sonic-pi/etc/samples")
PREFERRED_SOUNDFONTS = ("FluidR3_GM.sf2", "FluidR3_GM.sf3", "MuseScore_General.sf2",
                        "MuseScore_General.sf3", "TimGM6mb.sf2")


def small_soundfont() -> Path | None:
    """The 6 MB GM SoundFont (TimGM6mb) that the pretty_midi wheel carries."""
    spec = importlib.util.find_spec("pretty_midi")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "TimGM6mb.sf2"
        if path.is_file():
            return path
    return None


def soundfont_banks(path: str | os.PathLike) -> set[int] | None:
    """The preset banks a SoundFont (.sf2/.sf3) holds, read from its preset headers (`pdta/phdr`,
    38 bytes each: name, preset, bank, ...) without loading samples; None when it is not one."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
                return None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"LIST" and f.read(4) == b"pdta":
                    end = f.tell() + size - 4
                    while f.tell() < end:
                        sub = f.read(8)
                        if len(sub) < 8:
                            return None
                        sub_name, sub_size = sub[:4], struct.unpack("<I", sub[4:])[0]
                        if sub_name == b"phdr":
                            data = f.read(sub_size)
                            # the last record is the terminal "EOP" entry
                            return {struct.unpack_from("<H", data, i + 22)[0] for i in range(0, len(data) - 38, 38)}
                        f.seek(sub_size + (sub_size & 1), os.SEEK_CUR)
                    return None
                f.seek(size + (size & 1) - (4 if name == b"LIST" else 0), os.SEEK_CUR)
    except OSError:
        return None


GM_DRUM_BANK = 128


def has_drum_kit(path: str | os.PathLike) -> bool:
    """Whether a SoundFont has a GM drum kit (a preset in bank 128)."""
    return GM_DRUM_BANK in (soundfont_banks(path) or set())


def find_soundfonts() -> list[Path]:
    """SoundFont files found on this system: $AUDIOGEN_SOUNDFONT, system folders, pretty_midi's."""
    found: list[Path] = []
    env = os.environ.get("AUDIOGEN_SOUNDFONT")
    if env and Path(env).is_file():
        found.append(Path(env))
    for folder in SOUNDFONT_DIRS:
        for pattern in ("*.sf2", "*.sf3"):
            found.extend(Path(p) for p in sorted(glob.glob(os.path.join(folder, pattern))))
    small = small_soundfont()
    if small:
        found.append(small)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


# SoundFonts the README names -> the Debian/Ubuntu package that installs them
SOUNDFONT_PACKAGES = {"FluidR3_GM.sf2": "fluid-soundfont-gm", "FluidR3_GS.sf2": "fluid-soundfont-gs",
                      "TimGM6mb.sf2": "timgm6mb-soundfont", "sf_GMbank.sf2": "csound-soundfont",
                      "MuseScore_General.sf3": "musescore-general-soundfont"}


def missing_soundfont(path: str | os.PathLike, what: str = "no such SoundFont file") -> BadInputError:
    """The one-line error for a SoundFont that is not there, naming the package that installs it."""
    package = SOUNDFONT_PACKAGES.get(Path(path).name)
    hint = f" (Debian/Ubuntu: sudo apt-get install {package})" if package else ""
    return BadInputError(path, what + hint)


def default_soundfont() -> Path:
    """$AUDIOGEN_SOUNDFONT, else FluidR3_GM when installed, else another GM font, else TimGM6mb.

    BadInputError when $AUDIOGEN_SOUNDFONT is set to a path that is not a file."""
    env = os.environ.get("AUDIOGEN_SOUNDFONT")
    if env and not Path(env).is_file():
        raise missing_soundfont(env, "$AUDIOGEN_SOUNDFONT names no SoundFont file")
    fonts = find_soundfonts()
    if env and fonts and fonts[0] == Path(env):
        return fonts[0]
    for name in PREFERRED_SOUNDFONTS:
        for path in fonts:
            if path.resolve().name == name:
                return path
    if fonts:
        return fonts[0]
    raise AudiogenError("no SoundFont found: install fluid-soundfont-gm or pass --soundfont FILE.sf2")


def find_drum_kits() -> list[dict]:
    """Drum sample collections on this system: Hydrogen kits (drumkit.xml) and sonic-pi samples."""
    kits = []
    for folder in HYDROGEN_KIT_DIRS:
        for xml in sorted(glob.glob(os.path.join(os.path.expanduser(folder), "*", "drumkit.xml"))):
            kit = Path(xml).parent
            kits.append({"source": "hydrogen", "name": kit.name, "path": str(kit),
                         "files": sum(1 for p in kit.iterdir() if p.suffix.lower() in (".wav", ".flac"))})
    for folder in SONIC_PI_SAMPLE_DIRS:
        if os.path.isdir(folder):
            files = glob.glob(os.path.join(folder, "*.flac")) + glob.glob(os.path.join(folder, "*.wav"))
            kits.append({"source": "sonic-pi", "name": "sonic-pi", "path": folder, "files": len(files)})
    return kits


_QUIET_IMPORT = threading.Lock()  # redirect_stdout swaps sys.stdout for the whole process


def _import_fluidsynth():
    """pyfluidsynth, imported with stdout kept clean (thread-safe).

    pyfluidsynth >= 1.4 prints "'fluidsynth' was found at ..." on import when the
    environment variable CI is set, which would corrupt `--json` output and piped audio.
    """
    import contextlib
    import io

    with _QUIET_IMPORT:
        if "fluidsynth" in sys.modules:
            return sys.modules["fluidsynth"]
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth
        return fluidsynth


def import_pretty_midi():
    """pretty_midi, imported with stdout kept clean (it imports pyfluidsynth when it can).

    Import pretty_midi through this everywhere in audiogen; safe to call from several threads.
    """
    try:
        _import_fluidsynth()
    except (ImportError, OSError):
        pass  # pretty_midi works without it (only its own synthesis needs it)
    import pretty_midi

    return pretty_midi


def fluidsynth_available() -> tuple[bool, str]:
    """(True, library version) when pyfluidsynth finds libfluidsynth, else (False, why not)."""
    try:
        fluidsynth = _import_fluidsynth()  # loads the shared library
    except ImportError as e:
        return False, str(e)
    except OSError as e:
        return False, f"libfluidsynth failed to load: {e}"
    try:
        import ctypes

        major, minor, micro = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        fluidsynth._fl.fluid_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(micro))
        return True, f"{major.value}.{minor.value}.{micro.value}"
    except Exception:  # the version is informative only
        return True, "unknown version"


@contextlib.contextmanager
def _fd2_captured():
    """Send what C code writes to file descriptor 2 to a temporary file for the block; yields a
    function giving its lines afterwards."""
    import tempfile

    lines: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (an embedding host): nothing to capture
        yield lambda: lines
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lambda: lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


class NoteRenderer:
    """Renders single notes of General MIDI programs from one SoundFont, loaded once.

    Reverb and chorus are off, so a note is the instrument alone.
    """

    def __init__(self, soundfont: str | os.PathLike | None = None, sample_rate: int = 16000, gain: float = 0.5):
        ok, why = fluidsynth_available()
        if not ok:
            raise AudiogenError(f"FluidSynth is not available ({why}); install libfluidsynth3 "
                                "(Debian/Ubuntu: sudo apt-get install libfluidsynth3)")
        fluidsynth = _import_fluidsynth()

        self.soundfont = Path(soundfont) if soundfont else default_soundfont()
        if not self.soundfont.is_file():
            raise missing_soundfont(self.soundfont)
        self.sample_rate = sample_rate
        with _fd2_captured() as said:  # FluidSynth writes its own complaints to stderr: fold them into ours
            self._synth = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate),
                                           **{"synth.reverb.active": 0, "synth.chorus.active": 0})
            self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            self._synth.delete()
            reason = next((line.split("error:", 1)[-1].strip() for line in said() if "error:" in line), "")
            raise BadInputError(self.soundfont, "FluidSynth could not load this SoundFont"
                                + (f" ({reason})" if reason else ""))

    def render(self, program: int, pitch: int, velocity: int = 100, *, hold: float = 3.0,
               release: float = 1.0, drum: bool = False) -> np.ndarray:
        """One note: `hold` seconds on, `release` seconds after note-off -> (samples,) float32 mono."""
        channel = 9 if drum else 0
        self._synth.program_select(channel, self._sfid, 128 if drum else 0, 0 if drum else program)
        self._synth.noteon(channel, pitch, velocity)
        on = self._synth.get_samples(round(hold * self.sample_rate))
        self._synth.noteoff(channel, pitch)
        off = self._synth.get_samples(round(release * self.sample_rate))
        self._synth.all_sounds_off(channel)
        self._synth.get_samples(64)  # flush the voice so the next note starts from silence
        stereo = np.concatenate([on, off]).astype(np.float32).reshape(-1, 2) / 32768.0
        return stereo.mean(axis=1)

    def close(self) -> None:
        if self._synth is not None:
            self._synth.delete()
            self._synth = None

    def __enter__(self) -> "NoteRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


MIDI_PEAK = 0.9  # rendered MIDI files are normalised to this peak


class MidiRenderer(NoteRenderer):
    """Whole MIDI files -> audio, with the SoundFont loaded once (FluidR3_GM takes seconds to load,
    which pretty_midi's own `fluidsynth()` would repeat for every instrument of every file)."""

    def render_midi(self, midi_path: str | os.PathLike, *, program: int | None = None) -> np.ndarray:
        """(samples,) float32 at `sample_rate`, peak MIDI_PEAK, 1 s of tail after each part's last note.
        With `program` every pitched part plays that program of bank 0 (an exported instrument
        is program 0) instead of its own."""
        pretty_midi = import_pretty_midi()
        with warnings.catch_warnings():  # abc2midi puts its tempo on track 1; pretty_midi warns per file
            warnings.filterwarnings("ignore", message="Tempo, Key or Time signature change events",
                                    category=RuntimeWarning)
            midi = pretty_midi.PrettyMIDI(os.fspath(midi_path))
        if program is not None:
            for part in midi.instruments:
                part.program = program if not part.is_drum else part.program
        wave = midi.fluidsynth(fs=self.sample_rate, synthesizer=self._synth, sfid=self._sfid)
        for channel in range(16):  # no sound of this tune may ring into the next
            self._synth.all_sounds_off(channel)
        self._synth.get_samples(self.sample_rate // 10)
        if wave.size == 0 or not np.isfinite(wave).all():
            raise ValueError("FluidSynth rendered no audio")
        return (MIDI_PEAK * wave).astype(np.float32)
