"""Folders of numbered outputs (sample-000.wav, step-01.mid, ...) replaced as a set.

A command that writes such a folder stages every file under a temporary name (`stage(target)`)
and puts them in place only when the whole set is written (`commit`), listing them in the
folder's `.audiogen-outputs.json` (one list per command). The commit also removes the files of
the same command's earlier set that it did not write again, so `-n 2` after `-n 5 --wav` leaves
two MIDI files, not two new ones beside three old ones and five old WAVs. A run that fails
removes its staged files and leaves the folder as it was. Files the command did not write
(yours, and those another command's latest set lists) are never removed, and never replaced:
a set that would write over one is refused, naming the file, unless `force` is given. One
writer at a time: the set holds the folder's lock (`runtime.locks`) until commit or discard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MANIFEST = ".audiogen-outputs.json"


class OutputSet:
    """The files one command writes into `folder` in this run; see the module docstring."""

    def __init__(self, folder: str | os.PathLike, command: str, *, force: bool = False):
        from audiogen.runtime.atomic import remove_stale_temps
        from audiogen.runtime.locks import hold_folder

        self.folder = Path(folder)
        self.command = command
        self.force = force
        self.staged: list[tuple[Path, Path]] = []  # (temporary file, target)
        hold_folder(self.folder, f"writing `{command}` outputs into it", " (or give another --out-dir)")
        remove_stale_temps(self.folder)  # staged files of a set killed mid-write
        self._manifest = self._read_manifest()

    def _read_manifest(self) -> dict:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def stage(self, target: str | os.PathLike) -> Path:
        """A temporary path (same folder and extension) to write `target`'s content to; it takes
        `target`'s place at `commit`."""
        from audiogen.runtime.atomic import temp_name

        target = Path(target)
        if not self.force and target.exists() and target.name not in self._names(self.command):
            from audiogen.errors import AudiogenError

            owner = next((c for c in self._manifest if c != self.command and target.name in self._names(c)), None)
            by = f"written by `{owner}`" if owner else "not written by this command"
            raise AudiogenError(f"{target}: already exists, {by}; give another --out-dir, or --force to replace it")
        tmp = temp_name(target)
        self.staged.append((tmp, target))
        return tmp

    def _names(self, command: str) -> list[str]:
        names = self._manifest.get(command, [])
        return [n for n in names if isinstance(n, str) and "/" not in n and n not in ("", ".", "..")]

    def commit(self) -> int:
        """Put the staged files in place, remove this command's earlier files not written again,
        record the set; -> files removed."""
        from audiogen.runtime.atomic import atomic_write_text

        now = {target.name for tmp, target in self.staged if tmp.exists()}  # a writer may drop a file
        # listed before they are put in place: a commit cut short still knows these names as its own
        self._manifest[self.command] = sorted(set(self._names(self.command)) | now)
        atomic_write_text(self.folder / MANIFEST, json.dumps(self._manifest, indent=1) + "\n")
        for tmp, target in self.staged:
            if tmp.exists():
                os.replace(tmp, target)
        others = set()
        for command in list(self._manifest):
            if command != self.command:  # names now ours leave the other command's list
                self._manifest[command] = [n for n in self._names(command) if n not in now]
                others |= set(self._manifest[command])
        removed = 0
        for name in self._names(self.command):
            old = self.folder / name
            if name not in now and name not in others and old.is_file():
                old.unlink()
                removed += 1
        self._manifest[self.command] = sorted(now)
        atomic_write_text(self.folder / MANIFEST, json.dumps(self._manifest, indent=1) + "\n")
        self._let_go()
        return removed

    def _let_go(self) -> None:
        from audiogen.runtime.locks import release_folder

        release_folder(self.folder)

    def discard(self) -> None:
        """Remove the staged files (the run failed): the folder stays as it was."""
        for tmp, _ in self.staged:
            try:
                tmp.unlink()
            except OSError:
                pass
        self._let_go()

    def fail(self, error: BaseException) -> BaseException | None:
        """`discard()`, then the error to raise instead of `error` (naming the target rather than
        a staged temp file), or None to re-raise `error` itself."""
        from audiogen.runtime.atomic import named_for_target

        self.discard()
        return named_for_target(error, dict(self.staged))


@contextmanager
def output_set(folder: str | os.PathLike, command: str, *, force: bool = False) -> Iterator[OutputSet]:
    """`with output_set(out_dir, "sample musicvae") as outputs: write(outputs.stage(target))`. A
    failed set leaves no folder it made."""
    from audiogen.runtime.atomic import undo_folder

    folder = Path(folder)
    made = next((p for p in reversed((folder, *folder.parents)) if not p.exists()), None)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        outputs = OutputSet(folder, command, force=force)
    except BaseException:
        undo_folder(folder, made, contents=False)
        raise
    try:
        yield outputs
    except BaseException as e:
        reworded = outputs.fail(e)
        undo_folder(folder, made, contents=False)  # empty folders only: a refused set's folder is someone's
        if reworded is not None:
            raise reworded from None
        raise
    outputs.commit()
