"""Exact nearest neighbours by Euclidean distance over float16 vectors, by one matrix product.

`vectors` (N, D) float16; `norms` (N,) float32 holds each row's squared length (computed from
the float16 values). The product x.q runs in float16 with float32 accumulation (torch's CPU
kernel) and is rounded to float16, an error of at most 2^-11 |x.q| (plus a negligible
accumulation error). Each row's distance therefore has a lower bound that is never above the
true one; the rows with the smallest bounds are re-scored in float32, and any other row whose
bound does not exceed the k-th exact distance is re-scored too, so the top k are exact.
"""

from __future__ import annotations

import numpy as np
import torch

ERROR_FRACTION = 2.0 ** -10  # twice the rounding of a float16 result (2^-11), for the accumulation's share


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
    # Lower bound of |x - q|^2 - |q|^2 per row: |x|^2 - 2 x.q less twice the product's error bound,
    # less a float32 margin on |x|^2 + |q|^2.
    bound = torch.add(norms, dots, alpha=-2.0)
    bound -= dots.abs().mul_(2.0 * ERROR_FRACTION).add_(norms, alpha=1e-6).add_(1e-6 * (q2 + 1.0))
    if exclude is not None:
        bound.masked_fill_(exclude, float("inf"))
    width = min(allowed, max(4 * k, k + 64))
    cand_bound, cand = torch.topk(bound, width, largest=False, sorted=True)
    exact = _exact_distances(vectors, cand, query)
    kth = float(torch.topk(exact, k, largest=False).values[-1]) - q2  # on the bound's scale
    if width < allowed and float(cand_bound[-1]) <= kth:
        # Rows outside the candidates might still reach the k-th: re-score every row that could.
        cand = torch.nonzero(bound <= kth).flatten()
        exact = _exact_distances(vectors, cand, query)
    order = np.lexsort((cand.numpy(), exact.numpy()))[:k]
    return cand.numpy()[order], np.sqrt(exact.numpy()[order].clip(min=0.0))
