"""Measuring GANSynth: a pitch classifier's view of notes (pitch accuracy, pitch entropy,
Inception-style score, Fréchet distance in its features) and NDB over log-spectrograms.

Every metric of generated notes is reported beside the same metric of real held-out notes, so a
number has a reference: the real notes are split in two disjoint halves, A (the reference set for
Fréchet distance and NDB's bins) and B (scored against A as generated notes are).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.gansynth.classifier_input import (  # noqa: F401  (re-exported)
    CLASSIFIER_FFT, CLASSIFIER_FRAMES, CLASSIFIER_HOP, MIDI_HIGH, MIDI_LOW, PER_SEMITONE, SAMPLE_RATE, classify_waves,
    pitch_input)


def pitch_accuracy(probs: torch.Tensor, pitches: torch.Tensor) -> float:
    """Share of notes whose most likely class is their MIDI pitch."""
    return float((probs.argmax(dim=1) == pitches).float().mean())


def pitch_entropy(probs: torch.Tensor) -> float:
    """Mean entropy (nats) of the per-note class distributions: low = the classifier hears a clear pitch."""
    return float(-(probs * probs.clamp_min(1e-12).log()).sum(dim=1).mean())


def inception_score(probs: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))): high when notes are each clear and together varied."""
    marginal = probs.mean(dim=0, keepdim=True)
    kl = (probs * (probs.clamp_min(1e-12).log() - marginal.clamp_min(1e-12).log())).sum(dim=1)
    return float(math.exp(kl.mean()))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N, D) and b (M, D):
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)). 0 for identical sets."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues) of the symmetric S_a^(1/2) S_b S_a^(1/2).
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root_a @ s_b @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)
    return max(value, 0.0)


def kmeans(x: torch.Tensor, k: int, *, iterations: int = 50, seed: int = 0) -> torch.Tensor:
    """Lloyd's k-means with k-means++ seeding: x (N, D) -> centres (k, D)."""
    g = torch.Generator().manual_seed(seed)
    x = x.float()
    centres = [x[torch.randint(len(x), (1,), generator=g)].squeeze(0)]
    dist = torch.full((len(x),), float("inf"))
    for _ in range(1, k):
        dist = torch.minimum(dist, (x - centres[-1]).square().sum(1))
        centres.append(x[torch.multinomial(dist / dist.sum(), 1, generator=g)].squeeze(0))
    c = torch.stack(centres)
    for _ in range(iterations):
        assign = torch.cdist(x, c).argmin(1)
        new = torch.stack([x[assign == j].mean(0) if (assign == j).any() else c[j] for j in range(k)])
        if torch.allclose(new, c):
            break
        c = new
    return c


def ndb(reference: torch.Tensor, samples: torch.Tensor, *, k: int = 50, alpha: float = 0.05,
        centres: torch.Tensor | None = None, seed: int = 0) -> dict:
    """Number of statistically Different Bins (Richardson & Weiss 2018): k-means bins of the
    reference set; a bin counts when a two-proportion z-test at `alpha` finds the share of
    `samples` in it different from the reference's. Returns {"ndb", "k", "ndb_over_k"}.
    A set scored against itself has NDB 0."""
    centres = kmeans(reference, k, seed=seed) if centres is None else centres
    p = torch.bincount(torch.cdist(reference.float(), centres).argmin(1), minlength=len(centres)).double() / len(reference)
    q = torch.bincount(torch.cdist(samples.float(), centres).argmin(1), minlength=len(centres)).double() / len(samples)
    n, m = len(reference), len(samples)
    pooled = (p * n + q * m) / (n + m)
    se = torch.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m)).clamp_min(1e-12)
    z = (p - q).abs() / se
    critical = _normal_quantile(1 - alpha / 2)
    different = int(((z > critical) & (p != q)).sum())
    return {"ndb": different, "k": len(centres), "ndb_over_k": different / len(centres)}


def _normal_quantile(q: float) -> float:
    return float(torch.special.ndtri(torch.tensor(q, dtype=torch.float64)))


def ndb_features(waves: torch.Tensor) -> torch.Tensor:
    """(B, 64000) -> (B, 32 * 32) coarse log-magnitude spectrograms (NDB's space): 32 frames x 32
    frequency bands of the GANSynth STFT, averaged, in natural-log units."""
    from audiogen.dsp.config import GANSYNTH
    from audiogen.dsp.fourier import stft

    mag = torch.log(stft(waves.float(), GANSYNTH).abs() + 1e-6)  # (B, 128, 1024)
    return F.adaptive_avg_pool2d(mag[:, None], (32, 32)).flatten(1)


def score_notes(classifier, waves: torch.Tensor, pitches: torch.Tensor, reference_feats: np.ndarray,
                centres: torch.Tensor, reference_ndb: torch.Tensor) -> dict:
    """Every metric of one set of notes (their conditioning or true `pitches`) against reference half A."""
    probs, feats = classify_waves(classifier, waves)
    return {"notes": int(len(waves)), "pitch_accuracy": pitch_accuracy(probs, pitches),
            "pitch_entropy": pitch_entropy(probs), "inception_score": inception_score(probs),
            "frechet_distance": frechet_distance(feats.numpy(), reference_feats),
            **ndb(reference_ndb, ndb_features(waves), centres=centres)}


def evaluate_gansynth(bundle, classifier, cache, *, n: int = 1000, k: int = 50, seed: int = 0,
                      pyin_notes: int = 100, on_stage=None, on_notes=None) -> dict:
    """Generated notes vs real held-out notes (a note cache), each metric beside the real reference.

    Real notes are split into disjoint halves A and B of up to `n` each. Generated: `n` notes whose
    pitches follow A+B's pitch histogram within the model's range, latents from N(0, I). pYIN
    (independent of any trained model) judges the first `pyin_notes` of the generated notes and
    of real half B, and the pitch grid: 4 latents each held across MIDI 36, 42, ..., 84.
    `on_stage(text, notes)` starts a stage of that many notes; `on_notes(n)` says n more are done.
    """
    from audiogen.gansynth.generate import generate_notes, note_latents, prior_latents
    from audiogen.gansynth.pitch_check import GRID_LATENTS, grid_pitches, pitch_report

    low, high = bundle.pitch_range
    pitch_labels = cache.labels["pitch"].astype(np.int64)
    usable = np.flatnonzero((pitch_labels >= low) & (pitch_labels <= high))
    if len(usable) < 4:
        raise ValueError(f"only {len(usable)} real notes within the model's pitch range {low}-{high}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(usable)
    half = min(n, len(order) // 2)
    rows_a, rows_b = np.sort(order[:half]), np.sort(order[half:2 * half])
    say = on_stage or (lambda text, total: None)
    done = on_notes or (lambda count: None)
    say("classifying real notes", len(rows_a) + len(rows_b))
    waves_a = torch.from_numpy(cache.waves(rows_a))
    waves_b = torch.from_numpy(cache.waves(rows_b))
    _, feats_a = classify_waves(classifier, waves_a, on_notes=done)
    ndb_a = ndb_features(waves_a)
    centres = kmeans(ndb_a, min(k, len(rows_a)), seed=seed)
    real = score_notes(classifier, waves_b, torch.from_numpy(pitch_labels[rows_b]), feats_a.numpy(), centres, ndb_a)
    done(len(rows_b))
    say(f"generating {n} notes", n)
    g = torch.Generator().manual_seed(seed)
    pitches = torch.from_numpy(rng.choice(pitch_labels[np.concatenate([rows_a, rows_b])], size=n))
    waves = generate_notes(bundle, prior_latents(n, bundle.config.latent, generator=g), pitches, on_notes=done,
                           fade=False)  # real notes are not faded either
    generated = score_notes(classifier, waves, pitches, feats_a.numpy(), centres, ndb_a)
    if pyin_notes > 0:
        say(f"reading the pitch of {min(pyin_notes, n)} generated and real notes with pYIN",
            min(pyin_notes, n) + min(pyin_notes, len(rows_b)))
        for scored, w, p in ((generated, waves, pitches), (real, waves_b, torch.from_numpy(pitch_labels[rows_b]))):
            judged = pitch_report(w[:pyin_notes], p[:pyin_notes], use_pyin=True)
            scored.update({key: judged[key] for key in ("pyin_within_semitone", "pyin_voiced")})
            done(min(pyin_notes, len(w)))
    say("judging the pitch grid", GRID_LATENTS * len(grid_pitches(bundle.pitch_range)))
    grid_midi = grid_pitches(bundle.pitch_range)
    z, midi = note_latents(GRID_LATENTS, grid_midi, bundle.config.latent, same_latent=True,
                           generator=torch.Generator().manual_seed(seed))
    grid = pitch_report(generate_notes(bundle, z, midi), midi, classifier=classifier, windows=True)
    done(len(midi))
    return {"generated": generated, "real": real, "grid": grid, "reference_notes": int(len(rows_a)),
            "k": int(len(centres))}
