"""Generating notes with a trained GANSynth: latents + pitches -> spectrogram images -> 16 kHz waves."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from audiogen.errors import AudiogenError
from audiogen.gansynth.data import images_to_waves, upsample_to_full

PEAK = 0.99
# Every note ends with a raised-cosine fade over its last 0.5 s: the generator's last frames carry
# a burst that builds from about 3.65 s (27 of the 36 grid notes clicked; a 0.1-s fade left 5:
# docs/design.md §5).
END_FADE_S = 0.5
# The window a note's level is read over when notes are made equally loud (the part of a note a
# melody plays; a 4-s note's tail would favour notes that ring longer).
LEVEL_WINDOW_S = (0.0, 0.5)


def prior_latents(n: int, latent: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, latent) draws from N(0, I) (on the CPU, so a seed gives the same notes on any device)."""
    return torch.randn(n, latent, generator=generator)


def note_latents(num: int, pitches: list[int], latent: int, *, same_latent: bool, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents and pitches for `num` notes at each pitch, ordered pitch by pitch:
    (len(pitches) * num, latent), (len(pitches) * num,). With `same_latent` note i of every pitch
    shares latent i (one timbre across pitches); else every note draws its own."""
    if same_latent:
        z = prior_latents(num, latent, generator=generator).repeat(len(pitches), 1)
    else:
        z = prior_latents(num * len(pitches), latent, generator=generator)
    return z * temperature, torch.tensor([p for p in pitches for _ in range(num)], dtype=torch.long)


def generate_images(bundle, z: torch.Tensor, pitches: torch.Tensor) -> torch.Tensor:
    """z: (B, latent), pitches: (B,) MIDI numbers within the model's range -> (B, 2, frames, bins)
    full-resolution images (a model stopped before the top level is upsampled)."""
    low, _ = bundle.pitch_range
    config = bundle.config
    onehot = F.one_hot((pitches - low).long(), config.pitches).float()
    with torch.no_grad():
        images = bundle.generator(z.to(bundle.device), onehot.to(bundle.device), bundle.level, bundle.alpha)
    return upsample_to_full(images.float(), bundle.level, len(config.channels))


def generate_notes(bundle, z: torch.Tensor, pitches: torch.Tensor, *, batch: int = 64,
                   on_notes=None, fade: bool = True) -> torch.Tensor:
    """z: (B, latent), pitches: (B,) MIDI -> (B, 64000) float32 waves at 16 kHz on the CPU, in chunks.

    Each note ends with END_FADE_S of raised-cosine fade (`fade=False`: the generator's own end,
    for measures that compare notes with real ones). A note whose peak would exceed 0.99 is
    scaled down to that peak rather than clipped later.
    `on_notes(n)` is called after each chunk of n notes (a progress bar).
    """
    out = []
    for start in range(0, z.shape[0], batch):
        images = generate_images(bundle, z[start:start + batch], pitches[start:start + batch])
        with torch.no_grad():
            waves = images_to_waves(images, bundle.spec, mel=bundle.config.mel, norm=bundle.norm)
            if fade:
                waves = waves * end_fade(waves.shape[-1], bundle.sample_rate, device=waves.device)
            peak = waves.abs().amax(dim=1, keepdim=True)
            out.append((waves * (PEAK / peak.clamp_min(PEAK))).cpu())
        if on_notes is not None:
            on_notes(len(waves))
    return torch.cat(out) if out else torch.zeros(0, bundle.spec.audio_length)


def end_fade(length: int, sample_rate: int, *, device=None) -> torch.Tensor:
    """(length,) gain: 1, then a raised-cosine fade to 0 over the last END_FADE_S seconds."""
    n = min(length, int(END_FADE_S * sample_rate))
    gain = torch.ones(length, device=device)
    gain[length - n:] = 0.5 * (1 + torch.cos(torch.linspace(0, torch.pi, n, device=device)))
    return gain


def equal_loudness(waves: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(B, samples) -> the same notes scaled to one RMS level over LEVEL_WINDOW_S (the loudest
    note's peak at PEAK): each pitch is normalised against the model's own loudness at that pitch,
    so equal velocities play equally loud. Silent notes stay silent."""
    a, b = (int(t * sample_rate) for t in LEVEL_WINDOW_S)
    rms = waves[:, a:b].double().square().mean(dim=1).sqrt()
    audible = rms > 1e-7
    scale = torch.where(audible, 1.0 / rms.clamp_min(1e-7), torch.zeros_like(rms))
    out = waves.double() * scale[:, None]
    peak = float(out.abs().max()) if out.numel() else 0.0
    return (out * (PEAK / peak if peak > 0 else 1.0)).float()


def latent_from_seed(seed: int, latent: int) -> torch.Tensor:
    """The (latent,) prior draw that `--rng-seed seed` gives a single note."""
    from audiogen.runtime.seeding import make_generator

    return prior_latents(1, latent, generator=make_generator(seed))[0]


def project_note(bundle, wave: torch.Tensor, pitch: int, *, steps: int = 200, lr: float = 0.05,
                 if_weight: float = 0.1, on_step=None) -> tuple[torch.Tensor, list[float]]:
    """Find a latent whose note at `pitch` matches a real note (GAN inversion by optimisation).

    wave: (64000,) at 16 kHz. Starts from the prior's mean (the zero latent) and runs Adam on the
    mean absolute difference of the images at the model's level, IF weighted by `if_weight`.
    Returns (z (latent,) on the CPU, loss after each step with the starting loss first).
    `on_step()` is called after each step (a progress bar).
    """
    from audiogen.gansynth.data import downsample_to_level, waves_to_images

    config, device = bundle.config, bundle.device
    levels = len(config.channels)
    with torch.no_grad():
        target = downsample_to_level(waves_to_images(wave.reshape(1, -1).to(device), bundle.spec, mel=config.mel,
                                                     norm=bundle.norm), bundle.level, levels)
    onehot = F.one_hot(torch.tensor([pitch - config.pitch_min], device=device), config.pitches).float()
    z = torch.zeros(1, config.latent, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([z], lr=lr)
    weights = torch.tensor([1.0, if_weight], device=device).view(1, 2, 1, 1)
    bundle.generator.requires_grad_(False)
    losses = []
    try:
        for step in range(steps + 1):
            image = bundle.generator(z, onehot, bundle.level, bundle.alpha)
            loss = ((image - target).abs() * weights).mean()
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]) or not bool(torch.isfinite(z).all()):
                raise AudiogenError(f"the search for the latent diverged at step {step} (loss {losses[-1]:.4g}); "
                                    f"nothing was written: try a lower --lr than {lr:g}")
            if step == steps:
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if on_step is not None:
                on_step()
    finally:
        bundle.generator.requires_grad_(True)
    # The generator pixel-normalises z, so only its direction counts; the latent handed back is put
    # on the prior's typical sphere (rms 1), where slerp and the other tools expect it, however far
    # a large --lr carried it.
    z = z.detach()[0]
    z = z / z.abs().max().clamp(min=1e-30)  # first to at most 1: squaring 1e30 would overflow
    return (z / z.square().mean().sqrt().clamp(min=1e-12)).cpu(), losses
