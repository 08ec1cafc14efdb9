"""Mixed precision: which autocast dtype a device gets for `--precision auto|bf16|fp32`."""

from __future__ import annotations

import contextlib

import torch

from audiogen.errors import AudiogenError

PRECISIONS = ("auto", "bf16", "fp32")


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype for `precision` on `device`, or None for plain float32.

    auto: bfloat16 on CUDA GPUs that support it (Ampere and newer), else float32 (CPUs without
    bf16 units run it slower than float32). bf16 where the device cannot: AudiogenError.
    """
    if precision not in PRECISIONS:
        raise AudiogenError(f"--precision {precision}: expected one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return None
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if precision == "auto":
        return torch.bfloat16 if cuda_bf16 else None
    if device.type == "cuda" and not cuda_bf16:
        raise AudiogenError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support")
    return torch.bfloat16


def autocast(device: torch.device, dtype: torch.dtype | None):
    """A context running eligible ops in `dtype` on `device`; does nothing when dtype is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
