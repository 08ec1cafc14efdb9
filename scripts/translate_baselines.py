"""What the log-mel distance of `eval translate` means on a held-out pairs folder: baselines.

For each held-out pair (a = input instrument, b = true target) it prints the mean log-mel distance
(the measure of `audiogen.translate.evaluate`) of:

- identity: the input itself;
- constant: one fixed spectrum, the mean target log-mel of the training pairs, at every frame
  (it ignores the input: a measure it improves on is not a translation measure alone);
- per-band affine: each mel band's dB mapped by a least-squares line fitted on training pairs
  (a static EQ and compression, no notion of time);
- another render: the same notes' target rendered by another SoundFont (`--other PAIRS_DIR` with
  the same melodies), i.e. how far two SoundFonts' violins are apart.

Usage: python scripts/translate_baselines.py --train runs/tr/pairs-fluid --train runs/tr/pairs-tim \
           --heldout runs/tr/pairs-heldout-csound [--other /tmp/held-FluidR3] [--limit 40]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from audiogen.data.skips import SkipLog
from audiogen.translate.data import Representation, load_pairs
from audiogen.translate.evaluate import log_mel_db


def mels(folder: str, limit: int | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    clips = load_pairs(folder, Representation(), skips=SkipLog())
    rows = range(min(limit or len(clips), len(clips)))
    return [(log_mel_db(torch.from_numpy(clips.a[i]), 16000), log_mel_db(torch.from_numpy(clips.b[i]), 16000))
            for i in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="append", required=True)
    parser.add_argument("--heldout", required=True)
    parser.add_argument("--other", help="the held-out melodies' targets rendered by another SoundFont")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--train-limit", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = [pair for folder in args.train for pair in mels(folder, args.train_limit)]
    a = torch.cat([p[0] for p in train], -1)
    b = torch.cat([p[1] for p in train], -1)
    constant = b.mean(-1, keepdim=True)
    design = torch.stack([a, torch.ones_like(a)], -1)
    coef = torch.linalg.lstsq(design, b[..., None]).solution
    held = mels(args.heldout, args.limit)
    others = mels(args.other, args.limit) if args.other else None
    figures: dict[str, list[float]] = {"identity": [], "constant": [], "per-band affine": []}
    if others:
        figures["another render"] = []
    for i, (x, y) in enumerate(held):
        figures["identity"].append(float((x - y).abs().mean()))
        c = torch.maximum(constant.expand_as(y), y.max() - 80)
        figures["constant"].append(float((c - y).abs().mean()))
        fit = (torch.stack([x, torch.ones_like(x)], -1) @ coef)[..., 0]
        fit = torch.maximum(fit, fit.max() - 80)
        figures["per-band affine"].append(float((fit - y).abs().mean()))
        if others:
            o = others[i][1]
            n = min(o.shape[-1], y.shape[-1])
            figures["another render"].append(float((o[..., :n] - y[..., :n]).abs().mean()))
    identity = np.mean(figures["identity"])
    print(f"{len(held)} held-out pairs from {args.heldout}")
    for name, values in figures.items():
        mean = float(np.mean(values))
        print(f"{name:18s} {mean:6.2f} dB  ({100 * (1 - mean / identity):5.1f}% below identity)")


if __name__ == "__main__":
    main()
