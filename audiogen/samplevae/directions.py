"""Latent directions that steer a SampleVAE sound (brighter, noisier, longer decay, ...), found by
measuring decoded sounds (docs/design.md §9); the drum counterpart of `gansynth.directions`.

Sounds are drawn from the prior and decoded; each is labelled by the class head's reading of
what it decodes to, and the directions are fitted with one intercept per class (a hat is
brighter than a kick: that is not what "brighter" should move). The check moves fresh latents,
`per_class` of each class, -2 and +2 along each direction. Brightness is the centroid in Hz.
"""

from __future__ import annotations

import numpy as np
import torch

from audiogen.dsp.timbre import measure_attributes, moved_the_named_way

ATTRIBUTES = {
    "brightness": ("Hz", "a higher spectral centroid"),
    "attack": ("ms", "a slower rise from onset to peak"),
    "decay": ("s", "a longer fall of 20 dB after the peak"),
    "noisiness": ("flatness", "a flatter, noisier spectrum"),
}
PASS_SHARE = 0.9


def _decoded(bundle, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(sounds (N, samples), class index (N,)) of latents z, decoded with a fixed Griffin-Lim seed."""
    from audiogen.samplevae.generate import classify_latents, decode_audio

    waves = decode_audio(bundle.model, z, bundle.features, generator=torch.Generator().manual_seed(0)).numpy()
    labels = classify_latents(bundle.model, z).argmax(dim=1).numpy() if bundle.classes else np.zeros(len(z), int)
    return waves, labels


def fit_directions_for(bundle, *, sounds: int = 900, seed: int = 0) -> dict:
    """{name: {"direction", "per_unit", "r2", "rows", "unit"}} from `sounds` decoded prior draws."""
    from audiogen.runtime.latents import fit_directions

    z = torch.randn(sounds, bundle.model.config.latent, generator=torch.Generator().manual_seed(seed))
    waves, labels = _decoded(bundle, z)
    fitted = fit_directions(z, measure_attributes(waves, bundle.features.sample_rate), groups=labels)
    return {name: {**entry, "unit": ATTRIBUTES[name][0]} for name, entry in fitted.items()}


def check_directions(bundle, directions: dict, *, per_class: int = 50, amount: float = 2.0, seed: int = 1,
                     max_draws: int = 20000) -> dict:
    """Per direction: `per_class` fresh latents of each class (by the class head), moved -amount
    and +amount -> {"moved_share", "median_change", "by_class": {class: share}, "sounds", "shipped"}."""
    z = torch.randn(max_draws, bundle.model.config.latent, generator=torch.Generator().manual_seed(seed))
    from audiogen.samplevae.generate import classify_latents

    labels = classify_latents(bundle.model, z).argmax(dim=1).numpy() if bundle.classes else np.zeros(len(z), int)
    rows = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])
    base, base_labels = z[rows], labels[rows]
    names = bundle.classes or ["all"]
    report = {}
    for name, entry in directions.items():
        unit = torch.tensor(entry["direction"], dtype=torch.float32)
        low = measure_attributes(_decoded(bundle, base - amount * unit)[0], bundle.features.sample_rate)[name]
        high = measure_attributes(_decoded(bundle, base + amount * unit)[0], bundle.features.sample_rate)[name]
        moved = moved_the_named_way(low, high)
        by_class = {names[c]: moved_the_named_way(low[base_labels == c], high[base_labels == c])["moved_share"]
                    for c in np.unique(base_labels)}
        report[name] = {**moved, "by_class": by_class, "sounds": int(len(rows)),
                        "shipped": moved["moved_share"] >= PASS_SHARE}
    return report
