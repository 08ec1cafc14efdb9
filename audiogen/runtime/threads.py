"""How many CPU threads torch (and the BLAS under NumPy) use: `--threads N` on any command,
else $AUDIOGEN_THREADS, else a default that does not fight other work on the machine.

Measured on a 2-core machine with only one core free (benchmarks/RESULTS.md, "CPU threads"): two
threads ran 1.7x slower than one (3-4x in the robustness audit). The default is therefore the
number of cores this process may use minus the machine's recent load (at least 1), at most 8.
"""

from __future__ import annotations

import os
import sys

ENV = "AUDIOGEN_THREADS"
MAX_DEFAULT = 8
# Read by OpenMP/MKL/OpenBLAS when they start: set before torch or NumPy is imported.
_LIBRARY_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Usable cores minus the 1-minute load average (rounded), clamped to 1..8."""
    cores = usable_cores()
    try:
        busy = int(round(os.getloadavg()[0]))
    except (AttributeError, OSError):
        busy = 0
    return max(1, min(MAX_DEFAULT, cores - busy))


def threads_in_use() -> int:
    """The thread count this command chose (`--threads`, $AUDIOGEN_THREADS or the default): the
    ceiling for worker processes, so `--threads 1` keeps a command on one core."""
    value = os.environ.get(ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else default_threads()


def ignore_sigint() -> None:
    """Pool initializer: Ctrl-C is the parent's to handle (it stops the pool); a worker that took
    it too would print its own traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parse_threads(text: str, where: str) -> int:
    """A thread count >= 1 from the command line or the environment; AudiogenError otherwise."""
    from audiogen.errors import AudiogenError

    try:
        value = int(text)
    except ValueError:
        raise AudiogenError(f"{where} {text!r}: expected a whole number of threads (1 or more)") from None
    if value < 1:
        raise AudiogenError(f"{where} {value}: must be at least 1")
    return value


def take_threads_option(args: list[str]) -> tuple[list[str], str | None]:
    """(args without `--threads N` / `--threads=N`, the value given or None); any position."""
    rest, value = [], None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--threads":
            if i + 1 >= len(args):
                from audiogen.errors import AudiogenError

                raise AudiogenError("--threads: expected a number of threads")
            value = args[i + 1]
            i += 2
            continue
        if arg.startswith("--threads="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return rest, value


def choose_threads(option: str | None) -> tuple[int, str]:
    """(threads, where the number came from: "--threads", "$AUDIOGEN_THREADS", "$OMP_NUM_THREADS"
    or "default")."""
    if option is not None:
        return parse_threads(option, "--threads"), "--threads"
    if os.environ.get(ENV):
        return parse_threads(os.environ[ENV], f"${ENV}"), f"${ENV}"
    if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
        return int(os.environ["OMP_NUM_THREADS"]), "$OMP_NUM_THREADS"
    return default_threads(), "default"


def apply_threads(threads: int) -> None:
    """Use `threads` CPU threads from now on (before or after torch is imported)."""
    for name in _LIBRARY_VARIABLES:
        os.environ[name] = str(threads)
    os.environ[ENV] = str(threads)  # subprocesses (data-loading workers, folds) follow
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
