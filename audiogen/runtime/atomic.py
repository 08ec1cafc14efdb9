"""Atomic file output: write to a temp file in the target directory, fsync, then rename.

A reader (or a crash) never sees a half-written file: ``path`` holds either the old content or
the complete new content.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audiogen.errors import BadInputError

# Failures that are the destination's fault, not audiogen's: reported as "PATH: cannot write here (...)".
WRITE_ERRNOS = frozenset(getattr(errno, name) for name in (
    "EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "EFBIG", "ENAMETOOLONG", "ENOTDIR", "EISDIR")
    if hasattr(errno, name))
# Below this many free bytes, a writer's vague failure (libsndfile's "System error", torch's
# "enforce fail at inline_container.cc") is taken to mean the disk is full.
NEARLY_FULL_BYTES = 1 << 20


def write_failure(path: str | os.PathLike, error: BaseException) -> BadInputError | None:
    """The one-line error for a failed write of `path`, or None when `error` is not the
    destination's fault (a bug, an interrupt).

    OSErrors with a destination errno (permission, read-only, no space, quota) name their cause;
    other writer errors count as "no space left on device" when the folder is nearly full.
    """
    if isinstance(error, OSError) and error.errno in WRITE_ERRNOS:
        return BadInputError(path, f"cannot write here ({error.strerror or os.strerror(error.errno)})")
    if isinstance(error, (OSError, RuntimeError)) or type(error).__name__ == "LibsndfileError":
        folder = Path(path).parent
        try:
            free = shutil.disk_usage(folder if folder.exists() else Path.cwd()).free
        except OSError:
            return None
        if free < NEARLY_FULL_BYTES:
            return BadInputError(path, f"cannot write here ({os.strerror(errno.ENOSPC)})")
    return None


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


def temp_name(path: Path, suffix: str | None = None) -> Path:
    """A hidden temporary name beside `path`: `.<name>.tmp-<random><suffix>` (default suffix: the
    path's own, so writers that pick a format from the extension still work)."""
    return path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}{path.suffix if suffix is None else suffix}")


def undo_folder(folder: str | os.PathLike, made: str | os.PathLike | None, *, contents: bool = True) -> None:
    """Undo a folder a failed writer made: remove `folder` (with what is in it when `contents`; call
    that only while holding its lock), then each parent up to `made` (the topmost folder the writer
    created) that is empty. A folder someone else filled meanwhile is never removed."""
    folder = Path(folder)
    if contents:
        shutil.rmtree(folder, ignore_errors=True)
    if made is None:
        return
    made = Path(made)
    for path in (folder, *folder.parents):
        try:
            path.rmdir()
        except FileNotFoundError:
            pass  # removed with its contents above
        except OSError:
            break  # not empty (someone else's now): it and the parents above stay
        if path == made or made not in path.parents:
            break


def remove_stale_temps(folder: str | os.PathLike) -> int:
    """Remove the temporary files (`temp_name`) a killed writer left in `folder` (not below it);
    call only while holding the folder's lock, so that no live writer owns them. -> files removed."""
    removed = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(".") and ".tmp-" in entry.name and entry.is_file():
            try:
                entry.unlink()
                removed += 1
            except OSError:
                pass
    return removed


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
        tmp = temp_name(path, suffix)
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
    except BaseException as e:
        # Judged before the temp file goes: a write that filled the disk leaves it full till then.
        failure = write_failure(path, e) if isinstance(e, Exception) else None
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        if failure is not None:
            raise failure from None
        raise
    _fsync_dir(path.parent)


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, before any work, when file `path` could not be written later.

    Nothing is created: the nearest existing folder on the way to `path` must be a writable
    folder with room (a probe file is written there and removed). A `path` that is a directory,
    or a file where a folder is needed, raises BadInputError naming `path`.
    """
    path = Path(path)
    if path.is_dir():
        raise BadInputError(path, "is a directory; expected a file path to write")
    _probe(_nearest_existing(path.parent, path), path)
    return path


def check_writable_dir(folder: str | os.PathLike) -> Path:
    """Fail now when files could not be created in `folder` (which need not exist yet)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BadInputError(folder, "exists and is not a folder")
    _probe(_nearest_existing(folder, folder), folder)
    return folder


def _nearest_existing(folder: Path, shown: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise BadInputError(shown, f"cannot create its folder ({folder} is a file)")
    return folder


def _probe(folder: Path, shown: Path) -> None:
    probe = folder / f".audiogen-probe-{secrets.token_hex(4)}"
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)  # a full disk takes an empty file but refuses data
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise BadInputError(shown, f"cannot write here ({e.strerror or e})") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def named_for_target(error: BaseException, targets: dict[Path, Path]) -> BaseException | None:
    """A write error about a staged temporary file, reworded to name its target (`targets`:
    temp path -> target); a destination OSError becomes that one line too. None: leave it."""
    if isinstance(error, BadInputError):
        target = targets.get(Path(error.path))
        return BadInputError(target, error.problem) if target is not None else None
    if isinstance(error, Exception) and targets:
        return write_failure(next(iter(targets.values())), error)
    return None


class OutputGroup:
    """Several outputs of one command written all or none: see `atomic_outputs`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, object, object]] = []

    def path(self, target: str | os.PathLike) -> Path:
        """A temporary path to write `target`'s content to; it replaces `target` only when the
        whole group succeeds."""
        manager = atomic_output(target)
        tmp = manager.__enter__()
        self._pending.append((Path(target), tmp, manager))
        return tmp


@contextmanager
def atomic_outputs() -> Iterator[OutputGroup]:
    """Write several files as one: every `group.path(target)` is a temp file, and the targets are
    replaced only after the block succeeds (in order); on an exception none is."""
    group = OutputGroup()
    try:
        yield group
    except BaseException as e:
        for _, _, manager in reversed(group._pending):
            try:
                manager.__exit__(type(e), e, e.__traceback__)
            except BaseException:
                pass
        reworded = named_for_target(e, {tmp: target for target, tmp, _ in group._pending})
        if reworded is not None:
            raise reworded from None
        raise
    done = 0
    try:
        for _, _, manager in group._pending:
            manager.__exit__(None, None, None)
            done += 1
    except BaseException as e:
        for _, _, manager in group._pending[done + 1:]:
            try:
                manager.__exit__(type(e), e, e.__traceback__)
            except BaseException:
                pass
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` as a Path."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (newlines written as given); returns the Path."""
    return atomic_write_bytes(path, text.encode(encoding))
