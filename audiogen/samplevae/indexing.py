"""Embedding files for the library index: scan a folder, embed what is new or changed, forget
what is gone, and search an index.

Clips are read by a small thread pool (soundfile and torchaudio's resampler release the GIL)
while the encoder runs on batches of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from audiogen.errors import BadInputError
from audiogen.samplevae.data import MAX_SECONDS, TooLongError, load_clip, onset_clips, read_mono
from audiogen.samplevae.library_index import LibraryIndex, NewItem

BATCH = 128
LONG_FILE_LIMIT_S = 20 * 60.0   # --split-onsets reads files up to this long


@dataclass
class Embedded:
    """Sounds embedded from files: parallel lists/arrays."""

    paths: list[str] = field(default_factory=list)
    offsets: list[float] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)   # (latent,) float32 each
    probs: list[np.ndarray | None] = field(default_factory=list)


def _clips_of(path: Path, features, split_onsets: bool, max_seconds: float) -> list[tuple[float, torch.Tensor]]:
    """[(offset seconds, clip)] for one file; BadInputError when it cannot be used."""
    try:
        return [(0.0, load_clip(path, features, max_seconds=max_seconds))]
    except TooLongError:
        if not split_onsets:
            raise
    wave = read_mono(path, features.sample_rate, max_seconds=LONG_FILE_LIMIT_S)
    clips = onset_clips(wave, features)
    if not clips:
        raise BadInputError(path, "no onsets found to cut at")
    return clips


def embed_files(bundle, paths: list[Path], *, skips, split_onsets: bool = False,
                max_seconds: float = MAX_SECONDS, on_file: Callable[[], None] | None = None,
                workers: int = 2) -> Embedded:
    """Embed each file (or each onset-cut sound of a long file with `split_onsets`) with the
    model in `bundle` (a SampleVAEModel). Unusable files go to `skips`."""
    from audiogen.samplevae.generate import embed_clips

    out = Embedded()
    pending: list[tuple[str, float, torch.Tensor]] = []

    def flush() -> None:
        if not pending:
            return
        clips = torch.stack([c for _, _, c in pending])
        means, probs = embed_clips(bundle.model, clips, bundle.features)
        for i, (p, offset, _) in enumerate(pending):
            out.paths.append(p)
            out.offsets.append(offset)
            out.vectors.append(means[i].numpy())
            out.probs.append(None if probs is None else probs[i].numpy())
        pending.clear()

    def load(path: Path):
        try:
            return path, _clips_of(path, bundle.features, split_onsets, max_seconds), None
        except BadInputError as e:
            return path, None, e.problem

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # A slice at a time, so loaded clips waiting for the encoder stay bounded however many files.
        for start in range(0, len(paths), 4 * BATCH):
            for path, clips, problem in pool.map(load, paths[start:start + 4 * BATCH]):
                if problem is not None:
                    skips.skip(path, problem)
                else:
                    for offset, clip in clips:
                        pending.append((str(path), offset, clip))
                        if len(pending) >= BATCH:
                            flush()
                if on_file is not None:
                    on_file()
        flush()
    return out


@dataclass
class UpdateReport:
    root: str
    files: int = 0           # audio files found under root
    added: int = 0           # files embedded for the first time
    changed: int = 0         # files re-embedded because size or mtime changed
    unchanged: int = 0
    removed: int = 0         # files no longer there, forgotten
    sounds: int = 0          # index rows now
    new_sounds: int = 0      # rows embedded in this run
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (path, problem), this run and unchanged earlier ones
    seconds: float = 0.0


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def update_index(index: LibraryIndex, bundle, root: str | os.PathLike, *, skips, split_onsets: bool = False,
                 max_seconds: float = MAX_SECONDS, on_start: Callable[[int], None] | None = None,
                 on_file: Callable[[], None] | None = None, workers: int = 2) -> UpdateReport:
    """Bring `index` up to date with folder `root`: embed new and changed audio files, forget
    deleted ones (only those inside `root`), leave other roots alone. Unchanged files that were
    unusable before are not read again; they are listed in the report."""
    import time

    from audiogen.data.audio_folders import list_audio_files

    began = time.perf_counter()
    root_path = Path(os.path.expanduser(str(root))).resolve()
    if not root_path.is_dir():
        raise BadInputError(root, "no such folder" if not root_path.exists() else "not a folder")
    index.check_model(bundle.sha256, str(bundle.path), bundle.extra.get("same_weights_as"))
    report = UpdateReport(root=str(root_path))
    # Files are keyed, embedded and stored by their path under the resolved root (a symlinked
    # sample keeps its place in the library, wherever it points), so a re-run finds them again.
    found = {str(p): p for p in list_audio_files(root_path)}
    report.files = len(found)
    known = index.files_under(str(root_path))
    old_skips = index.skipped_under(str(root_path))
    todo: list[Path] = []
    stats: dict[str, tuple[int, int]] = {}
    keep = np.ones(len(index), dtype=bool)
    carried_skips = []
    for key, path in found.items():
        try:
            stats[key] = _stat(path)
        except OSError as e:
            skips.skip(path, f"cannot read ({e.strerror or e})")
            continue
        if key in known:
            size, mtime, rows = known[key]
            if (size, mtime) == stats[key]:
                report.unchanged += 1
                continue
            keep[rows] = False
            report.changed += 1
        elif key in old_skips and old_skips[key][:2] == stats[key]:
            carried_skips.append((key, *old_skips[key]))
            continue
        else:
            report.added += 1
        todo.append(path)
    for key, (_, _, rows) in known.items():
        if key not in found:
            keep[rows] = False
            report.removed += 1
    if on_start is not None:
        on_start(len(todo))
    embedded = embed_files(bundle, todo, skips=skips, split_onsets=split_onsets, max_seconds=max_seconds,
                           on_file=on_file, workers=workers)
    classes = bundle.classes
    new_items, labels = [], []
    for p, offset, prob in zip(embedded.paths, embedded.offsets, embedded.probs):
        size, mtime = stats[p]
        if prob is None:
            new_items.append(NewItem(p, offset, size, mtime, None, None))
            labels.append(-1)
        else:
            best = int(prob.argmax())
            new_items.append(NewItem(p, offset, size, mtime, classes[best], float(prob[best])))
            labels.append(best)
    skipped_rows = [(p, *stats.get(p, (0, 0)), why) for p, why in skips.skipped]
    skipped_rows += [(p, size, mtime, why) for p, size, mtime, why in carried_skips]
    vectors = np.stack(embedded.vectors) if embedded.vectors else np.zeros((0, bundle.latent), np.float32)
    index.commit(root=str(root_path), keep_rows=np.flatnonzero(keep), new_items=new_items, new_vectors=vectors,
                 new_labels=np.asarray(labels, np.int16), skipped=skipped_rows, model_sha256=bundle.sha256,
                 model_path=str(bundle.path), latent=bundle.latent, classes=classes)
    report.sounds = len(index)
    report.new_sounds = len(new_items)
    report.skipped = [(p, why) for p, why in skips.skipped] + [(p, why) for p, _, _, why in carried_skips]
    report.seconds = time.perf_counter() - began
    return report


def search_index(index: LibraryIndex, query: np.ndarray, k: int, *, exclude_rows: Iterable[int] = (),
                 class_name: str | None = None) -> list[dict]:
    """The k nearest sounds to `query` (latent,) in `index`: [{"row", "path", "offset", "class",
    "confidence", "distance"}], nearest first. `exclude_rows` are never returned; `class_name`
    keeps only sounds the model classed so."""
    from audiogen.samplevae.search import top_k

    vectors, norms, labels = index.arrays()
    if len(vectors) == 0:
        return []
    rows = sorted(set(int(r) for r in exclude_rows))
    exclude = None
    if class_name is not None:
        exclude = torch.from_numpy(np.asarray(labels) != index.classes.index(class_name))
        if rows:
            exclude[torch.as_tensor(rows)] = True
    # Without a class filter, the few excluded rows are dropped from k + len(rows) results instead
    # of masking every row.
    found, distances = top_k(torch.from_numpy(vectors), torch.from_numpy(norms), torch.from_numpy(query),
                             k + (len(rows) if exclude is None else 0), exclude=exclude)
    if exclude is None and rows:
        keep = ~np.isin(found, rows)
        found, distances = found[keep][:k], distances[keep][:k]
    results = index.items(found)
    for item, distance in zip(results, distances):
        item["distance"] = round(float(distance), 5)
    return results
