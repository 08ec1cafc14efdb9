"""Where MusicVAE samples its latent codes from: N(0, I), or the aggregate posterior of its training
codes fitted as one full-covariance Gaussian and stored in the model file (docs/design.md §8).

A model trained with free bits keeps its codes far from N(0, I) (the bundled 16-bar model's KL is
near 800 nats), so codes drawn from N(0, I) land where the decoder never looked; codes drawn from
the fitted Gaussian land where the training tunes' codes lie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audiogen.errors import AudiogenError

PRIORS = ("fitted", "standard")
TENSOR_PREFIX = "prior."


@dataclass
class FittedPrior:
    """N(mean, scale_tril @ scale_tril.T): mean (Z,), scale_tril (Z, Z) lower triangular, float32."""

    mean: torch.Tensor
    scale_tril: torch.Tensor

    def sample(self, count: int, generator: torch.Generator, device: torch.device | str) -> torch.Tensor:
        """(count, Z) codes; the same generator state gives the same codes."""
        eps = torch.randn(count, len(self.mean), generator=generator, device=device)
        return self.mean.to(device) + eps @ self.scale_tril.to(device).T

    def tensors(self) -> dict[str, torch.Tensor]:
        """The model file's tensors of this prior (an export in float16 keeps about 3 digits: the
        sampled codes move by about 1e-3 of their spread)."""
        return {TENSOR_PREFIX + "mean": self.mean.float().cpu(), TENSOR_PREFIX + "scale_tril": self.scale_tril.float().cpu()}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> "FittedPrior | None":
        """The prior stored in a model file's tensors, or None when it has none."""
        mean, tril = tensors.get(TENSOR_PREFIX + "mean"), tensors.get(TENSOR_PREFIX + "scale_tril")
        if mean is None or tril is None:
            return None
        return cls(mean.float(), tril.float())


def fit_prior(mu: np.ndarray | torch.Tensor, sigma: np.ndarray | torch.Tensor) -> FittedPrior:
    """The Gaussian moment-matched to the aggregate posterior (1/N) sum_i N(mu_i, diag(sigma_i^2)).

    mu, sigma: (N, Z) encoder outputs of training windows, N > Z for a full-rank covariance (a
    small ridge keeps the factor defined otherwise). Covariance = Cov(mu) + mean(sigma^2) on the diagonal.
    """
    mu = torch.as_tensor(np.asarray(mu), dtype=torch.float64)
    sigma = torch.as_tensor(np.asarray(sigma), dtype=torch.float64)
    if mu.ndim != 2 or len(mu) < 2:
        raise AudiogenError("fitting the prior needs the codes of at least 2 training windows")
    mean = mu.mean(0)
    centred = mu - mean
    covariance = centred.T @ centred / (len(mu) - 1) + torch.diag(sigma.square().mean(0))
    ridge = 1e-6 * covariance.diagonal().mean()
    scale_tril = torch.linalg.cholesky(covariance + ridge * torch.eye(len(mean), dtype=covariance.dtype))
    return FittedPrior(mean.float(), scale_tril.float())


def check_prior(prior: str) -> str:
    """`prior` when it names one of PRIORS; else AudiogenError naming --prior."""
    if prior not in PRIORS:
        raise AudiogenError(f"--prior {prior!r}: expected one of {', '.join(PRIORS)}")
    return prior


def latent_codes(count: int, latent: int, generator: torch.Generator, device: torch.device | str, *,
                 prior: str = "fitted", fitted: FittedPrior | None = None) -> torch.Tensor:
    """`count` codes (count, latent) from the named prior: "fitted" (the model's stored Gaussian, or
    N(0, I) when the model file has none) or "standard" (N(0, I), the paper's)."""
    if check_prior(prior) == "fitted" and fitted is not None:
        return fitted.sample(count, generator, device)
    return torch.randn(count, latent, generator=generator, device=device)
