"""How near a 16-bar MusicVAE's conductor puts the codes of two bars, in real tunes and in samples.

    python scripts/musicvae_bar_codes.py HELDOUT.npz [--model musicvae-16bar] [-n 100] [--rng-seed 1]

For every pair of bars of a melody, the distance between their conductor codes divided by the
melody's median pair distance. Real tunes (the 4/4 windows of HELDOUT.npz, encoded to their means):
the quantiles for pairs of bars that repeat step for step and for the other pairs. Samples (codes
from the model's fitted prior): the quantiles of every pair. Prints JSON. docs/design.md §8 quotes it.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from audiogen.data.melody import FIRST_NOTE_ON, PAD, SEGMENT_STEPS, load_windows
from audiogen.musicvae.generate import encode
from audiogen.musicvae.load import load_musicvae_model
from audiogen.musicvae.prior import latent_codes


def relative_distances(conditions: torch.Tensor) -> torch.Tensor:
    """(N, bars, C) conductor codes -> (N, pairs) distances over each melody's median pair distance."""
    bars = conditions.shape[1]
    upper = torch.triu_indices(bars, bars, 1)
    pairs = torch.cdist(conditions, conditions)[:, upper[0], upper[1]]
    return pairs / pairs.median(dim=1, keepdim=True).values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("heldout")
    parser.add_argument("--model", default="musicvae-16bar")
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--rng-seed", type=int, default=1)
    args = parser.parse_args()
    loaded = load_musicvae_model(args.model)
    model = loaded.model
    held = load_windows(args.heldout)
    events = held["events"][held["meter"] == "4/4"].astype(np.int64)
    with torch.no_grad():
        real = relative_distances(model.conditions(encode(model, events)[0]))
        bars = torch.as_tensor(events).reshape(len(events), -1, SEGMENT_STEPS)
        count = bars.shape[1]
        upper = torch.triu_indices(count, count, 1)
        equal = (bars[:, upper[0]] == bars[:, upper[1]]).all(-1)
        sounding = ((bars >= FIRST_NOTE_ON) & (bars < PAD)).any(-1)[:, upper[1]]
        repeats = equal & sounding
        z = latent_codes(args.n, model.config.latent, torch.Generator().manual_seed(args.rng_seed), "cpu",
                         fitted=loaded.prior)
        sampled = relative_distances(model.conditions(z))
    q = lambda x, at: [round(float(v), 3) for v in np.quantile(x.numpy(), at)]  # noqa: E731
    print(json.dumps({"heldout_windows": len(events), "repeat_pairs": int(repeats.sum()),
                      "repeat_pairs_q10_q50_q90": q(real[repeats], [0.1, 0.5, 0.9]),
                      "other_pairs_q01_q10_q50": q(real[~repeats], [0.01, 0.1, 0.5]),
                      "sample_pairs_q01_q05_q50": q(sampled.reshape(-1), [0.01, 0.05, 0.5]),
                      "prior": "fitted" if loaded.prior is not None else "standard"}, indent=1))


if __name__ == "__main__":
    main()
