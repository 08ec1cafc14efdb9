"""One writer at a time: an advisory lock file beside what is being written.

The lock is `.<name>.lock` next to the target (so it exists before the target does) and holds
the holder's pid. It is an `flock`, so a run that dies (even by SIGKILL) releases it; the file
itself stays, as removing it would race with the next holder.
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


@contextmanager
def exclusive_lock(target: str | os.PathLike, doing: str, hint: str = "") -> Iterator[None]:
    """Hold the lock of `target` for the block; if another process holds it, AudiogenError
    "TARGET: another audiogen run (pid N) is DOING; wait for it to finish{hint}" at once."""
    target = Path(os.path.realpath(target))  # a symlinked index and its real path share one lock
    if fcntl is None:
        yield
        return
    path = lock_path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise BadInputError(path, f"cannot create the lock file ({e.strerror or e})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held elsewhere (other failures, e.g. no locks on NFS, propagate)
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise AudiogenError(f"{target}: another audiogen run (pid {holder}) is {doing}; "
                                f"wait for it to finish{hint}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
