"""Latent directions that steer a SampleVAE sound (brighter, noisier, longer decay, ...), found by
measuring decoded sounds (docs/design.md §9); the drum counterpart of `gansynth.directions`.

Sounds are drawn from the prior and decoded; each is labelled by the class head's reading of
what it decodes to, and the directions are fitted with one intercept per class (a hat is
brighter than a kick: that is not what "brighter" should move), then made orthogonal to the
classes' mean latents (a brighter kick should stay a kick: on the bundled model this raised the
share of sounds the class head still reads as their class at -2 and +2 from 25% to 45%). The check moves fresh latents,
`per_class` of each class, -2 and +2 along each direction, and counts the sounds whose attribute
moved the named way and those the class head still reads as the same class at both ends.
Brightness is the centroid in Hz.
"""

from __future__ import annotations

import numpy as np
import torch

from audiogen.dsp.timbre import describe, measure_attributes, step_report

ATTRIBUTES = {
    "brightness": ("Hz", "a higher spectral centroid"),
    "attack": ("ms", "a slower rise from onset to peak"),
    "decay": ("s", "a longer fall of 20 dB after the peak"),
    "noisiness": ("flatness", "a flatter, noisier spectrum"),
}
PASS_SHARE = 0.9  # of sounds that must move the named way


def _labels(bundle, z: torch.Tensor) -> np.ndarray:
    from audiogen.samplevae.generate import classify_latents

    return classify_latents(bundle.model, z).argmax(dim=1).numpy() if bundle.classes else np.zeros(len(z), int)


def _decoded(bundle, z: torch.Tensor) -> np.ndarray:
    """(N, samples) sounds of latents z, decoded with a fixed Griffin-Lim seed."""
    from audiogen.samplevae.generate import decode_audio

    return decode_audio(bundle.model, z, bundle.features, generator=torch.Generator().manual_seed(0)).numpy()


def fit_directions_for(bundle, *, sounds: int = 900, seed: int = 0) -> dict:
    """{name: {"direction", "per_unit", "r2", "rows", "unit", "kept"}} from `sounds` decoded prior
    draws ("kept": the cosine between the fitted direction and the class-free one)."""
    from audiogen.runtime.latents import fit_directions, without_group_means

    z = torch.randn(sounds, bundle.latent, generator=torch.Generator().manual_seed(seed))
    labels = _labels(bundle, z)
    fitted = fit_directions(z, measure_attributes(_decoded(bundle, z), bundle.sample_rate), groups=labels)
    if len(np.unique(labels)) > 1:
        fitted = without_group_means(fitted, z, labels)
    return {name: {**entry, "unit": ATTRIBUTES[name][0]} for name, entry in fitted.items()}


def check_latents(bundle, *, per_class: int = 50, seed: int = 1) -> tuple[torch.Tensor, np.ndarray]:
    """Fresh prior latents, the first `per_class` the class head reads as each class (among 40
    draws per wanted sound, at most 20,000): ((N, latent), (N,) class)."""
    draws = min(20000, 40 * per_class * max(1, len(bundle.classes)))
    z = torch.randn(draws, bundle.latent, generator=torch.Generator().manual_seed(seed))
    labels = _labels(bundle, z)
    rows = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])
    return z[rows], labels[rows]


def check_directions(bundle, directions: dict, *, per_class: int = 50, amount: float = 2.0, seed: int = 1) -> dict:
    """Per direction: `per_class` fresh latents of each class moved -amount and +amount ->
    {"moved_share", "median_change", "moves_with" (the other attributes and the level, dB),
    "by_class": {class: moved share}, "class_kept_share", "sounds", "shipped"}."""
    base, base_labels = check_latents(bundle, per_class=per_class, seed=seed)
    names = bundle.classes or ["all"]
    rate = bundle.sample_rate
    report = {}
    for name, entry in directions.items():
        unit = torch.tensor(entry["direction"], dtype=torch.float32)
        low_z, high_z = base - amount * unit, base + amount * unit
        low = measure_attributes(_decoded(bundle, low_z), rate, level=True)
        high = measure_attributes(_decoded(bundle, high_z), rate, level=True)
        moved = step_report(name, low, high)
        by_class = {names[c]: step_report(name, {name: low[name][base_labels == c]},
                                          {name: high[name][base_labels == c]})["moved_share"]
                    for c in np.unique(base_labels)}
        kept = (_labels(bundle, low_z) == base_labels) & (_labels(bundle, high_z) == base_labels)
        report[name] = {**moved, "by_class": by_class, "class_kept_share": round(float(kept.mean()), 3),
                        "sounds": int(len(base)), "shipped": moved["moved_share"] >= PASS_SHARE}
    return report


def fit_model_directions(model_path, out, *, sounds: int = 900, per_class: int = 50, device: str = "cpu") -> dict:
    """Fit, check and store the directions of the SampleVAE model file `model_path` in a copy `out`
    (weights, config and record unchanged). Returns the stored {name: entry}."""
    from audiogen.runtime.latents import save_directions
    from audiogen.samplevae.config import KIND
    from audiogen.samplevae.load import load_samplevae_model

    bundle = load_samplevae_model(model_path, device)
    fitted = fit_directions_for(bundle, sounds=sounds)
    return save_directions(bundle.path, out, kind=KIND, fitted=fitted,
                           checked=check_directions(bundle, fitted, per_class=per_class))


def direction_grid(bundle, name: str, *, steps=(-2.0, -1.0, 0.0, 1.0, 2.0), seed: int = 7) -> list[list[dict]]:
    """One sound of each of up to three classes (rows: the first prior draws of `seed` the class
    head reads as each), stepped along direction `name` (columns): [[{"wave", "title"}]]."""
    from audiogen.runtime.latents import apply_directions, parse_direction_amounts, stored_directions

    directions = stored_directions(bundle)
    if name not in directions:  # a picture may show a direction that did not pass its check
        parse_direction_amounts([f"{name}=1"], directions, where=str(bundle.path))
    base, labels = check_latents(bundle, per_class=1, seed=seed)
    base, labels = base[:3], labels[:3]
    z = torch.stack([apply_directions(b, directions, [(name, a)]) for b in base for a in steps])
    waves = torch.as_tensor(_decoded(bundle, z))
    values = measure_attributes(waves.numpy(), bundle.sample_rate)[name]
    unit, names = ATTRIBUTES[name][0], bundle.classes or ["sound"] * len(base)
    return [[{"wave": waves[r * len(steps) + c], "title": f"{names[labels[r]]}, {name} {a:+g}: "
              f"{describe(values[r * len(steps) + c], unit)}"} for c, a in enumerate(steps)] for r in range(len(base))]
