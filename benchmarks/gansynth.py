"""GANSynth speed: training images/s at every resolution, and notes/s of generation.

Training: `gan_step` (one D update with the gradient penalty, one G update, the EMA) at each
level, stable (alpha 1), on synthetic 4-s waves turned into IF-Mel images on the device each
step, as in training (the STFT, mel projection and downsampling are counted). After `--warmup`
steps, `--steps` steps are timed with the device synchronised. The whole 13-stage schedule's
wall time is extrapolated from the per-level rates (stage k runs at level (k + 1) // 2; fade
stages are counted at their level's stable rate). fp32, and bf16 autocast where the device has it.

Generation: `-n` notes from the EMA-generator's architecture (random weights: speed does not
depend on them) to 16 kHz waves, the inverse IF-Mel transform included, in batches of 64.
Rendering: a 1-minute, 150-note, 2-voice piece played with one latent, and with the latent gliding
every 2 s (one generated note per pitch and latent position).

    python benchmarks/gansynth.py                      # full config on a GPU, small on a CPU
    python benchmarks/gansynth.py --config full --device cuda --compile
    python benchmarks/gansynth.py --config small --device cpu --steps 5
    python benchmarks/gansynth.py --config cpu --device cpu --steps 5   # the bundled model's config
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace

import torch


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_rates(config, device: torch.device, amp_dtype, *, steps: int, warmup: int, levels: list[int],
                compile: bool = False) -> dict[int, float]:
    """{level: images/s} of full training steps at each level."""
    from audiogen.gansynth.data import downsample_to_level, waves_to_images
    from audiogen.gansynth.schedule import Phase
    from audiogen.gansynth.train import build_nets, make_optimizers, normalizer, spectral_config, step_noise

    torch.manual_seed(0)
    nets = build_nets(config, device, compile=compile)
    g_opt, d_opt = make_optimizers(nets, config)
    spec, norm, n_levels = spectral_config(config), normalizer(config), len(config.channels)
    hist = torch.ones(config.pitches, dtype=torch.float64)
    waves = (torch.rand(config.batch_size, spec.audio_length, device=device) - 0.5) * 0.2
    pitch = torch.randint(0, config.pitches, (config.batch_size,), device=device)
    from audiogen.gansynth.train import gan_step

    rates = {}
    for level in levels:
        phase = Phase(stage=2 * level, level=level, alpha=1.0)
        for i in range(warmup + steps):
            if i == warmup:
                _sync(device)
                t0 = time.perf_counter()
            with torch.no_grad():
                reals = downsample_to_level(waves_to_images(waves, spec, mel=config.mel, norm=norm), level, n_levels)
            noise = step_noise(i, config, hist, slice(None), device)
            gan_step(nets, g_opt, d_opt, reals, pitch, noise, phase, config, amp_dtype=amp_dtype)
        _sync(device)
        rates[level] = steps * config.batch_size / (time.perf_counter() - t0)
    return rates


def schedule_hours(config, rates: dict[int, float]) -> float:
    """Extrapolated wall time of the whole schedule from per-level rates."""
    from audiogen.gansynth.schedule import stage_lengths
    from audiogen.gansynth.train import stage_plan

    lengths = stage_lengths(len(config.channels), stage_plan(config))
    return sum(images / rates[(k + 1) // 2] for k, images in enumerate(lengths)) / 3600


def generation_rate(config, device: torch.device, n: int) -> float:
    """Notes/s: latents -> EMA generator -> IF-Mel inverse -> waves on the CPU."""
    from audiogen.gansynth.generate import generate_notes
    from audiogen.gansynth.load import GANSynthModel
    from audiogen.gansynth.model import Generator
    from audiogen.gansynth.train import model_config, normalizer, spectral_config

    levels = len(config.channels)
    g = Generator(model_config(config)).to(device).eval()
    bundle = GANSynthModel(g, None, "", config, {}, spectral_config(config), normalizer(config), levels - 1, 1.0)
    z = torch.randn(n, config.latent)
    pitches = torch.randint(config.pitch_min, config.pitch_max + 1, (n,))
    generate_notes(bundle, z[:min(n, 8)], pitches[:min(n, 8)])  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    generate_notes(bundle, z, pitches)
    _sync(device)
    return n / (time.perf_counter() - t0)


def render_seconds(config, device: torch.device, interpolate_every: float | None) -> tuple[float, dict]:
    """Seconds to render a 1-minute, 2-voice piece (eighth notes at 120 bpm over two octaves plus
    held bass notes: 150 notes) with a random-weight model of `config`."""
    from audiogen.gansynth.load import GANSynthModel
    from audiogen.gansynth.model import Generator
    from audiogen.gansynth.render import MidiNote, render_midi
    from audiogen.gansynth.train import model_config, normalizer, spectral_config

    levels = len(config.channels)
    g = Generator(model_config(config)).to(device).eval()
    bundle = GANSynthModel(g, None, "", config, {}, spectral_config(config), normalizer(config), levels - 1, 1.0)
    scale = [0, 2, 4, 5, 7, 9, 11]
    notes = [MidiNote(i * 0.5, i * 0.5 + 0.45, 60 + 12 * (i // 7 % 2) + scale[i % 7], 90) for i in range(120)]
    notes += [MidiNote(t * 2.0, t * 2.0 + 1.9, 36 + scale[t % 7], 70) for t in range(30)]
    anchors = torch.randn(40, config.latent)
    _sync(device)
    t0 = time.perf_counter()
    _, info = render_midi(bundle, notes, anchors, interpolate_every=interpolate_every)
    _sync(device)
    return time.perf_counter() - t0, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=None, choices=["full", "small", "cpu"],
                        help="default: full on a GPU, small on a CPU (the full config runs ~0.2 img/s on 2 cores)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--levels", default="all", help="comma-separated levels, or all")
    parser.add_argument("--notes", type=int, default=None, help="notes to generate (default 2000 on GPU, 64 on CPU)")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from audiogen.gansynth.train import CONFIGS
    from audiogen.runtime.device import resolve_device

    device = resolve_device(args.device)
    args.config = args.config or ("full" if device.type == "cuda" else "small")
    config = CONFIGS[args.config]
    if args.batch_size:
        config = replace(config, batch_size=args.batch_size)
    levels = list(range(len(config.channels))) if args.levels == "all" else [int(x) for x in args.levels.split(",")]
    precisions = {"fp32": None}
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        precisions["bf16"] = torch.bfloat16
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    result = {"config": args.config, "device": str(device), "machine": machine, "batch_size": config.batch_size,
              "torch": torch.__version__, "train_img_per_s": {}, "schedule_hours": {}}
    print(f"GANSynth {args.config} on {machine} (torch {torch.__version__}), batch {config.batch_size}")
    for name, dtype in precisions.items():
        rates = train_rates(config, device, dtype, steps=args.steps, warmup=args.warmup, levels=levels,
                            compile=args.compile)
        result["train_img_per_s"][name] = {str(k): round(v, 1) for k, v in rates.items()}
        line = ", ".join(f"L{k} {v:.3g}" for k, v in rates.items())
        print(f"train {name}: img/s by level: {line}")
        if len(rates) == len(config.channels):
            hours = schedule_hours(config, rates)
            result["schedule_hours"][name] = round(hours, 2)
            from audiogen.gansynth.train import schedule_images

            print(f"  whole schedule ({schedule_images(config):,} images, {2 * len(config.channels) - 1} stages): "
                  f"{hours:.1f} h")
    n = args.notes or (2000 if device.type == "cuda" else 64)
    rate = generation_rate(config, device, n)
    result["generation_notes_per_s"] = round(rate, 1)
    print(f"generation: {rate:.1f} notes/s ({n} notes incl. the inverse to 16 kHz waves)")
    for every in (None, 2.0):
        seconds, info = render_seconds(config, device, every)
        key = "render_1min_s" + ("" if every is None else "_interpolating")
        result[key] = round(seconds, 2)
        print(f"render a 1-minute MIDI ({info['notes']} notes, {info['generated_notes']} generated"
              f"{', latent gliding every 2 s' if every else ', one latent'}): {seconds:.2f} s")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
