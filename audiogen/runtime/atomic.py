"""Atomic file output: write to a temp file in the target directory, fsync, then rename.

A reader (or a crash) never sees a half-written file: ``path`` holds either the old content or
the complete new content.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audiogen.errors import BadInputError


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_mode() -> int:
    """0o666 minus the process umask: the mode a plain open() would give a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_output(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    The temp file is created empty (mode 0o666 minus umask, like a normal file) and named
    ``.<name>.tmp-<random><suffix>``; ``suffix`` defaults to the last extension of ``path`` so
    writers that pick a format from the extension (matplotlib, soundfile) still work.
    On an exception (KeyboardInterrupt included) the temp file is removed and ``path`` is left
    as it was. Parent directories are created. A ``path`` that is a directory raises
    BadInputError before anything is written.
    """
    path = Path(path)
    if path.is_dir():
        raise BadInputError(path, "is a directory; expected a file path to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInputError(path, f"cannot create its folder ({e.strerror or e})") from None
    if suffix is None:
        suffix = path.suffix
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise BadInputError(path, f"cannot write here ({e.strerror or e})") from None
    try:
        yield tmp
        # Writers that replace the file themselves (safetensors creates it 0o600) lose the mode.
        os.chmod(tmp, _file_mode())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` as a Path."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (newlines written as given); returns the Path."""
    return atomic_write_bytes(path, text.encode(encoding))
