"""MusicVAE: shapes, learning, slerp, the conductor's control of bars, meters, attributes, CLI and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from audiogen.data.melody import NO_EVENT, NOTE_OFF, NUM_CLASSES, PAD, note_on
from audiogen.musicvae.attributes import attribute_vectors, measure, parse_attribute
from audiogen.musicvae.evaluate import kl_cost, kl_divergence, reconstruction_metrics
from audiogen.musicvae.generate import decode, encode, meter_layout
from audiogen.runtime.latents import interpolation_path, slerp
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.train import CONFIGS, apply_overrides, model_config, sampling_probability, vae_losses

TINY = CONFIGS["tiny"]
TUNES = [
    "X:1\nT:Waltz\nM:3/4\nL:1/8\nK:D\nd2 fe dc|B2 A2 F2|G2 E2 C2|D4 A2|d2 fe dc|B2 A2 F2|G2 E2 C2|D6|\n",
    "X:2\nT:Jig\nM:6/8\nL:1/8\nK:G\nGAB cBA|GAB d2e|dBG AFD|GBA G3|GAB cBA|GAB d2e|dBG AFD|GBA G3|\n",
    "X:3\nT:Reel\nM:4/4\nL:1/8\nK:Ador\nEAAB c2BA|GEDE G2AB|c2BA GEDE|EAAG A4|EAAB c2BA|GEDE G2AB|c2BA GEDE|A8|\n",
]


def _melody(seed: int, steps: int = 32) -> np.ndarray:
    """A made-up 4/4 melody window: a note every 2 or 4 steps, (steps,) int64."""
    rng = np.random.default_rng(seed)
    events = np.zeros(steps, dtype=np.int64)
    t = 0
    while t < steps:
        events[t] = note_on(int(rng.integers(60, 72)))
        t += int(rng.choice([2, 4]))
    return events


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "CI": "1", "OMP_NUM_THREADS": "1"}, timeout=300, cwd=cwd)


def _write_midi(path: Path, tracks: list[tuple[int, bool, str, list[tuple[float, float, int]]]],
                time_signature=(4, 4)) -> Path:
    from audiogen.data.soundfonts import import_pretty_midi

    pretty_midi = import_pretty_midi()
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*time_signature, 0.0))
    for program, is_drum, name, notes in tracks:
        inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name=name)
        inst.notes = [pretty_midi.Note(velocity=90, pitch=p, start=s, end=e) for s, e, p in notes]
        pm.instruments.append(inst)
    pm.write(str(path))
    return path


def _scale(first: int, bars: int, step: float = 0.25) -> list[tuple[float, float, int]]:
    """Eighth notes (0.25 s at 120 bpm) walking up from `first`: 8 per 4/4 bar."""
    return [(i * step, (i + 1) * step, first + (i % 12)) for i in range(8 * bars)]


# ---------------------------------------------------------------------------------------------- model


@pytest.mark.parametrize("hierarchical", [False, True])
def test_encode_decode_shapes(hierarchical):
    config = model_config(replace(TINY, bars=4, hierarchical=hierarchical))
    model = MusicVAE(config)
    x = torch.randint(0, NUM_CLASSES, (3, 64))
    mu, sigma = model.encode(x)
    assert mu.shape == sigma.shape == (3, config.latent) and (sigma > 0).all()
    conditions = model.conditions(mu)
    assert conditions.shape == ((3, 4, config.conductor_out) if hierarchical else (3, 1, config.latent))
    assert model.decode(mu, x).shape == (3, 64, NUM_CLASSES)
    sampled = model.sample(mu, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert sampled.shape == (3, 64) and sampled.dtype == torch.long and sampled.max() < NUM_CLASSES


def test_per_bar_encoder_shapes_and_every_bar_reaches_the_latent():
    torch.manual_seed(0)
    config = model_config(replace(TINY, bars=4, hierarchical=True, encoder_per_bar=True, bar_encoder_hidden=8))
    model = MusicVAE(config).eval()
    assert model.encoder.bar_lstm is not None and model.encoder.to_mu.in_features == 16
    x = torch.as_tensor(np.stack([_melody(1, 64), _melody(2, 64)]))
    mu, sigma = model.encode(x)
    assert mu.shape == sigma.shape == (2, config.latent)
    for bar in range(4):  # a change in any one bar moves the code
        y = x.clone()
        y[:, 16 * bar + 1] = note_on(30)
        assert not torch.allclose(model.encode(y)[0], mu)
    seen = []  # what the LSTM over bars reads: one summary per bar, each of its own bar alone
    model.encoder.bar_lstm.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    y = x.clone()
    y[:, 16 * 2 + 5] = note_on(30)
    model.encode(x), model.encode(y)
    moved = (seen[0] - seen[1]).abs().amax(dim=(0, 2)) > 1e-7
    assert seen[0].shape == (2, 4, 2 * config.encoder_hidden) and moved.tolist() == [False, False, True, False]


def _warm_start_expected(name: str) -> bool:
    """The tensors a per-bar hierarchical model shares with a flat 2-bar one of the same sizes."""
    return name.startswith(("encoder.embedding.", "encoder.lstm.", "decoder."))


def test_warm_start_copies_the_encoder_lstm_and_bar_decoder_of_the_bundled_2bar_model():
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.musicvae.warm_start import warm_start

    torch.manual_seed(0)
    model = MusicVAE(model_config(CONFIGS["16bar"]))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bundled = Path(__file__).resolve().parents[1] / "assets" / "models" / "musicvae-2bar.safetensors"
    info = warm_start(model, bundled)
    source = load_musicvae_model(bundled).model.state_dict()
    after = model.state_dict()
    assert info["copied"] and set(info["copied"]) == {k for k in after if _warm_start_expected(k)}
    assert set(info["fresh"]) == set(after) - set(info["copied"])
    assert any(k.startswith("conductor.") for k in info["fresh"]) and "encoder.to_mu.weight" in info["fresh"]
    for k in info["copied"]:
        assert torch.equal(after[k], source[k])
    for k in info["fresh"]:
        assert torch.equal(after[k], before[k])
    assert info["copied_parameters"] == sum(after[k].numel() for k in info["copied"])


def test_distillation_targets_are_codes_the_warm_started_bar_decoder_reads_like_the_2bar_model():
    """A conductor output equal to the 2-bar code of bars (k, k+1) gives bar k the 2-bar decoder's first-bar logits."""
    from audiogen.musicvae.distill import bar_pairs, distill_loss, teacher_codes
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.musicvae.warm_start import warm_start

    bundled = Path(__file__).resolve().parents[1] / "assets" / "models" / "musicvae-2bar.safetensors"
    teacher = load_musicvae_model(bundled).model.eval()
    model = MusicVAE(model_config(CONFIGS["16bar"])).eval()
    warm_start(model, bundled)
    x = torch.as_tensor(np.stack([_melody(i, 256) for i in range(2)]))
    pairs = bar_pairs(x)
    assert pairs.shape == (30, 32) and torch.equal(pairs[16], torch.cat([x[1, 16:32], x[1, 32:48]]))
    with torch.no_grad():
        mu, sigma = teacher_codes(teacher, x)
        assert mu.shape == sigma.shape == (2, 15, 256)
        conditions = torch.cat([mu, torch.zeros(2, 1, 256)], dim=1)  # the last bar has no pair
        bars16 = model.decode_conditions(conditions, x)
        bars2 = teacher.decode(mu.reshape(30, 256), pairs)
    assert torch.allclose(bars16.reshape(2, 16, 16, -1)[:, :15], bars2[:, :16].reshape(2, 15, 16, -1), atol=1e-5)
    assert torch.equal(distill_loss(conditions, mu, sigma), torch.zeros(2))
    moved = conditions.clone()
    moved[0, 3, 7] += 1.0
    expected = 0.5 / max(sigma[0, 3, 7].item(), 0.1) ** 2
    assert distill_loss(moved, mu, sigma)[0].item() == pytest.approx(expected, rel=1e-4)


def test_warm_start_refuses_a_model_that_shares_nothing(tmp_path):
    from audiogen.errors import BadInputError
    from audiogen.musicvae.warm_start import copy_shared_tensors, warm_start

    model = MusicVAE(model_config(TINY))
    other = MusicVAE(model_config(replace(TINY, embed=8, encoder_hidden=8, decoder_hidden=8, latent=8)))
    assert copy_shared_tensors(model, other.state_dict())[0] == ["decoder.head.bias"]  # 91 classes in both
    bundled = Path(__file__).resolve().parents[1] / "assets" / "models" / "musicvae-2bar.safetensors"
    with pytest.raises(BadInputError) as caught:  # the bundled model shares only that bias with TINY
        warm_start(model, bundled)
    assert "shares no weight matrix" in str(caught.value) and str(bundled) in str(caught.value)


def test_conductor_reading_z_and_bar_with_a_linear_map_of_z():
    torch.manual_seed(0)
    config = model_config(replace(TINY, bars=4, hierarchical=True, conductor_reads_z=True, conductor_skip=True,
                                  conductor_tanh=False))
    model = MusicVAE(config).eval()
    assert model.conductor.lstm.input_size == config.latent + 4
    z = torch.randn(3, config.latent)
    with torch.no_grad():
        conditions = model.conditions(z)
        assert conditions.shape == (3, 4, config.conductor_out)
        model.conductor.out.weight.zero_()  # the LSTM path silenced: what is left is bias + the map of z
        left = model.conditions(z) - model.conductor.out.bias
        assert torch.allclose(left, model.conductor.skip(z).reshape(3, 4, -1), atol=1e-6)
        assert left.abs().amax() > 1.0  # linear outputs: not squashed into (-1, 1)


def test_decoder_reads_only_previous_events():
    """Teacher forcing is causal: changing event t changes no logits at or before t."""
    torch.manual_seed(0)
    model = MusicVAE(model_config(TINY)).eval()
    x = torch.as_tensor(_melody(1))[None]
    z = torch.randn(1, TINY.latent)
    y = x.clone()
    y[0, 10] = note_on(40)
    a, b = model.decode(z, x), model.decode(z, y)
    assert torch.equal(a[:, :11], b[:, :11]) and not torch.allclose(a[:, 11:], b[:, 11:])


def test_conductor_output_controls_only_its_bar():
    torch.manual_seed(0)
    model = MusicVAE(model_config(replace(TINY, bars=4, hierarchical=True))).eval()
    z = torch.randn(2, TINY.latent)
    x = torch.as_tensor(np.stack([_melody(1, 64), _melody(2, 64)]))
    conditions = model.conditions(z)
    changed = conditions.clone()
    changed[:, 2] = torch.randn_like(changed[:, 2])
    a, b = model.decode_conditions(conditions, x), model.decode_conditions(changed, x)
    differs = (a - b).abs().amax(dim=(0, 2)) > 1e-6  # (64,) steps whose logits moved
    assert differs[32:48].all() and not differs[:32].any() and not differs[48:].any()
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    sa = model.sample_conditions(conditions, temperature=1.0, generator=g())
    sb = model.sample_conditions(changed, temperature=1.0, generator=g())
    assert torch.equal(sa[:, :32], sb[:, :32]) and torch.equal(sa[:, 48:], sb[:, 48:])


def test_kl_and_free_bits():
    mu, sigma = torch.zeros(2, 8), torch.ones(2, 8)
    assert torch.allclose(kl_divergence(mu, sigma), torch.zeros(2))
    kl = kl_divergence(torch.full((1, 4), 2.0), torch.ones(1, 4))  # 4 * 0.5 * 2^2 = 8 nats
    assert kl.item() == pytest.approx(8.0)
    assert kl_cost(kl, free_bits=4).item() == pytest.approx(8.0 - 4 * np.log(2))
    assert kl_cost(kl, free_bits=100).item() == 0.0


def test_scheduled_sampling_schedule():
    config = replace(TINY, sampling_rate=100.0, sampling_max=0.5)
    assert sampling_probability(config, 0) == pytest.approx(1 - 100 / 101)
    assert sampling_probability(config, 10_000) == 0.5  # capped
    assert sampling_probability(replace(TINY, sampling_rate=0.0), 10_000) == 0.0


def test_tiny_model_overfits_a_few_melodies():
    torch.manual_seed(0)
    config = replace(TINY, latent=32, encoder_hidden=64, decoder_hidden=64, lr=1e-2)
    model = MusicVAE(model_config(config))
    x = torch.as_tensor(np.stack([_melody(i) for i in range(4)]))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    for _ in range(200):
        losses = vae_losses(model, x, beta=0.01, free_bits=0.0)
        optimizer.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    metrics = reconstruction_metrics(model, x.numpy())
    assert metrics["tf_accuracy"] >= 0.98
    assert metrics["sampled_accuracy"] >= 0.9
    assert set(metrics["per_class"]) == {"no_event", "note_off", "note_on"}


def test_reconstruction_metrics_leave_padding_out():
    """A model can only be scored on real steps: a 3/4 window's padding adds no steps."""
    model = MusicVAE(model_config(TINY))
    window = _melody(0)
    window[12:16] = PAD
    window[28:32] = PAD
    metrics = reconstruction_metrics(model, window[None], labels=np.array(["3/4"]))
    assert metrics["steps"] == 24 and metrics["by_label"]["3/4"]["windows"] == 1


# ------------------------------------------------------------------------------ generation helpers


def test_slerp_endpoints_are_the_encoder_means():
    torch.manual_seed(0)
    model = MusicVAE(model_config(TINY)).eval()
    a, b = _melody(1), _melody(2)
    mu_a, _ = encode(model, a)
    mu_b, _ = encode(model, b)
    path = interpolation_path(mu_a[0], mu_b[0], 7)
    assert path.shape == (7, TINY.latent)
    assert torch.allclose(path[0], mu_a[0], atol=1e-6) and torch.allclose(path[-1], mu_b[0], atol=1e-6)
    # slerp keeps the norm for vectors of equal norm, and is linear for parallel ones
    u, v = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert slerp(u, v, 0.5).norm().item() == pytest.approx(1.0)
    assert torch.allclose(slerp(u, 2 * u, 0.5), 1.5 * u)


def test_meter_layout_matches_the_data_windows():
    assert meter_layout("4/4", 2).sum() == 0
    layout = meter_layout("3/4", 2).reshape(2, 16)
    assert layout[:, 12:].all() and not layout[:, :12].any()
    assert meter_layout("9/8", 2).reshape(2, 16).logical_not().sum(dim=1).tolist() == [16, 2]
    with pytest.raises(Exception, match="--meter"):
        meter_layout("3/5", 2)


def test_decode_with_a_meter_layout_places_padding_exactly():
    torch.manual_seed(0)
    model = MusicVAE(model_config(TINY)).eval()
    layout = meter_layout("6/8", 2)
    out = decode(model, torch.randn(8, TINY.latent), temperature=1.0, generator=torch.Generator().manual_seed(1),
                 layout=layout)
    assert ((out == PAD) == layout.numpy()[None]).all()


def test_attributes_measure_and_vectors():
    events = np.array([[note_on(60), NO_EVENT, note_on(64), NOTE_OFF] + [PAD] * 4,
                       [NO_EVENT] * 8])
    values = measure(events)
    assert values["note_density"].tolist() == [0.5, 0.0]
    assert values["mean_pitch"][0] == 62 and np.isnan(values["mean_pitch"][1])
    assert values["pitch_range"][0] == 4
    rng = np.random.default_rng(0)
    density = rng.random(100)
    mu = np.zeros((100, 3))
    mu[:, 1] = density * 2  # only latent dimension 1 follows the attribute
    vectors = attribute_vectors(mu, {"note_density": density})
    vector = np.array(vectors["note_density"]["vector"])
    assert vector[1] > 1.0 and abs(vector[0]) < 1e-9 and abs(vector[2]) < 1e-9
    assert parse_attribute("note_density=+1.5", vectors) == ("note_density", 1.5)
    with pytest.raises(Exception, match="no attribute 'tempo'"):
        parse_attribute("tempo=1", vectors)


def test_set_overrides_are_typed():
    config = apply_overrides(TINY, ["latent=8", "hierarchical=true", "free_bits=12.5"])
    assert (config.latent, config.hierarchical, config.free_bits) == (8, True, 12.5)
    with pytest.raises(Exception, match="--set"):
        apply_overrides(TINY, ["latentt=8"])
    with pytest.raises(Exception, match="not a int"):
        apply_overrides(TINY, ["latent=big"])


# ----------------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A tiny 2-bar model trained through the CLI on 3/4, 6/8 and 4/4 tunes (and a MIDI file)."""
    root = tmp_path_factory.mktemp("musicvae")
    tunes = root / "tunes.abc"
    tunes.write_text("\n".join(TUNES))
    midi = _write_midi(root / "melody.mid", [(0, False, "piano", _scale(60, 4))])
    run = root / "run"
    result = _cli("train", "musicvae", "--data", tunes, "--data", midi, "--config", "tiny", "--steps", "30",
                  "--set", "val_fraction=0.25", "--set", "val_every=15", "--checkpoint-every", "15", "--out", run,
                  "--json", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    return {"root": root, "run": run, "tunes": tunes, "midi": midi, "summary": json.loads(result.stdout)}


def test_train_cli_uses_every_meter_and_writes_a_run(trained):
    summary, run = trained["summary"], trained["run"]
    assert summary["steps"] == 30 and summary["validation"]["tf_accuracy"] is not None
    held_out = set(np.load(run / "heldout.npz")["meter"].tolist())
    assert {"3/4", "6/8", "4/4"} <= set(summary["meters"]) | held_out
    for name in ("config.json", "metrics.jsonl", "checkpoint.pt", "model.safetensors", "heldout.npz"):
        assert (run / name).is_file()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in records if "val_tf_accuracy" in r]
    assert [r["step"] for r in val] == [15, 30]
    assert {"loss", "kl", "accuracy", "beta"} <= set(records[0])


def test_train_cli_resume_continues_exactly(trained, tmp_path):
    """10 + 10 steps with --resume end with the same weights as 20 steps in one go."""
    from audiogen.runtime.modelfile import load_model

    common = ["--data", trained["tunes"], "--config", "tiny", "--device", "cpu", "--quiet",
              "--set", "val_fraction=0", "--checkpoint-every", "10"]
    assert _cli("train", "musicvae", *common, "--steps", "20", "--out", tmp_path / "whole").returncode == 0
    assert _cli("train", "musicvae", *common, "--steps", "10", "--out", tmp_path / "split").returncode == 0
    resumed = _cli("train", "musicvae", *common, "--steps", "20", "--out", tmp_path / "split", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    a = load_model(tmp_path / "whole" / "model.safetensors").tensors
    b = load_model(tmp_path / "split" / "model.safetensors").tensors
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_sample_cli_prior_and_meter(trained, tmp_path):
    from audiogen.data.soundfonts import import_pretty_midi

    model = trained["run"] / "model.safetensors"
    result = _cli("sample", "musicvae", "--model", model, "-n", "3", "--meter", "3/4", "--rng-seed", "4",
                  "--out-dir", tmp_path / "s", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert len(out["files"]) == 3 and out["rng_seed"] == 4
    pm = import_pretty_midi().PrettyMIDI(out["files"][0]["midi"])
    assert [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(3, 4)]
    # 2 bars of 3/4 at 120 bpm: nothing after 3 s
    assert all(n.end <= 3.0 + 1e-6 for inst in pm.instruments for n in inst.notes)
    again = _cli("sample", "musicvae", "--model", model, "-n", "3", "--meter", "3/4", "--rng-seed", "4",
                 "--out-dir", tmp_path / "s2", "--json")
    assert [f["attributes"] for f in json.loads(again.stdout)["files"]] == [f["attributes"] for f in out["files"]]


def test_sample_cli_from_a_file_with_an_attribute(trained, tmp_path):
    model = trained["run"] / "model.safetensors"
    result = _cli("sample", "musicvae", "--model", model, "--from", trained["midi"], "--attribute",
                  "note_density=+1.0", "-n", "2", "--out-dir", tmp_path / "a", "--json", "--temperature", "0")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["source"]["meter"] == "4/4" and (tmp_path / "a" / "input.mid").is_file()
    assert 0.0 <= out["files"][0]["accuracy_vs_input"] <= 1.0
    assert out["args"]["attribute"] == ["note_density=+1.0"]


def test_interpolate_cli_writes_steps_inputs_and_the_whole_walk(trained, tmp_path):
    model = trained["run"] / "model.safetensors"
    b = _write_midi(tmp_path / "b.mid", [(0, False, "", _scale(48, 3))], time_signature=(3, 4))
    result = _cli("interpolate", "musicvae", trained["midi"], b, "--model", model, "--steps", "5",
                  "--out-dir", tmp_path / "walk", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    names = sorted(p.name for p in (tmp_path / "walk").iterdir() if not p.name.startswith("."))
    assert names == ["input-a.mid", "input-b.mid", "interpolation.mid"] + [f"step-{i:02d}.mid" for i in range(5)]
    assert out["inputs"]["b"]["meter"] == "3/4"
    assert set(out["reconstruction_accuracy"]) == {"a", "b"}


def test_eval_cli_reports_accuracies_per_class_and_meter(trained):
    result = _cli("eval", "musicvae", "--model", trained["run"] / "model.safetensors", "--data", trained["tunes"],
                  "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["windows"] > 0 and 0 <= out["tf_accuracy"] <= 1 and 0 <= out["sampled_accuracy"] <= 1
    assert {"3/4", "6/8", "4/4"} <= set(out["by_label"])
    npz = _cli("eval", "musicvae", "--model", trained["run"] / "model.safetensors", "--data",
               trained["run"] / "heldout.npz", "--json")
    assert npz.returncode == 0, npz.stderr


def test_trained_model_stores_its_fitted_prior_and_samples_reproducibly(trained, tmp_path):
    from audiogen.musicvae.load import load_musicvae_model

    model = trained["run"] / "model.safetensors"
    loaded = load_musicvae_model(model)
    assert loaded.prior is not None and loaded.prior.mean.shape == (16,)  # the tiny config's latent
    assert loaded.forms is None and loaded.extra["sampling"]["prior"] == "fitted"  # flat: no bar codes to tie

    def sample(*args):
        result = _cli("sample", "musicvae", "--model", model, "-n", "6", "--rng-seed", "5", "--temperature", "0",
                      "--out-dir", tmp_path / str(len(args)), "--json", *args)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        return [Path(f["midi"]).read_bytes() for f in out["files"]], out

    fitted, _ = sample()
    again, out = sample("--prior", "fitted")
    assert again == fitted and out["args"]["prior"] == "fitted"
    standard, out = sample("--prior", "standard", "--no-repeats")
    assert standard != fitted and out["args"]["prior"] == "standard" and out["args"]["repeats"] is False
    bad = _cli("sample", "musicvae", "--model", model, "--prior", "uniform", "--out-dir", tmp_path / "bad")
    assert bad.returncode == 2 and "--prior 'uniform'" in bad.stderr.strip().splitlines()[-1]
    ignored = _cli("sample", "musicvae", "--model", model, "--from", trained["midi"], "--prior", "standard",
                   "--out-dir", tmp_path / "from")
    assert ignored.returncode == 2 and "with --from" in ignored.stderr.strip().splitlines()[-1]


def test_fit_cli_refits_the_sampling_of_a_model_file_and_keeps_its_weights_and_record(trained, tmp_path):
    from audiogen.runtime.modelfile import load_model

    model = trained["run"] / "model.safetensors"
    out = tmp_path / "refit.safetensors"
    result = _cli("fit", "musicvae", "--model", model, "--data", trained["tunes"], "--heldout-tunes",
                  trained["run"] / "heldout.npz", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sampling"]["prior"] == "fitted" and summary["heldout_windows"] > 0
    before, after = load_model(model), load_model(out)
    assert after.config == before.config
    assert {k: v for k, v in after.extra.items() if k != "sampling"} == \
        {k: v for k, v in before.extra.items() if k != "sampling"}
    assert all(torch.equal(before.tensors[k], after.tensors[k]) for k in before.tensors if k.startswith("model."))
    assert {"prior.mean", "prior.scale_tril"} <= set(after.tensors)
    again = _cli("fit", "musicvae", "--model", model, "--data", trained["tunes"], "--out", out)
    assert again.returncode == 2 and "--force" in again.stderr.strip().splitlines()[-1]
    assert _cli("fit", "musicvae", "--model", model, "--data", trained["tunes"], "--out", out, "--force",
                "-q").returncode == 0


def test_eval_cli_counts_samples_beside_the_heldout_windows(trained):
    result = _cli("eval", "musicvae", "--model", trained["run"] / "model.safetensors", "--data", trained["tunes"],
                  "--meter", "4/4", "--samples", "8", "--rng-seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    counts = out["sample_counts"]
    assert counts["samples"]["melodies"] == 8 and counts["heldout"]["melodies"] == out["windows"]
    for name in ("in_scale", "repeated_bars", "notes_per_bar", "pitch_range"):
        assert name in counts["samples"] and name in counts["heldout"]
    assert 0.0 <= counts["heldout"]["in_scale"] <= 1.0 and out["rng_seed"] == 3 and counts["prior"] == "fitted"
    text = _cli("eval", "musicvae", "--model", trained["run"] / "model.safetensors", "--data", trained["tunes"],
                "--samples", "4")
    assert text.returncode == 0 and "bars repeating an earlier bar" in text.stdout


def test_eval_cli_scores_one_meter_and_names_the_meters_when_absent(trained):
    model = trained["run"] / "model.safetensors"
    jig = _cli("eval", "musicvae", "--model", model, "--data", trained["tunes"], "--meter", "6/8", "--json")
    assert jig.returncode == 0, jig.stderr
    out = json.loads(jig.stdout)
    assert set(out["by_label"]) == {"6/8"} and out["args"]["meter"] == "6/8"
    missing = _cli("eval", "musicvae", "--model", model, "--data", trained["tunes"], "--meter", "5/4")
    last = missing.stderr.strip().splitlines()[-1]
    assert missing.returncode == 2 and "no window in 5/4" in last and "6/8" in last and str(trained["tunes"]) in last


def test_train_cli_warm_start_and_heldout_tunes(trained, tmp_path):
    """A 4-bar per-bar hierarchical run starts from the tiny 2-bar model and holds out its tunes."""
    from audiogen.musicvae.data import source_names
    from audiogen.data.melody import load_windows
    from audiogen.runtime.modelfile import load_model

    source_model, heldout = trained["run"] / "model.safetensors", trained["run"] / "heldout.npz"
    run = tmp_path / "run4"
    result = _cli("train", "musicvae", "--data", trained["tunes"], "--config", "tiny", "--set", "bars=4",
                  "--set", "hierarchical=true", "--set", "encoder_per_bar=true", "--set", "conductor_out=16",
                  "--set", "hop_bars=1", "--set", "conductor_tanh=false", "--set", "distill_weight=0.05",
                  "--warm-start", source_model, "--heldout-tunes", heldout,
                  "--steps", "2", "--set", "val_every=2", "--out", run, "--json", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["warm_start"]["copied"] > 0 and summary["args"]["warm_start"] == str(source_model)
    held_names = set(source_names(load_windows(heldout)).tolist())
    assert set(source_names(load_windows(run / "heldout.npz")).tolist()) == held_names
    first = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert first["step"] == 0 and first["warm_start_copied"] == summary["warm_start"]["copied"]
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any(r.get("distill", 0) > 0 for r in logged)  # the tiny 2-bar model taught the conductor
    assert load_model(run / "model.safetensors").extra["warm_start"]["sha256"] == load_model(source_model).sha256
    # the export carries the fitted prior and the bar forms of training windows; samples take their forms
    from audiogen.musicvae.load import load_musicvae_model

    loaded = load_musicvae_model(run / "model.safetensors")
    assert loaded.prior is not None and loaded.forms is not None and loaded.forms.forms.shape[1] == 4
    assert loaded.extra["sampling"]["form_meters"] == loaded.forms.meters
    sampled = _cli("sample", "musicvae", "--model", run / "model.safetensors", "-n", "4", "--rng-seed", "2",
                   "--out-dir", tmp_path / "s4", "--json")
    assert sampled.returncode == 0, sampled.stderr
    counts = json.loads(sampled.stdout)["counts"]
    assert counts["melodies"] == 4 and set(counts) >= {"in_scale", "repeated_bars", "notes_per_bar", "pitch_range"}
    resumed = _cli("train", "musicvae", "--data", trained["tunes"], "--config", "tiny", "--set", "bars=4",
                   "--set", "hierarchical=true", "--set", "encoder_per_bar=true", "--set", "conductor_out=16",
                   "--set", "hop_bars=1", "--set", "conductor_tanh=false", "--set", "distill_weight=0.05",
                   "--warm-start", source_model, "--steps", "3", "--set", "val_every=2", "--out", run, "--resume",
                   "--quiet", "--device", "cpu")  # no --heldout-tunes: the run keeps the melodies it held out
    assert resumed.returncode == 0, resumed.stderr
    assert set(source_names(load_windows(run / "heldout.npz")).tolist()) == held_names
    no_teacher = _cli("train", "musicvae", "--data", trained["tunes"], "--config", "tiny", "--set", "bars=4",
                      "--set", "hierarchical=true", "--set", "distill_weight=0.05", "--steps", "1",
                      "--out", tmp_path / "no-teacher")
    assert no_teacher.returncode == 2 and "--warm-start" in no_teacher.stderr.strip().splitlines()[-1]
    flat = _cli("train", "musicvae", "--data", trained["tunes"], "--config", "tiny", "--set", "distill_weight=0.05",
                "--warm-start", source_model, "--steps", "1", "--out", tmp_path / "flat")
    assert flat.returncode == 2 and "this config is flat" in flat.stderr.strip().splitlines()[-1]
    both = _cli("train", "musicvae", "--data", trained["tunes"], "--config", "tiny", "--warm-start", source_model,
                "--init-from", source_model, "--steps", "1", "--out", tmp_path / "both")
    assert both.returncode == 2 and "--warm-start and --init-from" in both.stderr
    unseen = tmp_path / "other.npz"
    from audiogen.data.melody import save_windows
    other = load_windows(heldout)
    other["sources"] = np.array(["elsewhere.abc:1"] * len(other["sources"]))
    save_windows(unseen, other)
    refused = _cli("train", "musicvae", "--data", trained["tunes"], "--config", "tiny", "--heldout-tunes", unseen,
                   "--steps", "1", "--out", tmp_path / "unseen")
    assert refused.returncode == 2 and str(unseen) in refused.stderr and "none of its" in refused.stderr


def test_a_short_abc_tune_is_encoded_with_its_repeats_played_out(tmp_path):
    from audiogen.musicvae.data import file_window

    tune = tmp_path / "short.abc"
    tune.write_text("X:1\nT:Short\nM:4/4\nL:1/8\nK:D\n|:d2fd A2FA|d2fa g2fe|d2fd A2FA|BcdB A4:|\n")
    window, melody, bar = file_window(tune, 8)  # 4 bars as written, 8 played
    assert window.shape == (128,) and bar == 0 and len(melody.bar_steps) == 8
    assert np.array_equal(window[:64], window[64:])
    assert len(file_window(tune, 2)[1].bar_steps) == 4  # long enough as written: read as written


def test_multitrack_midi_picks_the_melody_and_track_overrides(trained, tmp_path):
    song = _write_midi(tmp_path / "song.mid", [
        (33, False, "Bass", _scale(36, 4)),
        (73, False, "Melody", _scale(72, 4)),
        (0, True, "Drums", [(i * 0.5, i * 0.5 + 0.1, 36) for i in range(16)]),
    ])
    model = trained["run"] / "model.safetensors"
    chosen = _cli("sample", "musicvae", "--model", model, "--from", song, "--out-dir", tmp_path / "x", "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["source"]["track"] == 1
    forced = _cli("sample", "musicvae", "--model", model, "--from", song, "--track", "0", "--out-dir",
                  tmp_path / "y", "--json")
    assert json.loads(forced.stdout)["source"]["track"] == 0
    drums = _cli("sample", "musicvae", "--model", model, "--from", song, "--track", "2", "--out-dir", tmp_path / "z")
    assert drums.returncode == 2 and "drum" in drums.stderr


@pytest.mark.parametrize("case", ["corrupt", "drums_only", "too_short", "empty", "not_midi"])
def test_bad_input_files_exit_2_naming_the_file(trained, tmp_path, case):
    path = tmp_path / f"{case}.mid"
    if case == "corrupt":
        path.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    elif case == "drums_only":
        _write_midi(path, [(0, True, "Drums", [(i * 0.5, i * 0.5 + 0.1, 38) for i in range(16)])])
    elif case == "too_short":
        _write_midi(path, [(0, False, "", [(0.0, 0.5, 60), (0.5, 1.0, 62)])])  # half a bar
    elif case == "empty":
        _write_midi(path, [(0, False, "", [])])
    else:
        path = tmp_path / "notes.txt"
        path.write_text("hello")
    model = trained["run"] / "model.safetensors"
    for args in (["interpolate", "musicvae", path, trained["midi"], "--out-dir", tmp_path / "o"],
                 ["sample", "musicvae", "--from", path, "--out-dir", tmp_path / "o"]):
        result = _cli(*args, "--model", model)
        assert result.returncode == 2, result.stderr
        assert str(path) in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "o").exists()  # nothing written


def test_bad_usage_exits_2(trained, tmp_path):
    model = trained["run"] / "model.safetensors"
    cases = [
        (["sample", "musicvae", "--attribute", "note_density=1", "--out-dir", tmp_path], "--from"),
        (["sample", "musicvae", "--from", trained["midi"], "--attribute", "loudness=1", "--out-dir", tmp_path],
         "no attribute"),
        (["sample", "musicvae", "--meter", "7/5", "--out-dir", tmp_path], "--meter"),
        (["eval", "musicvae", "--data", tmp_path / "missing.npz"], "missing.npz"),
        (["train", "musicvae", "--data", trained["run"] / "heldout.npz", "--config", "16bar-flat", "--steps", "1",
          "--out", tmp_path / "r"], "16-bar windows"),
        (["sample", "musicvae", "--out-dir", tmp_path, "--model", trained["tunes"]], str(trained["tunes"])),
    ]
    for args, expected in cases:
        result = _cli(*args, *([] if "--model" in args or args[0] == "train" else ["--model", model]))
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_bundled_16bar_model_is_the_16bar_config_and_reconstructs_a_tune(tmp_path):
    from audiogen.musicvae.data import file_window
    from audiogen.musicvae.generate import decode, encode, step_accuracy
    from audiogen.musicvae.load import load_musicvae_model

    bundled = Path(__file__).resolve().parents[1] / "assets" / "models" / "musicvae-16bar.safetensors"
    loaded = load_musicvae_model(bundled)
    assert loaded.model.config == model_config(CONFIGS["16bar"]) and loaded.bars == 16
    tune = tmp_path / "reel.abc"  # 8 bars with repeats: 16 as played
    tune.write_text("X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\n|:d2fd A2FA|d2fa g2fe|d2fd A2FA|BcdB A4|"
                    "d2fd A2FA|d2fa g2fe|f2ed BcdB|A2F2 D4:|\n")
    window = file_window(tune, 16)[0]
    again = decode(loaded.model, encode(loaded.model, window[None])[0], temperature=0)[0]
    assert step_accuracy(again, window) > 0.8  # 0.95 when measured; a model that ignores its code is near 0.5
