"""Bar-code distillation: a 2-bar model teaches a hierarchical 16-bar model's conductor what to say.

The 2-bar model's encoder turns the two bars k, k+1 into a code whose decoding begins with bar k
(0.95 of held-out 4/4 bar steps teacher-forced, when its decoder reads that code for one bar).
A warm-started bar decoder is that same decoder, so a conductor output equal to that code already
decodes bar k. The distillation loss asks each conductor output c_k (k < bars - 1) to be a likely
code of its bar pair under the 2-bar encoder q(z | bars k, k+1) = N(mu_k, sigma_k):

    L = 0.5 * sum over k, d of ((c_k,d - mu_k,d) / max(sigma_k,d, min_sigma))^2,

a dense regression target that trains the encoder and conductor far faster than the decoder's
cross entropy alone. The last bar has no pair and gets none. The teacher is frozen.
"""

from __future__ import annotations

import torch
from torch import nn

from audiogen.data.melody import SEGMENT_STEPS


def bar_pairs(events: torch.Tensor) -> torch.Tensor:
    """(B, bars * 16) events -> (B * (bars - 1), 32): every window of two consecutive bars, row by row."""
    b = events.shape[0]
    bars = events.reshape(b, -1, SEGMENT_STEPS)
    return torch.cat([bars[:, :-1], bars[:, 1:]], dim=2).reshape(-1, 2 * SEGMENT_STEPS)


@torch.no_grad()
def teacher_codes(teacher: nn.Module, events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The frozen 2-bar teacher's q(z | bars k, k+1): mu, sigma each (B, bars - 1, teacher latent)."""
    b = events.shape[0]
    mu, sigma = teacher.encode(bar_pairs(events))
    return mu.reshape(b, -1, mu.shape[-1]), sigma.reshape(b, -1, sigma.shape[-1])


def distill_loss(conditions: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor,
                 min_sigma: float = 0.1) -> torch.Tensor:
    """conditions (B, bars, C), mu and sigma (B, bars - 1, C) -> (B,) the loss of the module docstring."""
    error = (conditions[:, :-1] - mu) / sigma.clamp(min=min_sigma)
    return 0.5 * error.square().sum(dim=(1, 2))
