"""Resumable training state: ``torch.save`` written atomically, ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors, plain containers and scalars only, so the restricted
(non-pickle-executing) loader accepts it. RNG states are converted to that form by
``rng_state()`` and back by ``set_rng_state()``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import torch

from audiogen.errors import BadInputError, load_failure_reason, require_file
from audiogen.runtime.atomic import atomic_output


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` to ``path`` (temp file + fsync + rename); returns the path.

    NumPy scalars and arrays (an LR lambda built on ``np.cos`` puts them in scheduler and
    optimizer states) become Python numbers and tensors, which the restricted loader accepts.
    """
    path = Path(path)
    state = _loadable(state)
    with atomic_output(path) as tmp:
        torch.save(state, tmp)
    return path


def _loadable(value):
    """`value` with NumPy scalars as Python numbers and NumPy arrays as tensors, recursively."""
    if isinstance(value, dict):
        return {k: _loadable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_loadable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_loadable(v) for v in value)
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "item"):
        import numpy as np

        return torch.from_numpy(np.array(value)) if isinstance(value, np.ndarray) else value.item()
    return value


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by ``save_checkpoint``; unreadable -> BadInputError naming it."""
    path = require_file(path, "a checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # zip, unpickler and storage errors all mean "not a usable checkpoint"
        raise BadInputError(path, f"not a readable checkpoint: {load_failure_reason(e)}") from None
    if not isinstance(state, dict):
        raise BadInputError(path, f"not a checkpoint: holds a {type(state).__name__}, not a dict")
    return state


def rng_state() -> dict:
    """Every global RNG state (python, numpy, torch CPU, each CUDA device) in weights_only form.

    CUDA states are captured only once CUDA has been initialised in this process; a run that
    never touched the GPU needs none (its CUDA generators still hold the seed).
    """
    version, internal, gauss_next = random.getstate()
    state: dict = {
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
        "torch": torch.get_rng_state(),
        # Only when CUDA is in use: asking for its state would otherwise initialise every GPU.
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }
    try:
        import numpy as np
    except ImportError:
        pass
    else:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        state["numpy"] = {
            "name": str(name),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
    return state


def set_rng_state(state: dict) -> None:
    """Restore what ``rng_state()`` captured. CUDA states are restored for the devices present."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(x) for x in py["state"].tolist()), py["gauss_next"]))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available():
        for i, s in enumerate(cuda[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s.cpu(), i)
    if "numpy" in state:
        import numpy as np

        n = state["numpy"]
        np.random.set_state(
            (n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
             n["cached_gaussian"])
        )
