"""Shared fixtures: an isolated home for every test, and real notes rendered with FluidSynth.

Heavy or optional imports (soundfile, pyfluidsynth, pretty_midi) stay inside the fixtures, so this
file loads on machines without them (e.g. the GPU machine); fixtures that need them skip or fall
back instead.
"""

from __future__ import annotations

import wave as wave_module
from pathlib import Path

import numpy as np
import pytest

SAMPLE_RATE = 16000
NOTE_SAMPLES = 64000  # 4 s at 16 kHz: 3 s held + 1 s release (NoteRenderer's defaults)

# name -> (General MIDI program, MIDI pitch)
RENDERED_NOTES = {
    "piano": (0, 60),
    "flute": (73, 72),
    "bass": (33, 36),
    "violin": (40, 67),
    "organ": (19, 48),
}

_HOME_VARS = {
    "HOME": "home",
    "XDG_CACHE_HOME": "home/.cache",
    "XDG_DATA_HOME": "home/.local/share",
    "XDG_CONFIG_HOME": "home/.config",
}


@pytest.fixture(scope="session")
def _shared_tool_caches(tmp_path_factory) -> dict[str, str]:
    """Pure caches (matplotlib's font list, numba's compiled code) shared by the whole session.

    They hold nothing a test could observe, and sharing them saves rebuilding matplotlib's font
    cache (~1.5 s) in every test and in every subprocess a test starts.
    """
    root = tmp_path_factory.mktemp("tool-caches")
    caches = {"MPLCONFIGDIR": root / "matplotlib", "NUMBA_CACHE_DIR": root / "numba"}
    for path in caches.values():
        path.mkdir()
    return {name: str(path) for name, path in caches.items()}


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch, _shared_tool_caches):
    """Point HOME, XDG_* and tool caches at temp dirs: tests never write into the real home.

    The home is a fresh temp dir per test, beside (not inside) the test's `tmp_path`, so a
    test's own listing of `tmp_path` is not disturbed. Subprocesses a test starts inherit it.
    """
    root = tmp_path_factory.mktemp("isolated")
    for name, relative in _HOME_VARS.items():
        path = root / relative
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    for name, path in _shared_tool_caches.items():
        monkeypatch.setenv(name, path)


def _render(notes: dict[str, tuple[int, int]]) -> dict[str, np.ndarray] | str:
    """Render {name: (program, pitch)} with pretty_midi's small SoundFont; a reason string if impossible."""
    try:
        from audiogen.data.soundfonts import NoteRenderer, fluidsynth_available, small_soundfont
    except ImportError as e:  # pragma: no cover - only on stripped-down machines
        return f"audiogen.data.soundfonts unavailable: {e}"
    ok, why = fluidsynth_available()
    if not ok:
        return f"FluidSynth unavailable: {why}"
    soundfont = small_soundfont()
    if soundfont is None:
        return "pretty_midi's TimGM6mb.sf2 not found"
    out = {}
    with NoteRenderer(soundfont, sample_rate=SAMPLE_RATE) as renderer:
        for name, (program, pitch) in notes.items():
            note = np.ascontiguousarray(renderer.render(program, pitch, 100), dtype=np.float32)
            assert note.shape == (NOTE_SAMPLES,), (name, note.shape)
            assert np.isfinite(note).all() and np.abs(note).max() > 1e-3, f"{name} rendered silent"
            out[name] = note
    return out


def _synthetic_note(pitch: int = 60) -> np.ndarray:
    """A harmonic tone with an exponential decay: the stand-in when FluidSynth is missing."""
    t = np.arange(NOTE_SAMPLES) / SAMPLE_RATE
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    tone = sum(np.sin(2 * np.pi * k * f0 * t + 0.3 * k) / k for k in range(1, 9) if k * f0 < SAMPLE_RATE / 2)
    envelope = np.exp(-t / 0.8) * np.minimum(t / 0.01, 1.0)
    wave = tone * envelope
    return (0.5 * wave / np.abs(wave).max()).astype(np.float32)


def write_pcm16_wav(path: Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Mono float samples -> 16-bit PCM WAV with the standard library (no soundfile needed)."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave_module.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return path


@pytest.fixture(scope="session")
def rendered_notes() -> dict[str, np.ndarray]:
    """name -> float32 (64000,) note at 16 kHz: piano, flute, bass, violin, organ (FluidSynth, TimGM6mb).

    Rendered once per session; skips when FluidSynth or the SoundFont is unavailable.
    """
    notes = _render(RENDERED_NOTES)
    if isinstance(notes, str):
        pytest.skip(notes)
    return notes


@pytest.fixture(scope="session")
def note_wav(tmp_path_factory) -> Path:
    """A 16 kHz mono PCM_16 WAV of one real piano note (program 0, pitch 60), 64000 samples.

    Falls back to a synthesised decaying harmonic tone when FluidSynth is unavailable.
    """
    notes = _render({"piano": RENDERED_NOTES["piano"]})
    samples = notes["piano"] if isinstance(notes, dict) else _synthetic_note(60)
    return write_pcm16_wav(tmp_path_factory.mktemp("note") / "note.wav", samples)
