"""A musician's counts for 16-bar MusicVAE samples, beside the same counts for real tunes.

    python scripts/musicvae_sample_stats.py MODEL HELDOUT.npz [-n 200] [--temperature 0.5] [--fit-codes TRAIN.npz]

Samples N melodies in 4/4 (z from the prior N(0, I), or with --fit-codes from a diagonal Gaussian
fitted to the encoder means of 2,000 4/4 windows of TRAIN.npz) and counts, per melody: notes a bar,
silent bars, the share of notes in their best-fitting diatonic (major-mode) scale, pitch range, and
bar repetition (bar k equal to bar k + 8; bars equal to an earlier bar), which folk tunes show
because their parts repeat. The held-out 4/4 windows of HELDOUT.npz give the reference. Prints JSON.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from audiogen.data.melody import FIRST_NOTE_ON, PAD, load_windows
from audiogen.musicvae.generate import decode, encode, meter_layout, prior_codes
from audiogen.musicvae.load import load_musicvae_model

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


def melody_counts(events: np.ndarray) -> dict:
    """(N, 256) events of 16-bar melodies -> the mean counts of the module docstring."""
    bars = events.astype(np.int64).reshape(len(events), 16, 16)
    onset = (bars >= FIRST_NOTE_ON) & (bars < PAD)
    notes = onset.sum(-1)
    pitches = np.where(onset, bars, -1).reshape(len(events), -1)
    in_scale, ranges = [], []
    for row in pitches:
        played = row[row >= 0]
        ranges.append(float(np.ptp(played)) if len(played) else 0.0)
        if len(played):
            classes = (played - FIRST_NOTE_ON) % 12
            in_scale.append(max(np.isin((classes - t) % 12, MAJOR).mean() for t in range(12)))
    same8 = [(m[k] == m[k + 8]).all() for m in bars for k in range(8)]
    repeats = [any((m[k] == m[j]).all() for j in range(k)) for m in bars for k in range(1, 16)]
    return {"melodies": len(events), "notes_per_bar": round(float(notes.mean()), 2),
            "silent_bars": round(float((notes == 0).mean()), 4),
            "in_best_diatonic_scale": round(float(np.mean(in_scale)), 3),
            "pitch_range": round(float(np.mean(ranges)), 1),
            "bar_k_equals_bar_k_plus_8": round(float(np.mean(same8)), 3),
            "bars_repeating_an_earlier_bar": round(float(np.mean(repeats)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("heldout")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--fit-codes", metavar="TRAIN_NPZ")
    parser.add_argument("--rng-seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_musicvae_model(args.model).model
    if model.config.bars != 16:
        raise SystemExit(f"{args.model}: a {model.config.bars}-bar model; these counts are for 16 bars")
    generator = torch.Generator().manual_seed(args.rng_seed)
    z = prior_codes(args.n, model.config.latent, generator, "cpu")
    if args.fit_codes:
        train = load_windows(args.fit_codes)
        rows = np.random.default_rng(0).permutation(np.flatnonzero(train["meter"] == "4/4"))[:2000]
        mu = encode(model, train["events"][rows])[0]
        z = mu.mean(0) + mu.std(0) * z
    samples = decode(model, z, temperature=args.temperature, generator=generator, layout=meter_layout("4/4", 16))
    heldout = load_windows(args.heldout)
    print(json.dumps({"samples": melody_counts(samples), "z": "fitted" if args.fit_codes else "prior",
                      "heldout_4/4": melody_counts(heldout["events"][heldout["meter"] == "4/4"])}, indent=1))


if __name__ == "__main__":
    main()
