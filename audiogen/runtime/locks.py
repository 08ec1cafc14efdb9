"""One writer at a time: an advisory lock file beside what is being written.

`exclusive_lock`: the lock is `.<name>.lock` next to the target (so it exists before the target
does) and holds the holder's pid; it is removed when let go. `hold_folder`: the lock is `.audiogen.lock`
inside a folder one writer fills (a training run, an output set), removed when let go. Both are
`flock`s, so a process that dies (even by SIGKILL) releases them.
"""

from __future__ import annotations

import errno
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


class LockRefused(AudiogenError):
    """Another process holds the lock: the target is its, and nothing of it may be touched."""


_NO_LOCKS = (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP)
_warned_no_locks = False


def _acquire(path: Path, target: Path, doing: str, hint: str) -> int | None:
    """An open fd holding the flock of `path` (None on a filesystem without locks: a warning,
    once); LockRefused naming `target`, the holder's pid and what it is doing when another
    process holds it."""
    global _warned_no_locks
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise BadInputError(path, f"cannot create the lock file ({e.strerror or e})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held elsewhere
        said = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        holder, _, what = said.partition(" ")
        raise LockRefused(f"{target}: another audiogen run (pid {holder or 'unknown'}) is {what or doing}; "
                          f"wait for it to finish{hint}") from None
    except OSError as e:
        os.close(fd)
        if e.errno not in _NO_LOCKS:
            raise
        if not _warned_no_locks:  # a filesystem without flock (some FUSE, Lustre): carry on unlocked
            _warned_no_locks = True
            import sys

            sys.stderr.write(f"audiogen: warning: {target}: this filesystem has no file locks; nothing stops a "
                             "second writer here\n")
        return None
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
    os.pwrite(fd, f"{os.getpid()} {doing}\n".encode("utf-8"), 0)
    return fd


def _let_go(fd: int | None) -> None:
    if fd is None:
        return
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
_HELD: dict[str, list] = {}  # folder lock path -> [fd (None: no locks here), holds], of this process


def hold_folder(folder: str | os.PathLike, doing: str, hint: str = "") -> Path:
    """Take the lock of the existing `folder` (its FOLDER_LOCK file) until `release_folder`, or
    until this process ends (even by SIGKILL). Re-entrant within one process (each hold needs its
    release); another process holding it gets LockRefused at once. Returns the lock file's path."""
    folder = Path(os.path.realpath(folder))
    path = folder / FOLDER_LOCK
    if fcntl is None:
        return path
    if str(path) in _HELD:
        _HELD[str(path)][1] += 1
        return path
    _HELD[str(path)] = [_acquire(path, folder, doing, hint), 1]
    return path


def release_folder(folder: str | os.PathLike, *, all_holds: bool = False) -> None:
    """Let go of one hold of `folder`'s lock (`all_holds`: every one); with the last, remove its
    file (a process that opened the old file as it went notices, in `_acquire`, and takes a new
    one), so a finished folder holds no lock file. One killed while holding it leaves the file,
    which the next writer takes over."""
    path = Path(os.path.realpath(folder)) / FOLDER_LOCK
    held = _HELD.get(str(path))
    if held is None:
        return
    held[1] = 0 if all_holds else held[1] - 1
    if held[1] > 0:
        return
    del _HELD[str(path)]
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
    _let_go(held[0])


def release_all() -> None:
    """Let go of every folder lock this process holds (the end of a command)."""
    for path in list(_HELD):
        release_folder(Path(path).parent, all_holds=True)
