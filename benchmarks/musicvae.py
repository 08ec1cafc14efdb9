"""MusicVAE speed: sampling 1,000 2-bar melodies, and training steps per second of each config.

Sampling times `audiogen.musicvae.generate.decode` on 1,000 prior codes at temperature 0.5 in one
batch, against the same melodies decoded one at a time (the reference, as a loop over
`music_vae_generate`-style single calls would do). Training times full optimiser steps
(`vae_losses` + backward + Adam) at each config's batch size on random windows, after warm-up.

    python benchmarks/musicvae.py                       # bundled model, CPU
    python benchmarks/musicvae.py --device cuda --configs 2bar-paper 16bar-paper
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from audiogen.musicvae.generate import decode
from audiogen.musicvae.prior import latent_codes
from audiogen.musicvae.load import load_musicvae_model
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.train import CONFIGS, model_config, sampling_probability, vae_losses
from audiogen.runtime.device import resolve_device
from audiogen.runtime.seeding import make_generator


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_sampling(model: MusicVAE, num: int, device: torch.device, repeats: int = 3) -> list[float]:
    generator = make_generator(0, device)
    z = latent_codes(num, model.config.latent, generator, device, prior="standard")
    decode(model, z[:8], generator=generator)  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        began = time.perf_counter()
        decode(model, z, temperature=0.5, generator=generator)
        _sync(device)
        times.append(time.perf_counter() - began)
    return times


def time_one_at_a_time(model: MusicVAE, num: int, device: torch.device) -> float:
    generator = make_generator(0, device)
    z = latent_codes(num, model.config.latent, generator, device, prior="standard")
    _sync(device)
    began = time.perf_counter()
    for row in z:
        decode(model, row[None], temperature=0.5, generator=generator)
    _sync(device)
    return time.perf_counter() - began


def time_training(name: str, device: torch.device, steps: int, warmup: int = 3) -> tuple[float, int]:
    config = CONFIGS[name]
    torch.manual_seed(0)
    model = MusicVAE(model_config(config)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    x = torch.randint(0, 90, (config.batch_size, config.bars * 16), device=device)
    probability = sampling_probability(config, 10 ** 6)  # the schedule's ceiling: the slowest case
    for i in range(warmup + steps):
        if i == warmup:
            _sync(device)
            began = time.perf_counter()
        losses = vae_losses(model, x, beta=0.2, free_bits=config.free_bits, sample_probability=probability)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        optimizer.step()
    _sync(device)
    return steps / (time.perf_counter() - began), config.batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="2-bar model file (default: the bundled one)")
    parser.add_argument("--num", "-n", type=int, default=1000, help="melodies to sample")
    parser.add_argument("--reference-num", type=int, default=200,
                        help="melodies decoded one at a time for the reference (rate extrapolated)")
    parser.add_argument("--configs", nargs="*", default=["2bar", "16bar", "16bar-flat"])
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--device", default="cpu", help="auto|cpu|cuda|cuda:N|mps")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    loaded = load_musicvae_model(args.model, device)
    print(f"model {loaded.path} ({sum(p.numel() for p in loaded.model.parameters()):,} parameters); "
          f"device {device}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    times = time_sampling(loaded.model, args.num, device)
    single = time_one_at_a_time(loaded.model, args.reference_num, device) * args.num / args.reference_num
    best = min(times)
    print(f"sample {args.num} melodies of {loaded.bars} bars: " + " / ".join(f"{t:.2f} s" for t in times)
          + f" ({args.num / best:,.0f} melodies/s); one at a time: {single:.1f} s (extrapolated from "
          f"{args.reference_num}); batched is {single / best:.0f}x faster")
    for name in args.configs:
        rate, batch = time_training(name, device, args.train_steps)
        print(f"train {name:12s} batch {batch:4d}: {rate:6.2f} steps/s = {rate * batch:8.0f} windows/s")


if __name__ == "__main__":
    main()
