"""Finding input files: one recursive listing for every reader (audio, ABC, MIDI)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from audiogen.errors import BadInputError


def has_extension(path: str | os.PathLike, extensions: Iterable[str]) -> bool:
    """True when the file name ends in one of `extensions` (".wav", ...), case-insensitively."""
    return Path(path).suffix.lower() in tuple(extensions)


def list_files(root: str | os.PathLike, extensions: Iterable[str], *, recursive: bool = True) -> list[Path]:
    """Files under `root` whose extension is in `extensions`, sorted; `root` itself when it is a file.

    Hidden files and folders (names starting with ".", e.g. macOS `._x.wav`) are left out.
    A file given directly is returned whatever its extension (the reader then judges it).
    Raises BadInputError when `root` does not exist.
    """
    root = Path(root)
    extensions = tuple(e.lower() for e in extensions)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise BadInputError(root, "no such file or directory")
    found = []
    walker = os.walk(root, followlinks=True) if recursive else [(str(root), [], os.listdir(root))]
    for folder, dirs, names in walker:
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, n) for n in names
                  if not n.startswith(".") and has_extension(n, extensions) and os.path.isfile(os.path.join(folder, n))]
    return sorted(found)
