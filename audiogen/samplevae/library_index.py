"""A persistent sample-library index: float16 latent vectors in .npy files, file metadata in SQLite.

An index is a folder (default: `default_index_path()`, in the user's data directory)::

    index.sqlite          meta (model hash, latent size, classes, generation), items (one row per
                          embedded sound: path, onset offset, size, mtime, class, confidence),
                          roots (folders indexed), skipped (unusable files, with size and mtime)
    vectors-<gen>.npy     (N, latent) float16: row i is the item whose `row` is i
    norms-<gen>.npy       (N,) float32 squared lengths of those rows
    labels-<gen>.npy      (N,) int16 predicted class index (-1: the model has no class head)

Changes never edit files in place: a new generation of the .npy files is written (atomically),
then one SQLite transaction switches the items and the generation number, then the old files are
deleted. A crash at any point leaves the previous index whole (stray files of an unfinished
generation are removed on the next write).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiogen.errors import AudiogenError, BadInputError, load_failure_reason

FORMAT_VERSION = 1
DB_NAME = "index.sqlite"
NORM_CHUNK = 1 << 16

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (row INTEGER PRIMARY KEY, path TEXT NOT NULL, offset REAL NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, class TEXT, confidence REAL);
CREATE INDEX IF NOT EXISTS items_path ON items (path);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    problem TEXT NOT NULL);
"""


def default_index_path() -> Path:
    """$XDG_DATA_HOME/audiogen/index, else ~/.local/share/audiogen/index."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "audiogen" / "index"


def prefix_range(root: str) -> tuple[str, str]:
    """SQL bounds selecting the paths inside folder `root` (path >= low AND path < high)."""
    low = root.rstrip(os.sep) + os.sep
    return low, low[:-1] + chr(ord(os.sep) + 1)


@dataclass
class NewItem:
    path: str
    offset: float
    size: int
    mtime_ns: int
    class_name: str | None
    confidence: float | None


class LibraryIndex:
    """An open index; `open_index` makes one. Read the vectors with `arrays()`, change with `commit()`."""

    def __init__(self, path: Path, db: sqlite3.Connection):
        self.path = path
        self.db = db
        self.meta = {k: v for k, v in db.execute("SELECT key, value FROM meta")}
        self._loaded: tuple[int, tuple] | None = None  # (generation, arrays) read by arrays()

    # -- what it holds ----------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return int(self.meta.get("generation", 0))

    @property
    def model_sha256(self) -> str | None:
        return self.meta.get("model_sha256")

    @property
    def model_path(self) -> str | None:
        return self.meta.get("model_path")

    @property
    def latent(self) -> int | None:
        return int(self.meta["latent"]) if "latent" in self.meta else None

    @property
    def classes(self) -> list[str]:
        return json.loads(self.meta.get("classes", "[]"))

    def __len__(self) -> int:
        return int(self.meta.get("count", 0))

    def roots(self) -> list[str]:
        return [r for (r,) in self.db.execute("SELECT path FROM roots ORDER BY path")]

    def _file(self, stem: str, generation: int | None = None) -> Path:
        return self.path / f"{stem}-{self.generation if generation is None else generation}.npy"

    def arrays(self, *, mmap: bool = False):
        """(vectors (N, latent) float16, norms (N,) float32, labels (N,) int16).

        Read into memory by default (one sequential read: 128 MB at a million sounds takes well
        under a second, where faulting a memory map in page by page takes seconds); `mmap` maps
        them read-only instead, for passes that touch only part of them.
        """
        if len(self) == 0:
            d = self.latent or 0
            return np.zeros((0, d), np.float16), np.zeros(0, np.float32), np.zeros(0, np.int16)
        if not mmap and self._loaded is not None and self._loaded[0] == self.generation:
            return self._loaded[1]
        mode = "r" if mmap else None
        try:
            vectors = np.load(self._file("vectors"), mmap_mode=mode)
            norms = np.load(self._file("norms"), mmap_mode=mode)
            labels = np.load(self._file("labels"), mmap_mode=mode)
        except (OSError, ValueError) as e:
            raise BadInputError(self.path, f"index files are damaged or missing ({load_failure_reason(e)}); rebuild it with "
                                           "`audiogen index DIR --rebuild`") from None
        if vectors.shape[0] != len(self) or norms.shape[0] != len(self) or labels.shape[0] != len(self):
            raise BadInputError(self.path, "index files disagree with its database; rebuild it with "
                                           "`audiogen index DIR --rebuild`")
        if not mmap:
            self._loaded = (self.generation, (vectors, norms, labels))
        return vectors, norms, labels

    def items(self, rows) -> list[dict]:
        """Metadata of the given rows, in that order: {"row", "path", "offset", "class", "confidence"}."""
        rows = [int(r) for r in rows]
        found = {}
        for start in range(0, len(rows), 900):  # SQLite's limit on bound parameters
            chunk = rows[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for row, path, offset, cls, conf in self.db.execute(
                    f"SELECT row, path, offset, class, confidence FROM items WHERE row IN ({marks})", chunk):
                found[row] = {"row": row, "path": path, "offset": offset, "class": cls, "confidence": conf}
        return [found[r] for r in rows]

    def entry_of(self, path: str) -> tuple[list[int], int, int] | None:
        """(rows, size, mtime_ns) of an indexed file, or None."""
        got = list(self.db.execute("SELECT row, size, mtime_ns FROM items WHERE path = ? ORDER BY offset", (path,)))
        return ([r for r, _, _ in got], got[0][1], got[0][2]) if got else None

    def files_under(self, root: str) -> dict[str, tuple[int, int, list[int]]]:
        """{path: (size, mtime_ns, rows)} of every indexed file inside folder `root`."""
        low, high = prefix_range(root)
        out: dict[str, tuple[int, int, list[int]]] = {}
        for row, path, size, mtime in self.db.execute(
                "SELECT row, path, size, mtime_ns FROM items WHERE path >= ? AND path < ? ORDER BY row", (low, high)):
            out.setdefault(path, (size, mtime, []))[2].append(row)
        return out

    def skipped_under(self, root: str) -> dict[str, tuple[int, int, str]]:
        low, high = prefix_range(root)
        return {p: (s, m, why) for p, s, m, why in self.db.execute(
            "SELECT path, size, mtime_ns, problem FROM skipped WHERE path >= ? AND path < ?", (low, high))}

    # -- changing it ------------------------------------------------------------------------

    def check_model(self, sha256: str, model_path: str, same_weights_as=()) -> None:
        """AudiogenError unless the index is empty or was made by the model with this hash, or by
        one of `same_weights_as` (files with the same weights: the model file's own list)."""
        if self.model_sha256 and self.model_sha256 != sha256 and self.model_sha256 not in set(same_weights_as or ()):
            raise AudiogenError(
                f"{self.path}: this index was made by another model ({self.model_path}, sha256 "
                f"{self.model_sha256[:12]}), not {model_path} ({sha256[:12]}); use that model, another --index, "
                "or `audiogen index DIR --rebuild` to re-embed with this one")

    def commit(self, *, root: str, keep_rows: np.ndarray, new_items: list[NewItem], new_vectors: np.ndarray,
               new_labels: np.ndarray, skipped: list[tuple[str, int, int, str]], model_sha256: str,
               model_path: str, latent: int, classes: list[str]) -> None:
        """Replace the index by: rows `keep_rows` (ascending) of the current one, then `new_items`
        with `new_vectors` (M, latent) and `new_labels` (M,); record `root` and its skipped files."""
        old_generation = self.generation
        generation = old_generation + 1
        vectors, _, labels = self.arrays(mmap=True)
        keep_rows = np.asarray(keep_rows, dtype=np.int64)
        merged = np.concatenate([np.asarray(vectors[keep_rows], np.float16).reshape(-1, latent),
                                 np.asarray(new_vectors, np.float16).reshape(-1, latent)])
        merged_labels = np.concatenate([np.asarray(labels[keep_rows], np.int16),
                                        np.asarray(new_labels, np.int16)])
        norms = np.empty(len(merged), np.float32)
        for start in range(0, len(merged), NORM_CHUNK):
            block = merged[start:start + NORM_CHUNK].astype(np.float32)
            norms[start:start + NORM_CHUNK] = np.einsum("ij,ij->i", block, block)
        self._remove_stray(keep=old_generation)
        if len(merged):
            for stem, array in (("vectors", merged), ("norms", norms), ("labels", merged_labels)):
                _save_npy(self._file(stem, generation), array)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if int(dict(db.execute("SELECT key, value FROM meta")).get("generation", 0)) != old_generation:
                raise AudiogenError(f"{self.path}: the index changed while this run was indexing; run it again")
            db.execute("CREATE TEMP TABLE keep (row INTEGER PRIMARY KEY)")
            db.executemany("INSERT INTO keep VALUES (?)", ((int(r),) for r in keep_rows))
            db.execute("CREATE TABLE items_next (row INTEGER PRIMARY KEY, path TEXT NOT NULL, offset REAL NOT NULL, "
                       "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, class TEXT, confidence REAL)")
            db.execute("INSERT INTO items_next SELECT (ROW_NUMBER() OVER (ORDER BY i.row)) - 1, i.path, i.offset, "
                       "i.size, i.mtime_ns, i.class, i.confidence FROM items i JOIN keep k ON i.row = k.row")
            start = len(keep_rows)
            db.executemany("INSERT INTO items_next VALUES (?, ?, ?, ?, ?, ?, ?)",
                           ((start + j, it.path, it.offset, it.size, it.mtime_ns, it.class_name, it.confidence)
                            for j, it in enumerate(new_items)))
            db.execute("DROP TABLE keep")
            db.execute("DROP TABLE items")
            db.execute("ALTER TABLE items_next RENAME TO items")
            db.execute("CREATE INDEX items_path ON items (path)")
            db.execute("INSERT OR IGNORE INTO roots VALUES (?)", (root,))
            low, high = prefix_range(root)
            db.execute("DELETE FROM skipped WHERE path >= ? AND path < ?", (low, high))
            db.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)", skipped)
            meta = {"format_version": FORMAT_VERSION, "generation": generation, "count": len(merged),
                    "model_sha256": model_sha256, "model_path": model_path, "latent": latent,
                    "classes": json.dumps(classes)}
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", ((k, str(v)) for k, v in meta.items()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._remove_stray(keep=old_generation)
            raise
        self.meta = {k: v for k, v in db.execute("SELECT key, value FROM meta")}
        self._remove_stray(keep=generation)

    def _remove_stray(self, keep: int) -> None:
        """Delete .npy files of every generation but `keep`."""
        for stem in ("vectors", "norms", "labels"):
            for path in self.path.glob(f"{stem}-*.npy"):
                if path.name != f"{stem}-{keep}.npy":
                    path.unlink(missing_ok=True)

    def close(self) -> None:
        self.db.close()


def _save_npy(path: Path, array: np.ndarray) -> None:
    from audiogen.runtime.atomic import atomic_output

    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def index_exists(path: str | os.PathLike) -> bool:
    return (Path(path) / DB_NAME).is_file()


def open_index(path: str | os.PathLike, *, create: bool = False) -> LibraryIndex:
    """The index in folder `path`; `create` makes an empty one when there is none.

    Without `create`, a missing index is an AudiogenError saying how to make one; a folder or
    database that is not an audiogen index is a BadInputError.
    """
    path = Path(os.path.expanduser(str(path)))
    if path.exists() and not path.is_dir():
        raise BadInputError(path, "is a file; an index is a folder (holding index.sqlite)")
    if not index_exists(path):
        if not create:
            where = "" if path == default_index_path() else f" --index {path}"
            raise AudiogenError(f"{path}: no sample index yet; make one with `audiogen index YOUR_SAMPLES_DIR{where}`, "
                                f"point at another with --index DIR (default {default_index_path()}), or search a "
                                "folder directly with --library DIR")
        made = next((p for p in reversed((path, *path.parents)) if not p.exists()), None)
        path.mkdir(parents=True, exist_ok=True)
    else:
        made = None
    try:
        db = sqlite3.connect(str(path / DB_NAME), isolation_level=None, timeout=30.0)
        db.executescript(_SCHEMA) if create else None
        version = dict(db.execute("SELECT key, value FROM meta")).get("format_version")
    except sqlite3.DatabaseError as e:
        if made is not None:  # a new index that could not be made leaves nothing behind
            from audiogen.runtime.atomic import undo_folder

            undo_folder(path, made)
        if isinstance(e, sqlite3.OperationalError) and ("full" in str(e) or "readonly" in str(e)):
            raise BadInputError(path, f"cannot write here ({e})") from None
        raise BadInputError(path / DB_NAME, f"not an audiogen index database ({e})") from None
    if version is not None and int(version) > FORMAT_VERSION:
        raise BadInputError(path, f"index format {version} is newer than this audiogen reads ({FORMAT_VERSION})")
    return LibraryIndex(path, db)
