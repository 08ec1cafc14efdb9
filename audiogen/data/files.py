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
    seen_folders = {_identity(root)}
    walker = os.walk(root, followlinks=True) if recursive else [(str(root), [], os.listdir(root))]
    for folder, dirs, names in walker:
        # Symlinked folders are followed, each real folder once: a link loop ends here.
        kept = []
        for d in sorted(dirs):
            identity = None if d.startswith(".") else _identity(Path(folder, d))
            if identity is not None and identity not in seen_folders:
                seen_folders.add(identity)
                kept.append(d)
        dirs[:] = kept
        found += [Path(folder, n) for n in names
                  if not n.startswith(".") and has_extension(n, extensions) and os.path.isfile(os.path.join(folder, n))]
    unique, seen_files = [], set()
    for path in sorted(found):  # each real file once, under its first path in sorted order
        identity = _identity(path)
        if identity is not None and identity not in seen_files:
            seen_files.add(identity)
            unique.append(path)
    return unique


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what `path` points to; None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino
