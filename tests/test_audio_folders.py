"""Audio folders: recursive listing, classes from subfolders, fixed-length mono loading."""

from __future__ import annotations

import numpy as np
import pytest

from audiogen.data.audio_folders import labelled_audio_files, list_audio_files
from audiogen.errors import BadInputError

sf = pytest.importorskip("soundfile")


def _tone(seconds: float, sr: int, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * 220 * t).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def test_listing_finds_every_audio_format_recursively_and_labels_by_subfolder(tmp_path):
    (tmp_path / "kick" / "deeper").mkdir(parents=True)
    (tmp_path / "snare").mkdir()
    (tmp_path / ".hidden").mkdir()
    sf.write(tmp_path / "kick" / "a.wav", _tone(0.1, 16000), 16000)
    sf.write(tmp_path / "kick" / "deeper" / "b.FLAC", _tone(0.1, 16000), 16000)
    sf.write(tmp_path / "snare" / "c.aiff", _tone(0.1, 16000), 16000, format="AIFF")
    sf.write(tmp_path / "loose.ogg", _tone(0.1, 16000), 16000, format="OGG")
    sf.write(tmp_path / ".hidden" / "d.wav", _tone(0.1, 16000), 16000)
    sf.write(tmp_path / "kick" / "._e.wav", _tone(0.1, 16000), 16000)  # macOS resource fork
    (tmp_path / "kick" / "notes.txt").write_text("not audio")
    files = list_audio_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "kick/a.wav", "kick/deeper/b.FLAC", "loose.ogg", "snare/c.aiff"]
    labels = {p.name: label for p, label in labelled_audio_files(tmp_path)}
    assert labels == {"a.wav": "kick", "b.FLAC": "deeper", "loose.ogg": None, "c.aiff": "snare"}
    assert [p.name for p in list_audio_files(tmp_path, recursive=False)] == ["loose.ogg"]
    assert list_audio_files(tmp_path / "kick" / "a.wav") == [tmp_path / "kick" / "a.wav"]
    with pytest.raises(BadInputError, match="no such file or directory"):
        list_audio_files(tmp_path / "missing")


def test_loading_gives_mono_at_the_rate_cut_or_padded_to_the_duration(tmp_path):
    from audiogen.dsp import load_audio

    sf.write(tmp_path / "long.wav", _tone(1.5, 44100, channels=2), 44100)
    sf.write(tmp_path / "short.flac", _tone(0.25, 22050), 22050)
    long = load_audio(tmp_path / "long.wav", 16000, duration=1.0)
    short = load_audio(tmp_path / "short.flac", 16000, duration=1.0)
    assert long.shape == short.shape == (16000,)
    assert float(long.abs().max()) > 0.2
    assert float(short[4100:].abs().max()) == 0.0 and float(short[:3900].abs().max()) > 0.2
