"""Leave-one-kit-out evaluation on a drum library with kit names (manifest.csv from `audiogen data
drums`): for each kit, train a model without it, then classify the kit's sounds and search the
other kits with them. Kits that share identical recordings (e.g. two Hydrogen kits built from the
same samples) are held out together as one fold, so no test sound is in the training set. Each
fold's result is saved in OUT/<fold>/fold.json, so an interrupted run continues where it stopped."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from audiogen.errors import AudiogenError, BadInputError
from audiogen.samplevae.config import SampleVAETrainConfig

FOLD_NAME = "fold.json"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def audio_fingerprint(path: str | os.PathLike) -> str | None:
    """A hash of a file's decoded mono audio (rounded to 1/3000), None when unreadable."""
    import hashlib

    import soundfile as sf

    try:
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception:
        return None
    return hashlib.sha1(np.round(data.mean(axis=1) * 3000).astype(np.int16).tobytes()).hexdigest()


def fold_groups(files: list, kits: list[str]) -> list[list[str]]:
    """Kits joined into folds: kits holding an identical recording land in the same fold."""
    parent = {kit: kit for kit in kits}

    def find(kit: str) -> str:
        while parent[kit] != kit:
            parent[kit] = parent[parent[kit]]
            kit = parent[kit]
        return kit

    seen: dict[str, str] = {}
    for path, kit in zip(files, kits):
        fingerprint = audio_fingerprint(path)
        if fingerprint is None:
            continue
        if fingerprint in seen:
            parent[find(kit)] = find(seen[fingerprint])
        else:
            seen[fingerprint] = kit
    groups: dict[str, set[str]] = {}
    for kit in kits:
        groups.setdefault(find(kit), set()).add(kit)
    return sorted(sorted(g) for g in groups.values())


def run_fold(root: str, kit: str, out_dir: str, config: dict, steps: int, k: int, threads: int = 1) -> dict:
    """Train without the kits of fold `kit` ("A" or "A+B"), score them; writes and returns the
    fold's result (see fold_scores)."""
    import torch

    from audiogen.data.skips import SkipLog
    from audiogen.runtime.atomic import atomic_write_text
    from audiogen.samplevae.data import library_groups, load_feature_set
    from audiogen.samplevae.evaluate import fold_scores, nearest_labels
    from audiogen.samplevae.generate import embed_clips
    from audiogen.samplevae.load import load_samplevae_model
    from audiogen.samplevae.train import config_from_dict, read_labelled, train_samplevae

    torch.set_num_threads(threads)
    files, names = read_labelled([root])
    groups = library_groups([root])
    kits = [groups[str(Path(p).resolve())][0] for p in files]
    fold = set(kit.split("+"))
    train = [i for i, g in enumerate(kits) if g not in fold]
    held = [i for i, g in enumerate(kits) if g in fold]
    run = Path(out_dir) / _safe(kit)
    train_samplevae([], run, config=config_from_dict(config), steps=steps, checkpoint_every=max(steps // 4, 1),
                    resume=(run / "checkpoint.pt").exists(), device="cpu", quiet=True,
                    files=([files[i] for i in train], [names[i] for i in train]),
                    val_files=([files[i] for i in held], [names[i] for i in held]),
                    groups=[kits[i] for i in train])
    bundle = load_samplevae_model(run / "model.safetensors")
    classes = bundle.classes
    skips = SkipLog(warn=False)
    clips, kept = load_feature_set(files, bundle.features, skips=skips)
    means, probs = embed_clips(bundle.model, clips, bundle.features)
    labels = np.array([classes.index(names[i]) if names[i] in classes else -1 for i in kept])
    is_held = np.array([kits[i] in fold for i in kept])
    neighbours = nearest_labels(means[is_held], means[~is_held], labels[~is_held], k)
    scores = fold_scores(probs[is_held].numpy(), labels[is_held], classes, neighbours)
    result = {"kit": kit, "steps": steps, "k": k, "train_files": len(train), "held_files": int(is_held.sum()),
              "classes": classes, **scores}
    atomic_write_text(run / FOLD_NAME, json.dumps(result, indent=1))
    return result


def leave_one_kit_out(root: str | os.PathLike, out_dir: str | os.PathLike, *, config: SampleVAETrainConfig,
                      steps: int, k: int = 5, jobs: int = 1, kits: list[str] | None = None,
                      on_fold: Callable[[dict], None] | None = None) -> dict:
    """Every fold (or those of `kits`), `jobs` at a time in worker processes; returns the summary:
    per-kit results and their means over kits that have sounds of the six drum classes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from audiogen.samplevae.data import library_groups
    from audiogen.samplevae.train import read_labelled

    root = Path(root)
    files, _ = read_labelled([root])
    groups = library_groups([root])
    if not groups or any(str(Path(p).resolve()) not in groups for p in files):
        raise BadInputError(root, "needs a manifest.csv naming each file's kit (as `audiogen data drums` writes)")
    file_kits = [groups[str(Path(p).resolve())][0] for p in files]
    all_kits = sorted(set(file_kits))
    unknown = sorted(set(kits or []) - set(all_kits))
    if unknown:
        raise AudiogenError(f"unknown kit(s) {', '.join(unknown)}; the library has {', '.join(all_kits)}")
    folds = ["+".join(group) for group in fold_groups(files, file_kits)]
    if len(folds) < 2:
        found = f"{len(all_kits)} kit ({all_kits[0]})" if len(all_kits) == 1 else \
            f"{len(all_kits)} kits sharing recordings ({', '.join(all_kits)}: one fold)"
        raise BadInputError(root, f"leaving one kit out needs at least two kits to train and test on; "
                                  f"found {found}")
    chosen = [f for f in folds if not kits or set(f.split("+")) & set(kits)]
    results: dict[str, dict] = {}
    todo = []
    for kit in chosen:
        done = Path(out_dir) / _safe(kit) / FOLD_NAME
        if done.is_file():
            saved = json.loads(done.read_text())
            if saved.get("steps") == steps and saved.get("k") == k:
                results[kit] = saved
                if on_fold:
                    on_fold(saved)
                continue
        todo.append(kit)
    plain = asdict(config)
    if jobs <= 1:
        for kit in todo:
            results[kit] = run_fold(str(root), kit, str(out_dir), plain, steps, k, threads=1)
            if on_fold:
                on_fold(results[kit])
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(run_fold, str(root), kit, str(out_dir), plain, steps, k): kit for kit in todo}
            from concurrent.futures import as_completed

            for future in as_completed(futures):
                result = future.result()
                results[result["kit"]] = result
                if on_fold:
                    on_fold(result)
    return summarize(results)


def summarize(results: dict[str, dict]) -> dict:
    """Means over kits (each kit weighs the same) and pooled over all held-out sounds."""
    folds = [results[k] for k in sorted(results)]
    scored = [f for f in folds if f["six_scored"]]

    def mean(key: str, rows: list[dict]) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return float(np.mean(values)) if values else None

    def pooled(key: str, weight: str) -> float | None:
        pairs = [(r[key], r[weight]) for r in folds if r.get(key) is not None and r[weight]]
        total = sum(w for _, w in pairs)
        return float(sum(v * w for v, w in pairs) / total) if total else None

    per_class: dict[str, list[int]] = {}
    for f in folds:
        for name, entry in f["report"]["per_class"].items():
            if entry["count"]:
                hit = round(entry["recall"] * entry["count"])
                got = per_class.setdefault(name, [0, 0])
                got[0] += hit
                got[1] += entry["count"]
    return {
        "kits": len(folds), "kits_scored": len(scored),
        "mean_accuracy": mean("accuracy", scored), "mean_accuracy_within_six": mean("accuracy_within_six", scored),
        "pooled_accuracy": pooled("accuracy", "six_scored"),
        "mean_precision_six": mean("precision_six", scored), "pooled_precision_six": pooled("precision_six", "six_scored"),
        "other_recall_pooled": pooled("other_recall", "other_scored"),
        "recall_per_class": {name: {"recall": hit / count, "count": count} for name, (hit, count) in sorted(per_class.items())},
        "folds": folds,
    }
