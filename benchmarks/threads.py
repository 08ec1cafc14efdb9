"""CPU threads: one command at --threads 1, 2 and the default, on an idle machine and beside a busy core.

    python benchmarks/threads.py [--tunes 300] [--repeats 2] [--spinners 0,1]

The job is `audiogen sample abc -n TUNES --rng-seed 0` (batched LSTM sampling: the command the
audit found 3-4x slower at two threads on a loaded machine). "busy" runs a pure-Python spin loop
in another process for the whole measurement (`--spinners 0,1`: each count a condition): a core
taken, as by a training job beside it.
Reported: the best wall time of `--repeats` runs per setting, and each setting's ratio to
--threads 1 in the same condition. Outputs are identical at every thread count (checked).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

CLI = [sys.executable, "-m", "audiogen"]


def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _run(threads: str | None, tunes: int, out: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AUDIOGEN_THREADS", "OMP_NUM_THREADS")}
    args = CLI + (["--threads", threads] if threads else []) + [
        "sample", "abc", "-n", str(tunes), "--rng-seed", "0", "--out", str(out), "--device", "cpu", "-q"]
    began = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - began
    return seconds, hashlib.sha256(out.read_bytes()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tunes", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--spinners", default="0,1", help="busy cores per condition, e.g. 0,1")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    digests = set()
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(c) for c in args.spinners.split(",")):
            stop = multiprocessing.Event()
            spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(count)]
            for spinner in spinners:
                spinner.start()
            if spinners:
                time.sleep(5)  # let the load average see them
            try:
                times = {}
                for threads in ("1", "2", None):
                    best = min(_run(threads, args.tunes, Path(tmp) / "t.abc")[0] for _ in range(args.repeats))
                    digests.add(_run(threads, 8, Path(tmp) / "d.abc")[1])
                    times[threads or "default"] = best
            finally:
                stop.set()
                for spinner in spinners:
                    spinner.join()
            ref = times["1"]
            print(f"{count} spinning core(s), load {os.getloadavg()[0]:.2f}: "
                  + ", ".join(f"--threads {k}: {v:.1f} s ({ref / v:.2f}x)" for k, v in times.items()))
    print("outputs identical at every thread count:", len(digests) == 1)


if __name__ == "__main__":
    main()
