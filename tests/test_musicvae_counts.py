"""The musician's counts of MusicVAE samples (`audiogen.musicvae.melody_counts`) on hand-made melodies,
and the fitted prior (`audiogen.musicvae.prior`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiogen.data.melody import NO_EVENT, PAD, note_on
from audiogen.musicvae.melody_counts import (in_scale_share, melody_counts, per_melody_counts,
                                             repeated_bar_share)
from audiogen.musicvae.prior import FittedPrior, fit_prior, latent_codes


def _bars(pitches_per_bar: list[list[int]], steps_per_note: int = 4, bar_steps: int = 16) -> np.ndarray:
    """One melody: each bar its pitches, one every `steps_per_note` steps, held; padded to 16 steps."""
    out = []
    for pitches in pitches_per_bar:
        bar = np.full(16, PAD, np.int64)
        bar[:bar_steps] = NO_EVENT
        for i, pitch in enumerate(pitches):
            bar[i * steps_per_note] = note_on(pitch)
        out.append(bar)
    return np.concatenate(out)


C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def test_a_c_major_scale_is_all_in_scale():
    melody = _bars([C_MAJOR[:4], C_MAJOR[4:]])
    assert in_scale_share(melody) == 1.0
    # A minor and D dorian are the same seven pitch classes
    assert in_scale_share(_bars([[57, 59, 60, 62], [64, 65, 67, 69]])) == 1.0


def test_a_chromatic_run_falls_below_0_7():
    chromatic = _bars([[60, 61, 62, 63], [64, 65, 66, 67], [68, 69, 70, 71]])
    share = in_scale_share(chromatic)
    assert share < 0.7 and share == pytest.approx(7 / 12)


def test_one_wrong_note_in_eight():
    # C D E F G A Bb C is all of F major; C D E F G A B C# has one note outside every diatonic scale
    assert in_scale_share(_bars([[60, 62, 64, 65], [67, 69, 70, 72]])) == 1.0
    assert in_scale_share(_bars([[60, 62, 64, 65], [67, 69, 71, 61]])) == pytest.approx(7 / 8)


def test_a_tune_with_its_a_part_played_twice():
    a_part = [[60, 64, 67, 64], [65, 69, 72, 69], [67, 71, 74, 71], [60, 60, 60, 60]]
    b_part = [[72, 71, 69, 67], [65, 64, 62, 60], [62, 64, 65, 67], [64, 62, 60, 59]]
    tune = _bars(a_part + a_part + b_part + b_part)  # AABB, 16 bars
    # bars 4-7 repeat bars 0-3 and bars 12-15 repeat bars 8-11: 8 of the 15 bars after the first
    assert repeated_bar_share(tune) == pytest.approx(8 / 15)
    # no repeat at all
    assert repeated_bar_share(_bars(a_part + b_part)) == 0.0
    # a bar that repeats inside the A part counts once it has been heard: A = x y x z
    x, y, z = [60, 62, 64, 65], [67, 65, 64, 62], [60, 59, 60, 62]
    assert repeated_bar_share(_bars([x, y, x, z])) == pytest.approx(1 / 3)


def test_silent_bars_do_not_count_as_repeats():
    silent = _bars([[60, 62, 64, 65], [], [], [67, 65, 64, 62]])
    assert repeated_bar_share(silent) == 0.0


def test_counts_of_a_batch_and_3_4_bars():
    waltz = _bars([[60, 64, 67], [65, 69, 72], [60, 64, 67], [67, 71, 74]], bar_steps=12)
    reel = _bars([C_MAJOR[:4], C_MAJOR[4:], C_MAJOR[:4], C_MAJOR[4:]])
    counts = melody_counts(np.stack([waltz, reel]))
    assert counts["melodies"] == 2 and counts["silent"] == 0
    assert counts["in_scale"] == 1.0
    assert counts["notes_per_bar"] == pytest.approx((3 + 4) / 2)
    assert counts["repeated_bars"] == pytest.approx((1 / 3 + 2 / 3) / 2, abs=1e-4)
    assert counts["pitch_range"] == pytest.approx((74 - 60 + 72 - 60) / 2)
    per = per_melody_counts(np.stack([waltz, reel]))
    assert per["pitch_range"].tolist() == [14.0, 12.0]


def test_silent_melodies_are_counted_apart():
    empty = _bars([[], []])
    counts = melody_counts(np.stack([empty, _bars([[60, 62], [64, 65]])]))
    assert counts["silent"] == 1 and counts["in_scale"] == 1.0 and counts["notes_per_bar"] == 2.0


def test_fitted_prior_matches_the_codes_and_samples_reproducibly():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(8, 8))
    mu = rng.normal(size=(4000, 8)) @ mixing + 3.0
    sigma = np.full((4000, 8), 0.5)
    prior = fit_prior(mu, sigma)
    expected = np.cov(mu.T) + 0.25 * np.eye(8)
    got = (prior.scale_tril @ prior.scale_tril.T).numpy()
    assert np.allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert np.allclose(prior.mean.numpy(), mu.mean(0), atol=1e-5)
    a = prior.sample(5000, torch.Generator().manual_seed(3), "cpu")
    b = prior.sample(5000, torch.Generator().manual_seed(3), "cpu")
    assert torch.equal(a, b)
    assert np.allclose(a.mean(0).numpy(), mu.mean(0), atol=0.5)
    restored = FittedPrior.from_tensors(prior.tensors())
    assert torch.equal(restored.mean, prior.mean) and torch.equal(restored.scale_tril, prior.scale_tril)


def test_standard_prior_ignores_the_fitted_one():
    prior = FittedPrior(torch.full((4,), 10.0), torch.eye(4))
    g = torch.Generator().manual_seed(1)
    standard = latent_codes(2000, 4, g, "cpu", prior="standard", fitted=prior)
    assert abs(float(standard.mean())) < 0.1
    fitted = latent_codes(2000, 4, torch.Generator().manual_seed(1), "cpu", prior="fitted", fitted=prior)
    assert torch.allclose(fitted, standard + 10.0)
    with pytest.raises(Exception, match="--prior"):
        latent_codes(1, 4, g, "cpu", prior="gaussian")


# ------------------------------------------------------------------------- forms and sampling

from audiogen.musicvae.forms import BarForms, bar_forms, fit_forms  # noqa: E402
from audiogen.musicvae.generate import decode, play_forms, sample_prior  # noqa: E402
from audiogen.musicvae.model import MusicVAE, MusicVAEModelConfig  # noqa: E402

TINY_HIER = MusicVAEModelConfig(bars=4, hierarchical=True, latent=8, embed=8, encoder_hidden=8, decoder_hidden=8,
                                decoder_layers=1, conductor_hidden=8, conductor_layers=1, conductor_out=8)


def test_bar_forms_point_at_the_first_equal_bar():
    x, y, z = [60, 62, 64, 65], [67, 65, 64, 62], [60, 59, 60, 62]
    forms = bar_forms(np.stack([_bars([x, y, x, x]), _bars([x, [], y, []])]))
    assert forms.tolist() == [[0, 1, 0, 0], [0, 1, 2, 3]]  # silent bars repeat nothing


def test_fit_forms_keeps_each_meter_and_draws_from_the_asked_one():
    x, y = [60, 62, 64, 65], [67, 65, 64, 62]
    reels = np.stack([_bars([x, y, x, y])] * 60)
    waltzes = np.stack([_bars([x[:3], y[:3], y[:3], x[:3]], bar_steps=12)] * 60)
    forms = fit_forms(np.concatenate([reels, waltzes]), np.array(["4/4"] * 60 + ["3/4"] * 60))
    assert forms.meters == ["3/4", "4/4"] and len(forms.forms) == 120
    g = torch.Generator().manual_seed(0)
    assert (forms.draw(20, g, "4/4") == torch.tensor([0, 1, 0, 1])).all()
    assert (forms.draw(20, g, "3/4") == torch.tensor([0, 1, 1, 0])).all()
    restored = BarForms.from_file(forms.tensors(), forms.meters)
    assert torch.equal(restored.forms, forms.forms) and restored.meters == forms.meters


def test_playing_a_form_repeats_bars_step_for_step():
    x, y, z = [60, 62, 64, 65], [67, 65, 64, 62], [60, 59, 60, 62]
    melody = _bars([x, y, z, [72]])
    played = play_forms(melody[None], torch.tensor([[0, 1, 0, 1]]))[0].reshape(4, 16)
    assert (played[2] == played[0]).all() and (played[3] == played[1]).all()
    assert (played[:2] == melody.reshape(4, 16)[:2]).all()
    # a chain plays its first bar; no form keeps the melody as it was
    chained = play_forms(melody[None], torch.tensor([[0, 0, 1, 2]]))[0].reshape(4, 16)
    assert all((chained[j] == chained[0]).all() for j in range(4))
    assert np.array_equal(play_forms(melody[None], torch.tensor([[0, 1, 2, 3]]))[0], melody)
    # a repeat between bars padded differently (a 3/4 bar and a 4/4 one) is dropped
    mixed = np.concatenate([_bars([x[:3]], bar_steps=12), _bars([y, z, x])])
    kept = play_forms(mixed[None], torch.tensor([[0, 0, 2, 0]]))[0]
    assert np.array_equal(kept, mixed)


def test_standard_prior_without_forms_is_the_papers_sampling():
    torch.manual_seed(0)
    model = MusicVAE(TINY_HIER).eval()
    fitted = FittedPrior(torch.full((8,), 3.0), 0.1 * torch.eye(8))
    forms = BarForms(torch.tensor([[0, 1, 0, 1]]), torch.tensor([0]), ["4/4"])
    paper = sample_prior(model, 5, torch.Generator().manual_seed(2), prior="standard", temperature=0.5)
    g = torch.Generator().manual_seed(2)
    expected = decode(model, torch.randn(5, 8, generator=g), temperature=0.5, generator=g)
    assert np.array_equal(paper, expected)
    a = sample_prior(model, 5, torch.Generator().manual_seed(2), fitted=fitted, forms=forms, meter="4/4")
    b = sample_prior(model, 5, torch.Generator().manual_seed(2), fitted=fitted, forms=forms, meter="4/4")
    assert np.array_equal(a, b) and not np.array_equal(a, paper)
    bars = a.reshape(5, 4, 16)
    assert (bars[:, 2] == bars[:, 0]).all() and (bars[:, 3] == bars[:, 1]).all()
