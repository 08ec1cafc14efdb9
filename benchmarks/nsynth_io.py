"""NSynth data: rendering rate of `audiogen data nsynth`, and one epoch read from WAVs vs the cache.

Renders an NSynth-format set from the default GM SoundFont (or reads --data), then times, in the
same run:
  - WAVs:  what an uncached training epoch does, every note decoded from its WAV
           (`audiogen.data.nsynth.iter_notes`, float32 out);
  - cache: one shuffled epoch of `NSynthCache.batches` (float32 out, batches of 64);
and the one-off cost of building the cache. "warm": both reads run with the files in the page
cache (the second pass of each is timed), so the ratio is the decoding and per-file cost. "cold"
(Linux, root only): the page cache is dropped before each read, so the disk is read too, as in an
epoch over a set larger than memory (real NSynth: 289k notes, 37 GB as int16).

    python benchmarks/nsynth_io.py                       # renders 1,000 notes into a temp folder
    python benchmarks/nsynth_io.py --data nsynth-train/  # a real NSynth folder
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from audiogen.data.gm import PITCHED_PROGRAMS
from audiogen.data.nsynth import iter_notes
from audiogen.data.nsynth_cache import build_cache
from audiogen.data.nsynth_render import render_nsynth


def read_wavs(root: Path) -> tuple[int, float]:
    start = time.perf_counter()
    count = sum(1 for _ in iter_notes(root))
    return count, time.perf_counter() - start


def read_cache(cache) -> tuple[int, float]:
    start = time.perf_counter()
    count = 0
    for waves, labels in cache.batches(64, seed=1):
        count += len(waves)
    return count, time.perf_counter() - start


def drop_page_cache() -> bool:
    """Empty Linux's page cache (root only); False when not possible here."""
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an NSynth folder (default: render one)")
    parser.add_argument("--notes", type=int, default=1000, help="notes to render when --data is not given")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="audiogen-bench-"))
    try:
        root = args.data
        if root is None:
            root = workdir / "set"
            programs = PITCHED_PROGRAMS[:: max(1, len(PITCHED_PROGRAMS) * 61 * 5 // args.notes + 1)]
            per_program = max(1, args.notes // len(programs))
            pitches = range(24, 24 + min(61, -(-per_program // 5)))
            summary = render_nsynth(root, programs=programs, pitches=pitches)
            print(f"render: {summary['notes']} notes ({summary['silent_dropped']} silent dropped) in "
                  f"{summary['seconds']:.1f} s = {summary['notes_per_second']:.0f} notes/s "
                  f"(SoundFont {Path(summary['soundfont']).name}, {summary['jobs']} processes)")
        start = time.perf_counter()
        cache, info = build_cache(root, cache_root=workdir / "cache", rebuild=True)
        build = time.perf_counter() - start
        print(f"cache build: {len(cache)} notes in {build:.1f} s = {len(cache) / build:.0f} notes/s (once)")
        for mode in ("warm", "cold"):
            if mode == "warm":
                read_wavs(root)  # fill the page cache
            elif not drop_page_cache():
                print("cold: skipped (dropping the page cache needs root on Linux)")
                break
            n_wav, t_wav = read_wavs(root)
            if mode == "warm":
                read_cache(cache)
            elif not drop_page_cache():
                break
            n_cache, t_cache = read_cache(cache)
            assert n_wav == n_cache == len(cache), (n_wav, n_cache, len(cache))
            print(f"{mode}: epoch from WAVs {n_wav / t_wav:7.0f} notes/s, from the cache "
                  f"{n_cache / t_cache:7.0f} notes/s: ratio {t_wav / t_cache:.1f}x")
        print(f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
