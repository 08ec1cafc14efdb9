"""Exact nearest neighbours by Euclidean distance over float16 vectors, by one matrix product.

`vectors` (N, D) float16 may be a memory map; `norms` (N,) float32 holds each row's squared
length (computed from the float16 values). The product runs in float16 with float32
accumulation (torch's CPU kernel), then the candidates are re-scored in float32: a row can only
displace a candidate when its float16 score is within the product's error bound
(ERROR_FRACTION * |x| * |q|), and every such row is re-scored, so the top k are exact.
"""

from __future__ import annotations

import numpy as np
import torch

ERROR_FRACTION = 2.0 ** -10  # twice the worst error measured for float16 output of a float32-accumulated product


def _exact_distances(vectors: torch.Tensor, rows: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances of vectors[rows] to `query`, in float32."""
    return (vectors[rows].float() - query).square().sum(dim=1)


def top_k(vectors: torch.Tensor, norms: torch.Tensor, query: torch.Tensor, k: int, *,
          exclude: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest to `query`: vectors (N, D) float16, norms (N,) float32, query (D,) ->
    (rows (k',) int64, Euclidean distances (k',) float32), nearest first; k' = min(k, rows allowed).

    `exclude`: (N,) bool, True for rows that may not be returned (the query itself, other classes).
    Ties are broken by row number.
    """
    query = query.float()
    n = vectors.shape[0]
    allowed = n - (int(exclude.sum()) if exclude is not None else 0)
    k = min(k, allowed)
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    dots = torch.mv(vectors, query.to(vectors.dtype)).float()
    q2 = float(query.square().sum())
    approx = torch.add(norms, dots, alpha=-2.0)  # |x|^2 - 2 x.q: the distance less |q|^2, ranked the same
    if exclude is not None:
        approx.masked_fill_(exclude, float("inf"))
    slack = 2.0 * ERROR_FRACTION * float(norms.max().sqrt()) * q2 ** 0.5  # bound on the error of 2 x.q
    width = min(allowed, max(4 * k, k + 64))
    cand_d, cand = torch.topk(approx, width, largest=False, sorted=True)
    exact = _exact_distances(vectors, cand, query)
    kth = float(torch.topk(exact, k, largest=False).values[-1]) - q2  # on the approx scale
    if width < allowed and float(cand_d[-1]) - 2 * slack < kth:
        # Rows outside the candidates might still beat the k-th: re-score every row that could.
        cand = torch.nonzero(approx <= kth + 2 * slack).flatten()
        exact = _exact_distances(vectors, cand, query)
    order = np.lexsort((cand.numpy(), exact.numpy()))[:k]
    return cand.numpy()[order], np.sqrt(exact.numpy()[order].clip(min=0.0))
