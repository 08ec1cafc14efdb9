"""Latent directions that steer a GANSynth timbre (brighter, noisier, ...) at the same pitch,
found by measuring generated notes (docs/design.md §9).

`fit_directions_for` samples latents at several pitches, measures each note's timbre attributes
(`dsp.timbre`) and fits one direction per attribute with the pitch effect removed
(`runtime.latents.fit_directions`). `check_directions` moves fresh latents -2 and +2 along each
and counts, per note, whether the attribute moved the named way and whether pYIN still reads the
note within a semitone of its pitch at both ends; only directions that pass are `shipped`.
"""

from __future__ import annotations

import numpy as np
import torch

from audiogen.dsp.pitch import midi_to_hz
from audiogen.dsp.timbre import describe, measure_attributes, step_report

ATTRIBUTES = {  # name -> (unit, what "more" means)
    "brightness": ("harmonics", "a higher spectral centroid over f0"),
    "attack": ("ms", "a slower rise from onset to peak"),
    "decay": ("s", "a longer fall of 20 dB after the peak"),
    "noisiness": ("flatness", "a flatter, noisier spectrum"),
}
CHECK_PITCHES = (48, 60, 72)
PASS_SHARE = 0.9  # of notes that must move the named way, and keep their pitch at both ends


def measure_notes(waves: np.ndarray, pitches, sample_rate: int) -> dict[str, np.ndarray]:
    """(N, T) notes at MIDI `pitches` (N,) -> {attribute: (N,) values in its unit (NaN: not measured)}."""
    return measure_attributes(waves, sample_rate, midi_to_hz(np.asarray(pitches)))


def fit_directions_for(bundle, *, notes: int = 600, pitches=CHECK_PITCHES, seed: int = 0, on_notes=None) -> dict:
    """Directions of the bundle's generator: `notes` latents from N(0, I), spread over `pitches`,
    measured and fitted. -> {name: {"direction", "per_unit", "r2", "rows", "unit"}}."""
    from audiogen.gansynth.generate import generate_notes
    from audiogen.runtime.latents import fit_directions

    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(notes, bundle.config.latent, generator=generator)
    chosen = torch.tensor([pitches[i % len(pitches)] for i in range(notes)])
    waves = generate_notes(bundle, z.to(bundle.device), chosen.to(bundle.device), on_notes=on_notes).numpy()
    fitted = fit_directions(z, measure_notes(waves, chosen.numpy(), bundle.sample_rate), groups=chosen.numpy())
    return {name: {**entry, "unit": ATTRIBUTES[name][0]} for name, entry in fitted.items()}


def check_directions(bundle, directions: dict, *, latents: int = 50, pitches=CHECK_PITCHES, amount: float = 2.0,
                     seed: int = 1, pitch_check: bool = True) -> dict:
    """For each direction: `latents` fresh latents x `pitches`, moved -amount and +amount. ->
    {name: {"moved_share" (notes whose attribute rose from - to +), "median_change" (its unit),
    "moves_with" (median change of the other attributes and of the level, dB),
    "pitch_kept_share" (pYIN within a semitone at both ends; None without `pitch_check`),
    "pitch_kept_unmoved_share" (the same for the latents before they are moved), "notes", "shipped"}}."""
    from audiogen.dsp.pitch import semitone_error
    from audiogen.gansynth.generate import generate_notes
    from audiogen.gansynth.pitch_check import VOICED_SHARE, pyin_f0

    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(latents, bundle.config.latent, generator=generator)

    def pitch_kept(waves: np.ndarray, chosen: torch.Tensor) -> np.ndarray:
        f0, voiced = pyin_f0(waves, bundle.sample_rate)
        errors = np.abs(semitone_error(f0, chosen.numpy()))
        return (np.nan_to_num(errors, nan=99.0) <= 1.0) & (voiced >= VOICED_SHARE)

    unmoved = None
    if pitch_check:  # the model's own pitch on these latents: what a direction's figure compares with
        chosen = torch.tensor(list(pitches) * latents)
        waves = generate_notes(bundle, base.repeat_interleave(len(pitches), 0).to(bundle.device), chosen.to(bundle.device))
        unmoved = round(float(pitch_kept(waves.numpy(), chosen).mean()), 3)
    report = {}
    for name, entry in directions.items():
        unit = torch.tensor(entry["direction"], dtype=torch.float32)
        z = torch.cat([(base - amount * unit).repeat_interleave(len(pitches), 0),
                       (base + amount * unit).repeat_interleave(len(pitches), 0)])
        chosen = torch.tensor(list(pitches) * latents * 2)
        waves = generate_notes(bundle, z.to(bundle.device), chosen.to(bundle.device)).numpy()
        values = measure_attributes(waves, bundle.sample_rate, midi_to_hz(chosen.numpy()), level=True)
        half = len(waves) // 2
        moved = step_report(name, {k: v[:half] for k, v in values.items()}, {k: v[half:] for k, v in values.items()})
        kept = None
        if pitch_check:
            ok = pitch_kept(waves, chosen)
            kept = float((ok[:half] & ok[half:]).mean())
        report[name] = {**moved, "pitch_kept_share": None if kept is None else round(kept, 3),
                        "pitch_kept_unmoved_share": unmoved, "notes": int(half),
                        "shipped": moved["moved_share"] >= PASS_SHARE and (kept is None or kept >= PASS_SHARE)}
    return report


def fit_model_directions(model_path, out, *, notes: int = 900, latents: int = 50, device: str = "cpu",
                         on_notes=None) -> dict:
    """Fit, check and store the directions of the GANSynth model file `model_path` in a copy `out`
    (weights, config and record unchanged). Returns the stored {name: entry}."""
    from audiogen.gansynth.config import KIND
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.latents import save_directions

    bundle = load_gansynth_model(model_path, device)
    fitted = fit_directions_for(bundle, notes=notes, on_notes=on_notes)
    return save_directions(bundle.path, out, kind=KIND, fitted=fitted,
                           checked=check_directions(bundle, fitted, latents=latents))


def direction_grid(bundle, name: str, *, pitches=CHECK_PITCHES, steps=(-2.0, -1.0, 0.0, 1.0, 2.0),
                   seed: int = 7) -> list[list[dict]]:
    """One timbre (the latent of `seed`) at each of `pitches` (rows), stepped along direction `name`
    (columns): [[{"wave": (T,) tensor, "title": with the measured attribute}]] for a picture."""
    from audiogen.gansynth.generate import generate_notes, latent_from_seed
    from audiogen.runtime.latents import apply_directions, parse_direction_amounts, stored_directions

    directions = stored_directions(bundle)
    if name not in directions:  # a picture may show a direction that did not pass its check, to see why
        parse_direction_amounts([f"{name}=1"], directions, where=str(bundle.path))
    base = latent_from_seed(seed, bundle.config.latent)
    z = torch.stack([apply_directions(base, directions, [(name, a)]) for _ in pitches for a in steps])
    chosen = torch.tensor([p for p in pitches for _ in steps])
    waves = generate_notes(bundle, z.to(bundle.device), chosen.to(bundle.device))
    values = measure_notes(waves.numpy(), chosen.numpy(), bundle.sample_rate)[name]
    unit, k = ATTRIBUTES[name][0], iter(range(len(values)))
    return [[{"wave": waves[i], "title": f"MIDI {pitch}, {name} {amount:+g}: {describe(values[i], unit)}"}
             for amount in steps for i in [next(k)]] for pitch in pitches]
