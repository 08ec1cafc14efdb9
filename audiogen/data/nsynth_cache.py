"""A preprocessed NSynth cache: every selected note decoded once into one int16 file.

Decoding ~300k WAVs each epoch is what limits GANSynth training; the cache turns an epoch into
sequential reads of one memory-mapped array.

Layout of a cache folder (default `$XDG_CACHE_HOME/audiogen/nsynth/<key>`):
    audio.i16    raw little-endian int16, (count, length) row-major: one row per note
    labels.npz   per-row labels: note_str, instrument_str, pitch, velocity, instrument,
                 instrument_family, instrument_source, qualities (count, 10)
    index.json   what the cache holds (written last: a folder without it is incomplete)

Rows are stored in a fixed shuffled order (seeded from the key), so reading contiguous blocks
already mixes instruments and pitches; `batches` adds a fresh shuffle of blocks and of rows
within a block each epoch. The key hashes examples.json's bytes, the filter and the layout, so
a changed set or filter gets a new cache; WAVs edited in place without touching examples.json
need `--rebuild`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiogen.data.nsynth import (NSYNTH_SAMPLE_RATE, NSYNTH_SAMPLES, NSynthFilter, examples_path,
                                  describe_removals, problem_kind, read_examples,
                                  read_note_wav_rate)
from audiogen.data.skips import SkipLog
from audiogen.errors import AudiogenError, BadInputError

CACHE_VERSION = 2  # 2: notes at other sample rates are resampled; filter removals recorded
LABEL_KEYS = ("pitch", "velocity", "instrument", "instrument_family", "instrument_source")
BLOCK_ROWS = 256  # rows read together by `batches`: 256 x 64000 x 2 B = 32 MB


def default_cache_root() -> Path:
    """$XDG_CACHE_HOME/audiogen/nsynth (~/.cache/audiogen/nsynth)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiogen" / "nsynth"


def cache_key(root: str | os.PathLike, filt: NSynthFilter) -> str:
    """16 hex digits identifying (examples.json content, filter, cache layout)."""
    digest = hashlib.sha256()
    with open(examples_path(root), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps({"filter": filt.to_dict(), "version": CACHE_VERSION,
                              "sample_rate": NSYNTH_SAMPLE_RATE, "length": NSYNTH_SAMPLES},
                             sort_keys=True).encode())
    return digest.hexdigest()[:16]


@dataclass
class NSynthCache:
    """An opened cache: `audio` is a read-only (count, length) int16 memmap; labels are arrays."""

    path: Path
    index: dict
    audio: np.memmap
    labels: dict[str, np.ndarray]

    @classmethod
    def open(cls, path: str | os.PathLike) -> "NSynthCache":
        path = Path(path)
        try:
            index = json.loads((path / "index.json").read_text())
        except (OSError, ValueError):
            raise BadInputError(path, "not a complete NSynth cache (no readable index.json)") from None
        if index.get("version") != CACHE_VERSION:
            raise BadInputError(path, f"cache version {index.get('version')}, expected {CACHE_VERSION}; rebuild it")
        count, length = int(index["count"]), int(index["length"])
        audio_file = path / "audio.i16"
        if not audio_file.is_file() or audio_file.stat().st_size != count * length * 2:
            raise BadInputError(audio_file, "missing or the wrong size for its index; rebuild the cache")
        audio = np.memmap(audio_file, dtype="<i2", mode="r", shape=(count, length))
        with np.load(path / "labels.npz", allow_pickle=False) as npz:
            labels = {k: npz[k] for k in npz.files}
        return cls(path, index, audio, labels)

    def __len__(self) -> int:
        return self.audio.shape[0]

    @property
    def sample_rate(self) -> int:
        return int(self.index["sample_rate"])

    def waves(self, rows: np.ndarray | slice) -> np.ndarray:
        """Rows -> float32 (len(rows), length) in [-1, 1)."""
        return np.asarray(self.audio[rows], dtype=np.float32) / 32768.0

    def epoch_order(self, *, shuffle: bool = True, seed: int = 0) -> np.ndarray:
        """(count,) row order for one epoch: blocks of BLOCK_ROWS rows in a random order, rows
        shuffled within each block, so consecutive batches read from one region of the file."""
        count = len(self)
        if not shuffle:
            return np.arange(count)
        rng = np.random.default_rng(seed)
        starts = rng.permutation(np.arange(0, count, BLOCK_ROWS))
        return np.concatenate([rng.permutation(np.arange(s, min(s + BLOCK_ROWS, count))) for s in starts])

    def batches(self, batch_size: int, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False,
                ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """One epoch: (float32 (B, length) waves, {label: (B,) array}) batches.

        With `shuffle` the rows follow `epoch_order(seed)` (pass the epoch number as `seed` for
        a new order each epoch); each batch's rows are read in file order.
        """
        order = self.epoch_order(shuffle=shuffle, seed=seed)
        stop = len(order) - len(order) % batch_size if drop_last else len(order)
        for first in range(0, stop, batch_size):
            rows = np.sort(order[first:first + batch_size])
            yield self.waves(rows), self._labels(rows)

    def _labels(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[rows] for k, v in self.labels.items()}

    def pitch_histogram(self) -> np.ndarray:
        """(128,) note counts per MIDI pitch (GANSynth draws fake pitches from this)."""
        return np.bincount(self.labels["pitch"], minlength=128)


def _decode(note: dict) -> tuple[np.ndarray | None, str | int]:
    """(pcm, the file's sample rate), or (None, the problem)."""
    try:
        return read_note_wav_rate(note["path"], resample=True)
    except ValueError as e:
        return None, str(e)


def build_cache(root: str | os.PathLike, filt: NSynthFilter | None = None, *,
                cache_root: str | os.PathLike | None = None, rebuild: bool = False,
                skips: SkipLog | None = None, on_start: Callable[[int], None] | None = None,
                on_note: Callable[[], None] | None = None, workers: int = 2) -> tuple[NSynthCache, dict]:
    """Open the cache for (root, filt), building it first when missing (or when `rebuild`).

    Returns (cache, summary). Notes whose WAV is missing, unreadable, not 16 kHz mono or not 64000
    samples go to `skips` and are left out. `on_start(total)` and `on_note()` drive a progress bar.
    Raises AudiogenError when no note passes the filter or the disk lacks room, or when another
    process is building the same cache (one builder at a time: `runtime.locks`).
    """
    from audiogen.runtime.locks import exclusive_lock

    filt = filt or NSynthFilter()
    skips = skips if skips is not None else SkipLog()
    key = cache_key(root, filt)
    path = Path(cache_root) if cache_root else default_cache_root()
    path = path / key
    if (path / "index.json").is_file() and not rebuild:
        cache = NSynthCache.open(path)
        return cache, {"cache": str(path), "built": False, "notes": len(cache), **_summary(cache.index)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(path, "building this NSynth cache"):
        if (path / "index.json").is_file() and not rebuild:  # built by another process as we came
            cache = NSynthCache.open(path)
            return cache, {"cache": str(path), "built": False, "notes": len(cache), **_summary(cache.index)}
        return _build_cache(root, filt, path, key, skips=skips, on_start=on_start, on_note=on_note,
                            workers=workers)


def _build_cache(root, filt: NSynthFilter, path: Path, key: str, *, skips: SkipLog, on_start, on_note,
                 workers: int) -> tuple[NSynthCache, dict]:
    """`build_cache`'s building, under the cache's lock."""
    start = time.perf_counter()
    removed: dict[str, int] = {}
    notes = read_examples(root, filt, skips=skips, removed=removed)
    if not notes:
        total = sum(removed.values())
        raise AudiogenError(f"{root}: no notes match the filter ({describe_removals(total, removed)})")
    if on_start:
        on_start(len(notes))
    order = np.random.default_rng(int(key, 16) % (1 << 32)).permutation(len(notes))
    notes = [notes[i] for i in order]
    _check_room(path.parent, len(notes) * NSYNTH_SAMPLES * 2)
    if path.exists():
        shutil.rmtree(path)
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    kept: list[dict] = []
    resampled: dict[int, int] = {}
    try:
        with open(tmp / "audio.i16", "wb") as out, ThreadPoolExecutor(max(1, workers)) as pool:
            # soundfile releases the GIL while decoding, so threads overlap file reads and decoding.
            for note, (pcm, problem) in zip(notes, pool.map(_decode, notes)):
                if pcm is None:
                    skips.skip(note["path"], problem, kind=problem_kind(problem))
                else:
                    if problem != NSYNTH_SAMPLE_RATE:
                        resampled[problem] = resampled.get(problem, 0) + 1
                    out.write(pcm.astype("<i2", copy=False).tobytes())
                    kept.append(note)
                if on_note:
                    on_note()
        if not kept:
            raise AudiogenError(f"{root}: none of the {len(notes)} selected notes could be read")
        labels = {k: np.array([n[k] for n in kept], dtype=np.int16) for k in LABEL_KEYS}
        labels["qualities"] = np.array([n["qualities"] for n in kept], dtype=np.uint8)
        labels["note_str"] = np.array([n["note_str"] for n in kept])
        labels["instrument_str"] = np.array([n["instrument_str"] for n in kept])
        np.savez(tmp / "labels.npz", **labels)
        index = {"version": CACHE_VERSION, "key": key, "root": str(Path(root).resolve()),
                 "filter": filt.to_dict(), "sample_rate": NSYNTH_SAMPLE_RATE, "length": NSYNTH_SAMPLES,
                 "count": len(kept), "selected": len(notes), "skipped": len(notes) - len(kept),
                 "examples": len(notes) + sum(removed.values()), "removed_by_filter": removed,
                 "resampled": sum(resampled.values()),
                 "resampled_from": {str(rate): n for rate, n in sorted(resampled.items())},
                 "built_seconds": round(time.perf_counter() - start, 2)}
        (tmp / "index.json").write_text(json.dumps(index, indent=1) + "\n")
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    cache = NSynthCache.open(path)
    return cache, {"cache": str(path), "built": True, "notes": len(cache), **_summary(index)}


def _summary(index: dict) -> dict:
    return {k: index[k] for k in ("selected", "skipped", "built_seconds", "filter", "examples", "removed_by_filter",
                                  "resampled", "resampled_from") if k in index}


def _check_room(folder: Path, needed: int) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInputError(folder, f"cannot create the cache folder ({e.strerror})") from None
    free = shutil.disk_usage(folder).free
    if free < needed * 1.05:
        raise BadInputError(folder, f"not enough disk space for the cache: needs {needed / 2**30:.1f} GiB, "
                                    f"{free / 2**30:.1f} GiB free (use --cache-dir elsewhere)")
