"""Folders of audio files: recursive listing and class labels from subfolders.

Load a file as mono at a rate and a fixed duration with `audiogen.dsp.load_audio(path, sr,
duration=...)`.
"""

from __future__ import annotations

import os
from pathlib import Path

from audiogen.data.files import has_extension, list_files

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def is_audio_file(path: str | os.PathLike) -> bool:
    return has_extension(path, AUDIO_EXTENSIONS)


def list_audio_files(root: str | os.PathLike, *, recursive: bool = True) -> list[Path]:
    """Audio files under `root` (or `root` itself when it is a file), sorted, hidden entries left out."""
    return list_files(root, AUDIO_EXTENSIONS, recursive=recursive)


def labelled_audio_files(root: str | os.PathLike) -> list[tuple[Path, str | None]]:
    """(file, class) for every audio file under `root`; class = the file's immediate subfolder name.

    Files directly in `root` have class None (a flat folder: no classes).
    """
    root = Path(root)
    return [(path, None if path.parent == root else path.parent.name) for path in list_audio_files(root)]
