"""Folders of numbered outputs (sample-000.wav, step-01.mid, ...) replaced as a set.

A command that writes such a folder lists what it wrote in the folder's `.audiogen-outputs.json`
(one list per command). The next run of the same command into that folder removes the files of
its earlier set that it did not write again, so `-n 2` after `-n 5 --wav` leaves two MIDI files,
not two new ones beside three old ones and five old WAVs. A run that fails removes what it had
written so far; files the command did not write (yours, another command's) are never touched.
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

    def __init__(self, folder: str | os.PathLike, command: str):
        self.folder = Path(folder)
        self.command = command
        self.written: list[Path] = []
        self._manifest = self._read_manifest()

    def _read_manifest(self) -> dict:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def add(self, path: str | os.PathLike) -> Path:
        """Record a file this run wrote (inside `folder`); returns it as a Path."""
        path = Path(path)
        self.written.append(path)
        return path

    def previous(self) -> list[Path]:
        """The files this command's last completed run recorded here."""
        names = self._manifest.get(self.command, [])
        return [self.folder / n for n in names if isinstance(n, str) and "/" not in n and n not in ("", ".", "..")]

    def commit(self) -> int:
        """Remove the earlier set's files not written again, record this set; -> files removed."""
        from audiogen.runtime.atomic import atomic_write_text

        now = {p.name for p in self.written}
        removed = 0
        for old in self.previous():
            if old.name not in now and old.is_file():
                old.unlink()
                removed += 1
        self._manifest[self.command] = sorted(now)
        atomic_write_text(self.folder / MANIFEST, json.dumps(self._manifest, indent=1) + "\n")
        return removed

    def discard(self) -> None:
        """Remove what this run wrote (it failed): no half set is left."""
        for path in self.written:
            try:
                path.unlink()
            except OSError:
                pass


@contextmanager
def output_set(folder: str | os.PathLike, command: str) -> Iterator[OutputSet]:
    """`with output_set(out_dir, "sample musicvae") as outputs: ... outputs.add(path)`."""
    outputs = OutputSet(folder, command)
    try:
        yield outputs
    except BaseException:
        outputs.discard()
        raise
    outputs.commit()
