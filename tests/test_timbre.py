"""The timbre attributes (`audiogen.dsp.timbre`) on synthetic signals whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audiogen.dsp.timbre import attack_ms, brightness, decay_s, noisiness, spectral_centroid_hz

SR = 16000
T = np.arange(2 * SR) / SR


def _harmonics(f0: float, amplitudes: list[float]) -> np.ndarray:
    return sum(a * np.sin(2 * np.pi * (k + 1) * f0 * T) for k, a in enumerate(amplitudes))


def test_a_sine_is_darker_than_a_square_wave_at_the_same_f0():
    sine = _harmonics(220.0, [1.0])
    square = _harmonics(220.0, [1 / k if k % 2 else 0.0 for k in range(1, 31)])
    assert spectral_centroid_hz(sine, SR) == pytest.approx(220.0, rel=0.03)
    assert brightness(sine, SR, 220.0) == pytest.approx(1.0, rel=0.03)
    assert brightness(square, SR, 220.0) > 2.5 * brightness(sine, SR, 220.0)


def test_an_exponential_decay_falls_20_db_in_tau_ln_10():
    tau = 0.3
    note = np.sin(2 * np.pi * 440 * T) * np.exp(-T / tau)
    assert decay_s(note, SR) == pytest.approx(tau * math.log(10), abs=0.02)  # 0.691 s, to 5-ms frames and their ripple
    assert math.isnan(decay_s(np.sin(2 * np.pi * 440 * T), SR))  # a held tone never falls


def test_a_linear_rise_of_50_ms_is_an_attack_of_about_50_ms():
    note = np.sin(2 * np.pi * 440 * T) * np.minimum(T / 0.05, 1.0) * np.exp(-np.maximum(T - 0.05, 0) / 0.5)
    assert attack_ms(note, SR) == pytest.approx(50.0, abs=6.0)
    struck = np.sin(2 * np.pi * 440 * T) * np.exp(-T / 0.2)
    assert attack_ms(struck, SR) < 6.0


def test_white_noise_is_flatter_than_a_sine():
    noise = np.random.default_rng(0).standard_normal(len(T))
    sine = np.sin(2 * np.pi * 440 * T)
    assert noisiness(noise, SR) > 0.5 > 0.01 > noisiness(sine, SR)


def test_silence_has_no_centroid_and_no_noisiness():
    silent = np.zeros(SR)
    assert math.isnan(spectral_centroid_hz(silent, SR)) and math.isnan(noisiness(silent, SR))
    assert math.isnan(attack_ms(silent, SR))


def test_fitting_finds_a_planted_direction_with_the_pitch_effect_removed():
    from audiogen.runtime.latents import fit_directions

    rng = np.random.default_rng(0)
    planted = rng.standard_normal(16)
    planted /= np.linalg.norm(planted)
    z = rng.standard_normal((600, 16))
    pitch = rng.choice([48, 60, 72], 600)
    value = 2.0 * z @ planted + 0.1 * (pitch - 60) + 0.05 * rng.standard_normal(600)  # brighter up high
    value[:10] = np.nan  # unmeasured notes are left out
    fitted = fit_directions(z, {"brightness": value}, groups=pitch)["brightness"]
    assert float(np.dot(fitted["direction"], planted)) > 0.99
    assert fitted["per_unit"] == pytest.approx(2.0, rel=0.05) and fitted["rows"] == 590
    assert fitted["r2"] > 0.95
    with pytest.raises(Exception, match="too few"):
        fit_directions(z[:5], {"brightness": value[:5]})


@pytest.fixture(scope="module")
def steerable(tmp_path_factory):
    """A copy of the bundled GANSynth carrying two test directions: one shipped, one not."""
    from audiogen.gansynth.config import KIND
    from audiogen.runtime.assets import resolve_model
    from audiogen.runtime.modelfile import load_model, rewrite_model

    source = resolve_model("gansynth")
    latent = load_model(source, kind=KIND).config["latent"]
    unit = np.zeros(latent)
    unit[0] = 1.0
    directions = {"brightness": {"direction": unit.tolist(), "per_unit": 0.5, "unit": "harmonics", "r2": 0.5,
                                 "shipped": True},
                  "attack": {"direction": unit.tolist(), "per_unit": 1.0, "unit": "ms", "r2": 0.2, "shipped": False}}
    out = tmp_path_factory.mktemp("steer") / "steerable.safetensors"
    rewrite_model(source, out, kind=KIND, extra={"directions": directions})
    return out


def test_direction_options_are_refused_in_one_line_before_any_work(steerable, tmp_path):
    import os

    from clitools import assert_one_line_error, run_cli

    env = dict(os.environ)
    base = ["sample", "gansynth", "--pitch", "60", "--out-dir", str(tmp_path / "o")]
    cases = {
        ("--direction", "brightness=2"): ["gansynth.safetensors", "no latent directions"],  # the bundled model
        ("--model", str(steerable), "--direction", "nope=1"): ["--direction nope", "choose from brightness"],
        ("--model", str(steerable), "--direction", "attack=1"): ["--direction attack", "did not pass its check"],
        ("--model", str(steerable), "--direction", "brightness=inf"): ["finite"],
        ("--model", str(steerable), "--direction", "brightness"): ["NAME=AMOUNT"],
    }
    for extra, words in cases.items():
        assert_one_line_error(run_cli(base + list(extra), env, tmp_path), *words)
        assert not (tmp_path / "o").exists()


def test_a_direction_moves_the_latent_in_the_cli_and_the_api_alike(steerable):
    import audiogen

    gan = audiogen.load(str(steerable), device="cpu")
    assert set(gan.directions) == {"brightness", "attack"} and "direction" not in gan.directions["brightness"]
    plain = gan.sample([60], rng_seed=3)
    moved = gan.sample([60], rng_seed=3, direction={"brightness": 2.0})
    assert plain.shape == moved.shape and not np.allclose(plain, moved)
    with pytest.raises(audiogen.AudiogenError, match="--direction nope"):
        gan.sample([60], rng_seed=3, direction={"nope": 1.0})


def test_directions_command_lists_a_model_s_directions_and_refuses_what_it_cannot_do(steerable, tmp_path):
    import json
    import os

    from clitools import assert_one_line_error, run_cli

    env = dict(os.environ)
    listed = run_cli(["directions", "gansynth", "--model", str(steerable), "--json"], env, tmp_path)
    assert listed.code == 0, listed
    found = json.loads(listed.stdout)["directions"]
    assert set(found) == {"brightness", "attack"} and found["brightness"]["shipped"] is True
    assert "direction" not in found["brightness"]  # the vector stays in the file
    assert_one_line_error(run_cli(["directions", "gansynth"], env, tmp_path), "carries no latent directions")
    assert_one_line_error(run_cli(["directions", "gansynth", "--fit"], env, tmp_path), "--out")
    assert_one_line_error(run_cli(["directions", "gansynth", "--model", str(steerable), "--picture",
                                   str(tmp_path / "p.png")], env, tmp_path), "--show")
    picture = run_cli(["directions", "gansynth", "--model", str(steerable), "--picture", str(tmp_path / "p.png"),
                       "--show", "brightness", "-q"], env, tmp_path)
    assert picture.code == 0, picture
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_step_report_counts_the_named_attribute_and_what_moved_with_it():
    from audiogen.dsp.timbre import peak_level_db, step_report

    assert peak_level_db(np.sign(np.sin(2 * np.pi * 100 * T)), SR) == pytest.approx(0.0, abs=0.01)
    low = {"brightness": np.array([1.0, 2.0, 3.0, np.nan]), "level": np.array([-10.0, -10.0, -10.0, -10.0])}
    high = {"brightness": np.array([2.0, 1.0, 4.0, 5.0]), "level": np.array([-7.0, -7.0, -7.0, -7.0])}
    report = step_report("brightness", low, high)
    assert report["moved_share"] == 0.5  # 2 of 4 rose; the unmeasured end counts as not moved
    assert report["median_change"] == 1.0 and report["moves_with"] == {"level": 3.0}


@pytest.fixture(scope="module")
def steerable_drums(tmp_path_factory):
    """Copies of the bundled SampleVAE: one carrying two test directions (one shipped), one none."""
    from audiogen.runtime.assets import resolve_model
    from audiogen.runtime.modelfile import load_model, rewrite_model
    from audiogen.samplevae.config import KIND

    source = resolve_model("samplevae-drums")
    latent = load_model(source, kind=KIND).config["latent"]
    unit = np.zeros(latent)
    unit[1] = 1.0
    directions = {"brightness": {"direction": unit.tolist(), "per_unit": 500.0, "unit": "Hz", "r2": 0.5,
                                 "shipped": True},
                  "decay": {"direction": unit.tolist(), "per_unit": 0.01, "unit": "s", "r2": 0.2, "shipped": False}}
    folder = tmp_path_factory.mktemp("steer-drums")
    rewrite_model(source, folder / "steerable.safetensors", kind=KIND, extra={"directions": directions})
    rewrite_model(source, folder / "plain.safetensors", kind=KIND, extra={"directions": {}})
    return folder / "steerable.safetensors", folder / "plain.safetensors"


def test_samplevae_directions_in_the_cli_and_the_api(steerable_drums, tmp_path):
    import json
    import os

    import soundfile as sf

    import audiogen
    from clitools import assert_one_line_error, run_cli

    steerable, plain = steerable_drums
    env = dict(os.environ)
    listed = run_cli(["directions", "samplevae", "--model", str(steerable), "--json"], env, tmp_path)
    assert listed.code == 0, listed
    assert json.loads(listed.stdout)["directions"]["brightness"]["shipped"] is True
    assert_one_line_error(run_cli(["directions", "samplevae", "--model", str(plain)], env, tmp_path),
                          "carries no latent directions")
    base = ["sample", "samplevae", "-n", "2", "--rng-seed", "4", "--model", str(steerable)]
    for extra, words in {("--direction", "decay=1"): ["did not pass its check"],
                         ("--direction", "nope=1"): ["choose from brightness"],
                         ("--direction", "brightness=nan"): ["finite"]}.items():
        assert_one_line_error(run_cli(base + ["--out-dir", str(tmp_path / "x")] + list(extra), env, tmp_path), *words)
        assert not (tmp_path / "x").exists()
    assert_one_line_error(run_cli(["sample", "samplevae", "--model", str(plain), "--out-dir", str(tmp_path / "x"),
                                   "--direction", "brightness=1"], env, tmp_path), "no latent directions")
    for name, extra in (("a", []), ("b", ["--direction", "brightness=2"])):
        done = run_cli(base + ["--out-dir", str(tmp_path / name), "-q"] + extra, env, tmp_path)
        assert done.code == 0, done
    first, moved = (sf.read(tmp_path / n / "sample-000.wav")[0] for n in ("a", "b"))
    assert first.shape == moved.shape and not np.allclose(first, moved)

    drums = audiogen.load(str(steerable), device="cpu")
    assert set(drums.directions) == {"brightness", "decay"}
    api_plain = drums.sample(2, rng_seed=4)
    api_moved = drums.sample(2, rng_seed=4, direction={"brightness": 2})
    assert not np.allclose(api_plain, api_moved)
    path = drums.interpolate(api_plain[0], api_plain[1], steps=3, sample_rate=drums.sample_rate, rng_seed=0,
                             direction={"brightness": -1})
    assert path.shape == (3, api_plain.shape[1])
    with pytest.raises(audiogen.AudiogenError, match="did not pass"):
        drums.sample(1, direction={"decay": 1})
    morph = run_cli(["interpolate", "samplevae", str(tmp_path / "a" / "sample-000.wav"),
                     str(tmp_path / "a" / "sample-001.wav"), "--steps", "3", "--out-dir", str(tmp_path / "m"),
                     "--model", str(steerable), "--direction", "brightness=1", "-q"], env, tmp_path)
    assert morph.code == 0, morph
    assert len(list((tmp_path / "m").glob("step-*.wav"))) == 3


def test_samplevae_directions_are_fitted_checked_and_stored(tmp_path):
    """A small fit on the bundled model: every attribute gets a unit direction, a check and a verdict."""
    from audiogen.runtime.latents import stored_directions
    from audiogen.samplevae.directions import fit_model_directions
    from audiogen.samplevae.load import load_samplevae_model

    stored = fit_model_directions("samplevae-drums", tmp_path / "d.safetensors", sounds=100, per_class=3)
    assert set(stored) == {"brightness", "attack", "decay", "noisiness"}
    loaded = stored_directions(load_samplevae_model(tmp_path / "d.safetensors"))
    for name, entry in loaded.items():
        assert np.linalg.norm(entry["direction"]) == pytest.approx(1.0, abs=1e-6)
        assert 0.0 <= entry["check"]["moved_share"] <= 1.0 and isinstance(entry["shipped"], bool)
        assert "class_kept_share" in entry["check"] and "level" in entry["check"]["moves_with"]


def test_directions_made_free_of_group_means_no_longer_move_between_groups():
    import torch

    from audiogen.runtime.latents import fit_directions, without_group_means

    g = torch.Generator().manual_seed(1)
    z = torch.randn(2000, 8, generator=g)
    group = (z[:, 0] > 0).numpy().astype(int)          # the group lies along latent 0
    value = 2.0 * z[:, 0].numpy() + z[:, 1].numpy()    # the attribute rises with the group and along latent 1
    fitted = fit_directions(z, {"b": value})
    free = without_group_means(fitted, z, group)["b"]
    direction = np.asarray(free["direction"])
    assert abs(direction[0]) < 0.05 and direction[1] > 0.95
    assert free["per_unit"] == pytest.approx(1.0, abs=0.1) and 0 < free["kept"] < 1
