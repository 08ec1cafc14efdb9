"""Timbre translation speed: seconds of audio translated per second with the bundled model.

A 60-second synthetic melody (16 kHz) is translated by `translate_wave` (peak normalisation,
analysis, the U-Net in 2-second chunks cross-faded, the limiter, the exact inverse), best of
`--repeats`. Reference, in the same run: the representation's round trip alone (`encode` +
`decode`), so the ratio is what the network costs on top of the spectral core.

    python benchmarks/translate.py [--seconds 60] [--repeats 3] [--threads 1] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch


def melody(seconds: float, sample_rate: int = 16000) -> torch.Tensor:
    rng = np.random.default_rng(0)
    n = int(0.25 * sample_rate)
    t = np.arange(n) / sample_rate
    notes = []
    for pitch in rng.integers(62, 86, size=int(seconds / 0.25)):
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 10) if k * f0 < sample_rate / 2)
        notes.append(tone * np.exp(-t / 0.1))
    wave = np.concatenate(notes)
    return torch.from_numpy((0.9 * wave / np.abs(wave).max()).astype(np.float32))


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    from audiogen.translate.data import decode, encode
    from audiogen.translate.generate import translate_wave
    from audiogen.translate.load import load_translate_model

    model = load_translate_model(None, args.device)
    wave = melody(args.seconds).to(args.device)
    with torch.no_grad():
        translate_wave(model, wave[:32000])  # warm-up
        network = best(lambda: translate_wave(model, wave), args.repeats)
        core = best(lambda: decode(encode(wave, model.rep), model.rep, wave.shape[-1]), args.repeats)
    result = {"machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
                         f"torch {torch.__version__}, {args.device}",
              "audio_seconds": args.seconds, "translate_s": round(network, 3),
              "realtime_factor": round(args.seconds / network, 1),
              "round_trip_only_s": round(core, 3), "ratio_to_round_trip": round(network / core, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
