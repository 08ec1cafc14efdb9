"""Measures of SampleVAE: class accuracy (overall and per class) and retrieval precision@k."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def accuracy_report(predicted: np.ndarray, truth: np.ndarray, classes: Sequence[str]) -> dict:
    """predicted, truth: (N,) class indices (truth -1 = unlabelled, not scored) ->
    {"accuracy", "scored", "per_class": {name: {"recall", "count"}}, "confusion": [[...]]}."""
    known = truth >= 0
    predicted, truth = predicted[known], truth[known]
    per_class = {}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    for i, name in enumerate(classes):
        count = int((truth == i).sum())
        per_class[name] = {"recall": float(confusion[i, i] / count) if count else None, "count": count}
    return {"accuracy": float((predicted == truth).mean()) if len(truth) else None, "scored": int(len(truth)),
            "per_class": per_class, "confusion": confusion.tolist()}


def precision_at_k(query_labels: np.ndarray, neighbour_labels: np.ndarray) -> float:
    """query_labels: (Q,), neighbour_labels: (Q, k) -> the fraction of neighbours sharing the query's label."""
    if len(query_labels) == 0:
        return float("nan")
    return float((neighbour_labels == query_labels[:, None]).mean())


def nearest_labels(queries, library, library_labels: np.ndarray, k: int, *, exclude=None,
                   chunk: int = 1024) -> np.ndarray:
    """Labels of each query's k nearest library vectors (Euclidean): queries (Q, D), library (L, D)
    -> (Q, k). `exclude` (Q, L) bool marks pairs that may not match (the query itself, its velocity
    layers). Queries go `chunk` at a time, so memory stays at chunk x L distances."""
    import torch

    queries = torch.as_tensor(np.asarray(queries), dtype=torch.float32)
    library = torch.as_tensor(np.asarray(library), dtype=torch.float32)
    k = min(k, library.shape[0])
    rows = []
    for start in range(0, queries.shape[0], chunk):
        distances = torch.cdist(queries[start:start + chunk][None], library[None])[0]
        if exclude is not None:
            distances = distances.masked_fill(torch.as_tensor(np.asarray(exclude[start:start + chunk])), float("inf"))
        rows.append(torch.topk(distances, k, largest=False).indices.numpy())
    found = np.concatenate(rows) if rows else np.zeros((0, k), np.int64)
    return np.asarray(library_labels)[found]


def retrieval_report(query_labels: np.ndarray, neighbours: np.ndarray, classes: Sequence[str]) -> dict:
    """{"precision", "queries", "per_class": {name: precision}} for labelled queries (label >= 0)."""
    known = query_labels >= 0
    q, n = query_labels[known], neighbours[known]
    per_class = {name: (precision_at_k(q[q == i], n[q == i]) if (q == i).any() else None)
                 for i, name in enumerate(classes)}
    return {"precision": precision_at_k(q, n) if len(q) else None, "queries": int(len(q)), "per_class": per_class}


SIX = ("kick", "snare", "hihat", "tom", "cymbal", "clap")


def fold_scores(probs: np.ndarray, truth: np.ndarray, classes: Sequence[str], neighbours: np.ndarray) -> dict:
    """One held-out kit: accuracy over the six drum classes (argmax over all the model's classes,
    so calling a snare "other" is wrong), the same with the argmax restricted to the six, recall
    of "other", and precision@k of the queries of the six classes and of all."""
    six = [i for i, name in enumerate(classes) if name in SIX]
    other = classes.index("other") if "other" in classes else -1
    in_six = np.isin(truth, six)
    predicted = probs.argmax(1)
    restricted = np.asarray(six)[probs[:, six].argmax(1)] if six else predicted
    same = neighbours == truth[:, None]
    return {
        "six_scored": int(in_six.sum()),
        "accuracy": float((predicted[in_six] == truth[in_six]).mean()) if in_six.any() else None,
        "accuracy_within_six": float((restricted[in_six] == truth[in_six]).mean()) if in_six.any() else None,
        "other_scored": int((truth == other).sum()),
        "other_recall": float((predicted[truth == other] == other).mean()) if (truth == other).any() else None,
        "precision_six": float(same[in_six].mean()) if in_six.any() else None,
        "precision_all": float(same.mean()) if len(truth) else None,
        "report": accuracy_report(predicted, truth, classes),
    }
