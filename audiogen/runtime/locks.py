"""One writer at a time: an advisory lock file beside what is being written.

`exclusive_lock`: the lock is `.<name>.lock` next to the target (so it exists before the target
does) and holds the holder's pid; it is removed when let go. `hold_folder`: the lock is `.audiogen.lock`
inside a folder one writer fills (a training run, an output set), removed when let go. Both are
`flock`s, so a process that dies (even by SIGKILL) releases them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audiogen.errors import AudiogenError, BadInputError

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not serialised there
    fcntl = None


def lock_path(target: str | os.PathLike) -> Path:
    target = Path(target)
    return target.with_name(f".{target.name}.lock")


def _acquire(path: Path, target: Path, doing: str, hint: str) -> int:
    """An open fd holding the flock of `path`; AudiogenError naming `target` and the holder's pid
    when another process holds it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise BadInputError(path, f"cannot create the lock file ({e.strerror or e})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held elsewhere (other failures, e.g. no locks on NFS, propagate)
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise AudiogenError(f"{target}: another audiogen run (pid {holder}) is {doing}; "
                            f"wait for it to finish{hint}") from None
    except BaseException:
        os.close(fd)
        raise
    try:
        current = os.stat(path).st_ino
    except FileNotFoundError:
        current = None
    if current != os.fstat(fd).st_ino:  # its holder removed the file as we opened it: take the new one
        _let_go(fd)
        return _acquire(path, target, doing, hint)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def _let_go(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def exclusive_lock(target: str | os.PathLike, doing: str, hint: str = "") -> Iterator[None]:
    """Hold the lock of `target` for the block; if another process holds it, AudiogenError
    "TARGET: another audiogen run (pid N) is DOING; wait for it to finish{hint}" at once."""
    target = Path(os.path.realpath(target))  # a symlinked index and its real path share one lock
    if fcntl is None:
        yield
        return
    path = lock_path(target)
    fd = _acquire(path, target, doing, hint)
    try:
        yield
    finally:
        try:  # removed as it is let go: a finished (or failed) run leaves no lock file beside the target
            path.unlink(missing_ok=True)
        except OSError:
            pass
        _let_go(fd)


FOLDER_LOCK = ".audiogen.lock"  # inside a folder one writer fills (a training run, an output set)
_HELD: dict[str, int] = {}  # folder lock path -> fd, held by this process


def hold_folder(folder: str | os.PathLike, doing: str, hint: str = "") -> Path:
    """Take the lock of the existing `folder` (its FOLDER_LOCK file) until `release_folder`, or
    until this process ends (even by SIGKILL). Re-entrant within one process; another process
    holding it gets the AudiogenError of `exclusive_lock` at once. Returns the lock file's path."""
    folder = Path(os.path.realpath(folder))
    path = folder / FOLDER_LOCK
    if fcntl is None or str(path) in _HELD:
        return path
    _HELD[str(path)] = _acquire(path, folder, doing, hint)
    return path


def release_folder(folder: str | os.PathLike) -> None:
    """Let go of `folder`'s lock and remove its file (a process that opened the old file as it
    went notices, in `_acquire`, and takes a new one), so a finished folder holds no lock file;
    one killed while holding it leaves the file, which the next writer takes over."""
    path = Path(os.path.realpath(folder)) / FOLDER_LOCK
    fd = _HELD.pop(str(path), None)
    if fd is not None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        _let_go(fd)


def release_all() -> None:
    """Let go of every folder lock this process holds (the end of a command)."""
    for path in list(_HELD):
        release_folder(Path(path).parent)
