"""One GANSynth timbre as an instrument a sampler plays: SoundFont 2 (`.sf2`) or SFZ.

One latent is held across the pitches (a sample every `every` semitones, each a 4-s note), the
notes are made equally loud (`equal_loudness`, as the renderer does) and scaled together so the
loudest peak sits at -1 dBFS; each sample plays the keys nearest its root, and the attack and
release are the renderer's, so FluidSynth playing the `.sf2` sounds like `render gansynth`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import torch

from audiogen.data.sf2 import SamplerZone, write_sf2
from audiogen.data.sfz import sample_folder, write_sfz
from audiogen.errors import AudiogenError, BadInputError
from audiogen.gansynth.render import ATTACK, RELEASE

FORMATS = (".sf2", ".sfz")
MAX_EVERY = 12


def instrument_keys(low: int, high: int, every: int) -> list[tuple[int, int, int]]:
    """(root, low key, high key) per sample: roots low, low + every, ... (high included), each
    playing the keys nearer to it than to its neighbours; together they cover low..high once."""
    if not 0 <= low <= high <= 127:
        raise AudiogenError(f"pitch range {low}-{high}: expected 0 <= LOW <= HIGH <= 127")
    if not 1 <= every <= MAX_EVERY:
        raise AudiogenError(f"--every {every}: expected 1-{MAX_EVERY} semitones between samples")
    roots = list(range(low, high + 1, every))
    if roots[-1] != high:
        roots.append(high)
    keys = []
    for i, root in enumerate(roots):
        lo = low if i == 0 else (roots[i - 1] + root) // 2 + 1
        hi = high if i == len(roots) - 1 else (root + roots[i + 1]) // 2
        keys.append((root, lo, hi))
    return keys


def instrument_zones(bundle, z: torch.Tensor, keys: list[tuple[int, int, int]], *, peak_dbfs: float = -1.0,
                     batch: int = 16, on_notes=None) -> list[SamplerZone]:
    """Generate one note per root with latent z (latent,) -> zones named `pitchNNN`, equally loud,
    the loudest peak at `peak_dbfs`."""
    from audiogen.dsp.loudness import scale_to_peak
    from audiogen.gansynth.generate import equal_loudness, generate_notes

    roots = torch.tensor([root for root, _, _ in keys])
    waves = generate_notes(bundle, z.reshape(1, -1).repeat(len(keys), 1), roots, batch=batch, on_notes=on_notes)
    waves = scale_to_peak(equal_loudness(waves, bundle.sample_rate), peak_dbfs).numpy()
    if not np.isfinite(waves).all():
        raise AudiogenError("the model made non-finite samples; nothing was written")
    return [SamplerZone(f"pitch{root:03d}", waves[i], bundle.sample_rate, root, lo, hi)
            for i, (root, lo, hi) in enumerate(keys)]


def check_destination(out: Path, force: bool) -> None:
    """Refuse an output format we cannot write, or an existing output (the `.sfz`'s sample folder
    included) without `force`, before any work."""
    if out.suffix.lower() not in FORMATS:
        raise BadInputError(out, "the instrument is written as .sf2 or .sfz; name the file NAME.sf2 or NAME.sfz")
    if out.is_dir():
        raise BadInputError(out, "is a folder; expected an .sf2 or .sfz file path")
    taken = [p for p in (out, sample_folder(out) if out.suffix.lower() == ".sfz" else None)
             if p is not None and p.exists() and (not p.is_dir() or any(p.iterdir()))]
    if taken and not force:
        raise BadInputError(taken[0], "already exists; use --force to replace it")
    if out.suffix.lower() == ".sfz" and sample_folder(out).exists() and not sample_folder(out).is_dir():
        raise BadInputError(sample_folder(out), "is a file; the .sfz keeps its samples in a folder of this name")


def write_instrument(out: Path, zones: list[SamplerZone], *, name: str, comment: str = "") -> list[Path]:
    """Write `zones` as `out` (.sf2, or .sfz with its sample folder beside it), all or nothing:
    the files are written under temporary names and put in place at the end; an interruption or
    a full disk leaves the destination as it was. Returns the paths written."""
    from audiogen.runtime.atomic import atomic_output, temp_name

    if out.suffix.lower() == ".sf2":
        with atomic_output(out) as tmp:
            write_sf2(tmp, zones, name=name, attack=ATTACK, release=RELEASE, comment=comment)
        return [out]
    folder = sample_folder(out)
    staging, old = temp_name(folder, ""), temp_name(folder, ".old")
    moved_old = placed = False
    try:
        staging.mkdir(parents=True)
        with atomic_output(out) as tmp:
            write_sfz(tmp, staging, zones, attack=ATTACK, release=RELEASE, comment=comment, folder_name=folder.name)
            if folder.exists():
                os.replace(folder, old)
                moved_old = True
            os.replace(staging, folder)
            placed = True
    except BaseException:
        if placed:
            shutil.rmtree(folder, ignore_errors=True)
        if moved_old:
            os.replace(old, folder)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return [out, folder]


def export_instrument(bundle, z: torch.Tensor, out: str | os.PathLike, *, low: int | None = None,
                      high: int | None = None, every: int = 1, force: bool = False, name: str | None = None,
                      comment: str = "", on_start=None, on_notes=None) -> dict:
    """Write GANSynth timbre `z` (latent,) as a multisampled instrument at `out` (.sf2 or .sfz).

    Samples every `every` semitones from `low` to `high` (default: the model's range, MIDI 24-84
    for the bundled model). AudiogenError/BadInputError (before any work) for a range outside the
    model's, an unknown format, a latent of the wrong size or an existing output without `force`.
    Returns {"out", "files", "samples", "keys": [low, high], "every", "roots"}."""
    out = Path(out)
    model_low, model_high = bundle.pitch_range
    low = model_low if low is None else low
    high = model_high if high is None else high
    keys = instrument_keys(low, high, every)
    if low < model_low or high > model_high:
        raise AudiogenError(f"pitch range {low}-{high} lies outside this model's range {model_low}-{model_high}")
    if tuple(z.shape) != (bundle.config.latent,):
        raise AudiogenError(f"the latent has shape {tuple(z.shape)}; this model's latents are ({bundle.config.latent},)")
    if not torch.isfinite(z).all():
        raise AudiogenError("the latent holds NaN or infinite values")
    check_destination(out, force)
    if on_start is not None:
        on_start(len(keys))
    zones = instrument_zones(bundle, z, keys, on_notes=on_notes)
    files = write_instrument(out, zones, name=name or out.stem, comment=comment)
    return {"out": str(out), "files": [str(f) for f in files], "samples": len(zones), "keys": [low, high],
            "every": every, "roots": [zone.root_key for zone in zones]}
