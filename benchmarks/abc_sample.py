"""ABC sampling rate: 1,000 tunes from the seed "X:1" at temperature 1.0, all in one batch.

Times `audiogen.abc.generate.sample_tunes` (priming, the shrinking batch, decoding; not loading
the model) twice in one run: drawing freely (the reference, `--free-meter`) and with the meter
mask (the default), and prints tunes/s, seconds, characters/s, how many tunes ended by themselves
(a tune cut at --max-chars costs the most steps) and how many scan, then the mask's cost as a ratio.

    python benchmarks/abc_sample.py --model runs/abc/model.safetensors
    python benchmarks/abc_sample.py --model M --num 1000 --threads 2 --device cpu
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from audiogen.abc.generate import sample_tunes
from audiogen.abc.load import load_abc_model
from audiogen.runtime.device import resolve_device
from audiogen.runtime.seeding import make_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="ABC model file (default: the bundled one)")
    parser.add_argument("--num", "-n", type=int, default=1000, help="tunes to sample")
    parser.add_argument("--seed", default="X:1", help="priming text")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--max-chars", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, help="rows per batch (default: all tunes at once)")
    parser.add_argument("--device", default="cpu", help="auto|cpu|cuda|cuda:N|mps")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--rng-seed", type=int, default=0)
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    abc_model = load_abc_model(args.model, device)
    parameters = sum(p.numel() for p in abc_model.model.parameters())
    print(f"model {abc_model.path} ({parameters:,} parameters, sha256 {abc_model.sha256[:12]}); "
          f"device {device}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    sample_tunes(abc_model, args.seed, 8, temperature=args.temperature, max_chars=50)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    from audiogen.notation.bars import scan_tune

    timings = {}
    for in_meter in (False, True):
        start = time.perf_counter()
        tunes = sample_tunes(abc_model, args.seed, args.num, temperature=args.temperature, max_chars=args.max_chars,
                             batch_size=args.batch_size, generator=make_generator(args.rng_seed, device),
                             in_meter=in_meter)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = timings[in_meter] = time.perf_counter() - start
        chars = sum(t.chars for t in tunes)
        ended = sum(t.ended for t in tunes)
        longest = max((t.chars for t in tunes), default=0)
        scanning = sum(scan_tune(t.text).scans for t in tunes)
        print(f"{'meter mask' if in_meter else 'free (reference)'}: {len(tunes)} tunes in {seconds:.1f} s = "
              f"{len(tunes) / seconds:.1f} tunes/s, {chars / seconds:,.0f} chars/s; "
              f"{ended} ended, {len(tunes) - ended} cut at --max-chars {args.max_chars}; "
              f"mean {chars / max(len(tunes), 1):.0f} chars, longest {longest}; {scanning} scan")
    print(f"meter mask / free: {timings[True] / timings[False]:.2f}x the time")


if __name__ == "__main__":
    main()
