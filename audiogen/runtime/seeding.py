"""``--rng-seed``: seed every random number generator, or draw a fresh seed and report it."""

from __future__ import annotations

import os
import random

import torch

from audiogen.errors import AudiogenError

MAX_SEED = 2**31 - 1


def seed_everything(seed: int | None) -> int:
    """Seed Python ``random``, numpy's global RNG and torch (CPU and every CUDA device).

    ``None`` draws a fresh seed in [0, 2**31-1] from ``os.urandom``. Returns the seed used, so
    an output can record it and ``--rng-seed <that>`` reproduces the run. Seeds must lie in
    [0, 2**32-1] (numpy's limit); anything else raises AudiogenError.
    """
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & MAX_SEED
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise AudiogenError(f"--rng-seed {seed}: expected an integer from 0 to {2**32 - 1}")
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # numpy is optional for torch-only code paths
        pass
    else:
        np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds all CUDA devices (lazily if CUDA is not initialised)
    return seed


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed`` (independent of globals)."""
    g = torch.Generator(device=torch.device(device))
    g.manual_seed(int(seed))
    return g
