"""``--device auto|cpu|cuda|cuda:N|mps``: pick a torch device, or say in one line why not."""

from __future__ import annotations

import os
import re

import torch

from audiogen.errors import AudiogenError

_SPEC = re.compile(r"(auto|cpu|mps|cuda)(?::(\d+))?")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _no_cuda_reason() -> str:
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build"
    return f"torch {torch.__version__} sees no GPU"


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn a ``--device`` value into a usable ``torch.device``.

    ``auto`` picks CUDA, then MPS, then CPU. CUDA devices come back with an explicit index
    (``cuda`` -> ``cuda:0``, the current device) so ``tensor.device == device`` comparisons work.
    An unavailable or malformed spec raises AudiogenError naming the option and the problem.
    On CPU, denormal floats are flushed to zero (process-wide): iterative DSP such as
    Griffin-Lim otherwise slows down ~10x once values decay into the denormal range.
    """
    text = str(spec).strip().lower()
    m = _SPEC.fullmatch(text)
    if m is None or (m.group(2) is not None and m.group(1) != "cuda"):
        raise AudiogenError(f"--device {spec}: expected auto, cpu, cuda, cuda:N or mps")
    name, index = m.group(1), m.group(2)

    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif _mps_available():
            name = "mps"
        else:
            name = "cpu"

    if name == "cuda":
        if not torch.cuda.is_available():
            raise AudiogenError(
                f"--device {spec}: CUDA is not available on this machine ({_no_cuda_reason()})"
            )
        count = torch.cuda.device_count()
        i = torch.cuda.current_device() if index is None else int(index)
        if i >= count:
            raise AudiogenError(f"--device {spec}: only {count} CUDA device(s) present")
        return torch.device("cuda", i)
    if name == "mps":
        if not _mps_available():
            raise AudiogenError(f"--device {spec}: MPS is not available on this machine")
        return torch.device("mps")
    torch.set_flush_denormal(True)
    return torch.device("cpu")


def describe_devices() -> dict:
    """What this machine offers, for ``audiogen info`` and ``--json`` outputs.

    Keys: ``cuda`` (list of {index, name, total_memory_gib, capability "major.minor"}),
    ``cuda_available``, ``mps_available``, ``cpu_threads`` (torch intra-op threads),
    ``cpu_count`` (os.cpu_count()), ``torch`` (version string).
    """
    cuda = []
    cuda_available = torch.cuda.is_available()
    if cuda_available:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            cuda.append(
                {
                    "index": i,
                    "name": p.name,
                    "total_memory_gib": round(p.total_memory / 2**30, 2),
                    "capability": f"{p.major}.{p.minor}",
                }
            )
    return {
        "cuda": cuda,
        "cuda_available": cuda_available,
        "mps_available": _mps_available(),
        "cpu_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
    }
