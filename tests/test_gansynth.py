"""GANSynth: network shapes and fade-in, the schedule, training steps, the pitch head, exact resume,
data-parallel equivalence (2 gloo processes), and the train / sample commands with bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from audiogen.gansynth.data import batch_rows, downsample_to_level, fade_reals, waves_to_images
from audiogen.gansynth.model import Discriminator, Generator, minibatch_stddev
from audiogen.gansynth.schedule import Phase, phase_at, total_images
from audiogen.gansynth.train import (CONFIGS, build_nets, gan_step, make_optimizers, model_config, normalizer,
                                     spectral_config, step_noise)
from synth_notes import RATE, tone, write_set

# The small config's layout (128 x 512 IF-Mel, 7 levels) with very narrow networks: fast on a CPU.
NARROW = replace(CONFIGS["small"], latent=16, channels=(16, 16, 8, 8, 4, 4, 4), batch_size=8, log_every=1,
                 snapshot_every=0, images_per_stage=16)


@pytest.fixture(scope="module")
def tone_set(tmp_path_factory) -> Path:
    """16 acoustic notes (pitches 36-81) and 4 electronic ones."""
    root = tmp_path_factory.mktemp("gansynth") / "set"
    notes = [(f"keyboard_acoustic_{i % 2:03d}", 0, 36 + 3 * i) for i in range(16)]
    notes += [(f"keyboard_electronic_{i:03d}", 1, 60 + i) for i in range(4)]
    return write_set(root, notes)


def _cli(*args, env_extra: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


# -- networks and schedule ------------------------------------------------------------------------

def test_shapes_at_every_level_and_full_config_layout():
    mc = model_config(CONFIGS["full"])
    assert mc.base_shape == (2, 16) and mc.image_shape == (2, 128, 1024) and mc.pitches == 61
    assert spectral_config(CONFIGS["full"]).frames == 128 and CONFIGS["full"].mel_bins == 1024
    small = model_config(CONFIGS["small"])
    assert small.image_shape == (2, 128, 512) and spectral_config(CONFIGS["small"]).audio_length == 64000
    mc = model_config(NARROW)
    torch.manual_seed(0)
    G, D = Generator(mc), Discriminator(mc)
    z, pitch = torch.randn(4, mc.latent), F.one_hot(torch.arange(4), mc.pitches).float()
    for level in range(mc.levels):
        for alpha in (0.0, 0.5, 1.0):
            x = G(z, pitch, level, alpha)
            assert x.shape == (4, 2, 2 << level, 8 << level)
            assert x.abs().max() <= 1.0
            logit, classes = D(x, level, alpha)
            assert logit.shape == (4,) and classes.shape == (4, mc.pitches)


def test_fade_in_is_continuous_at_stage_boundaries():
    mc = model_config(NARROW)
    torch.manual_seed(1)
    G, D = Generator(mc), Discriminator(mc)
    z, pitch = torch.randn(4, mc.latent), F.one_hot(torch.tensor([0, 5, 9, 60]), mc.pitches).float()
    x = torch.rand(4, 2, 128, 512) * 2 - 1
    with torch.no_grad():
        for level in range(1, mc.levels):
            coarse = F.interpolate(G(z, pitch, level - 1, 1.0), scale_factor=2.0, mode="nearest")
            torch.testing.assert_close(G(z, pitch, level, 0.0), coarse, rtol=0, atol=1e-6)
            real = downsample_to_level(x, level, mc.levels)
            a = D(real, level, 0.0)
            b = D(F.avg_pool2d(real, 2), level - 1, 1.0)
            torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(a[1], b[1], rtol=1e-5, atol=1e-5)
            # Real images fade the same way: at alpha 0 they are the coarser level, upsampled.
            torch.testing.assert_close(fade_reals(real, 0.0), F.interpolate(F.avg_pool2d(real, 2), scale_factor=2.0))
            assert torch.equal(fade_reals(real, 1.0), real)
    # The schedule hands over without a jump: alpha reaches 1 as the fade ends, then stays there.
    per = 1000
    assert phase_at(per - 1, levels=7, images_per_stage=per) == phase_at(0, levels=7, images_per_stage=per)
    start = phase_at(per, levels=7, images_per_stage=per)
    assert (start.stage, start.level, start.alpha) == (1, 1, 0.0)
    late = phase_at(2 * per - 1, levels=7, images_per_stage=per)
    assert late.level == 1 and late.alpha == pytest.approx(1.0, abs=2e-3)
    assert phase_at(2 * per, levels=7, images_per_stage=per).alpha == 1.0
    end = phase_at(total_images(7, per) + 5, levels=7, images_per_stage=per)
    assert (end.stage, end.level, end.alpha) == (12, 6, 1.0) and total_images(7, 800_000) == 10_400_000


def test_minibatch_stddev_groups_are_contiguous():
    x = torch.randn(8, 3, 2, 4)
    y = minibatch_stddev(x, 4)
    halves = torch.cat([minibatch_stddev(x[:4], 4), minibatch_stddev(x[4:], 4)])
    assert torch.equal(y, halves)  # what lets a batch split across ranks see the same statistics
    # A batch that is not a multiple of the group (--batch-size 3: D sees 6) uses the largest group that divides it.
    odd = torch.randn(6, 3, 2, 4)
    thirds = torch.cat([minibatch_stddev(odd[i:i + 3], 3) for i in (0, 3)])
    assert torch.equal(minibatch_stddev(odd, 4), thirds)


def test_ema_decay_is_the_papers_unless_stages_are_short():
    from audiogen.gansynth.train import ema_decay

    assert ema_decay(CONFIGS["full"]) == 0.999
    short = replace(CONFIGS["small"], images_per_stage=1200)
    assert ema_decay(short) == pytest.approx(0.5 ** (8 / 300))  # half-life: a quarter of a stage
    assert ema_decay(short) < ema_decay(CONFIGS["small"]) <= 0.999


def test_batches_and_noise_depend_only_on_step():
    rows = [batch_rows(s, 8, 20, seed=3) for s in range(6)]
    assert all(len(r) == 8 and len(set(r)) == 8 for r in rows)
    assert len(set(np.concatenate(rows[:2]))) == 16  # one epoch (2 batches) draws distinct notes
    assert np.array_equal(batch_rows(4, 8, 20, seed=3), rows[4])
    hist = torch.tensor([0.0, 5.0, 0.0, 1.0], dtype=torch.float64)
    config = replace(NARROW, latent=4)
    whole = step_noise(7, config, hist, slice(None), torch.device("cpu"))
    part = step_noise(7, config, hist, slice(4, 8), torch.device("cpu"))
    assert torch.equal(whole.z_d[4:], part.z_d) and torch.equal(whole.mix[4:], part.mix)
    assert set(whole.pitch_d.tolist()) <= {1, 3}  # fake pitches follow the training histogram


# -- training ---------------------------------------------------------------------------------------

def test_training_steps_change_the_weights_at_low_and_full_resolution():
    torch.manual_seed(0)
    config = NARROW
    nets = build_nets(config, torch.device("cpu"))
    g_opt, d_opt = make_optimizers(nets, config)
    before = {name: [p.detach().clone() for p in m.parameters()]
              for name, m in (("g", nets.generator), ("d", nets.discriminator), ("ema", nets.generator_ema))}
    waves = torch.from_numpy(np.stack([tone(40 + 4 * i) for i in range(8)]))
    hist = torch.ones(config.pitches, dtype=torch.float64)
    images = waves_to_images(waves, spectral_config(config), mel=True, norm=normalizer(config))
    assert images.shape == (8, 2, 128, 512) and images.abs().max() <= 1.0
    for step, (level, alpha) in enumerate([(0, 1.0), (1, 0.5), (6, 1.0)]):
        reals = fade_reals(downsample_to_level(images, level, 7), alpha)
        phase = Phase(2 * level, level, alpha)
        noise = step_noise(step, config, hist, slice(None), torch.device("cpu"))
        losses = gan_step(nets, g_opt, d_opt, reals, torch.arange(8), noise, phase, config)
        assert all(torch.isfinite(v) for v in losses.values()), losses
    for name, module in (("g", nets.generator), ("d", nets.discriminator), ("ema", nets.generator_ema)):
        changed = [not torch.equal(a, b) for a, b in zip(before[name], module.parameters())]
        assert any(changed), name
    # The EMA generator follows G slowly (16-image stages: decay 0.5 ** (8 / 4) a step).
    g_move = sum((a - b).abs().sum() for a, b in zip(before["g"], nets.generator.parameters()))
    ema_move = sum((a - b).abs().sum() for a, b in zip(before["ema"], nets.generator_ema.parameters()))
    assert 0 < ema_move < 0.9 * g_move


def test_pitch_head_learns_pitch_of_instruments_it_never_heard():
    """The discriminator's 61-way pitch head, trained on real notes rendered from 10 GM programs,
    names the pitch of notes from 2 programs it never saw (chance: 1 in 8 pitches, 1 in 61 classes)."""
    from audiogen.data.soundfonts import NoteRenderer, fluidsynth_available, small_soundfont

    if not fluidsynth_available()[0] or small_soundfont() is None:
        pytest.skip("FluidSynth or pretty_midi's SoundFont unavailable")
    config = replace(NARROW, channels=(32, 32, 32, 16, 16, 8, 8))
    pitches = [43, 48, 53, 57, 60, 64, 67, 72]
    seen, unseen = [0, 4, 11, 19, 24, 32, 48, 56, 65, 71], [40, 73]  # violin and flute held out
    with NoteRenderer(small_soundfont(), sample_rate=RATE) as renderer:
        notes = {prog: np.stack([renderer.render(prog, p, 100) for p in pitches]).astype(np.float32)
                 for prog in seen + unseen}
    level = 3  # 16 x 64 images
    norm, spec = normalizer(config), spectral_config(config)

    def images(programs):
        waves = torch.from_numpy(np.concatenate([notes[p] for p in programs]))
        return downsample_to_level(waves_to_images(waves, spec, mel=True, norm=norm), level, 7)

    labels = torch.tensor(pitches) - config.pitch_min
    train, held_out = images(seen), images(unseen)
    torch.manual_seed(0)
    D = Discriminator(model_config(config))
    opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.0, 0.99))
    for _ in range(200):
        loss = F.cross_entropy(D(train, level)[1], labels.repeat(len(seen)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        train_acc = (D(train, level)[1].argmax(1) == labels.repeat(len(seen))).float().mean().item()
        held_acc = (D(held_out, level)[1].argmax(1) == labels.repeat(len(unseen))).float().mean().item()
    # measured 0.86 / 0.75, and 0.79 / 0.81 with torch 2.14 (the float order moves train accuracy by a few notes)
    assert train_acc >= 0.75 and held_acc >= 0.5, (train_acc, held_acc)


# -- the train command: resume, data-parallel, bad input -------------------------------------------

def _train(data: Path, out: Path, *extra, env_extra=None) -> subprocess.CompletedProcess:
    return _cli("train", "gansynth", "--data", data, "--out", out, "--config", "small", "--images-per-stage", 16,
                "--batch-size", 8, "--snapshot-every", 0, "--cache-dir", out.parent / "cache", "--device", "cpu",
                *extra, env_extra=env_extra)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    return {f"{m}.{k}": v for m, sd in ckpt["modules"].items() for k, v in sd.items()}


def test_resume_after_interruption_repeats_the_uninterrupted_run(tone_set, tmp_path):
    from audiogen.gansynth.train import train_gansynth

    config = replace(NARROW, filters=("gansynth",))
    whole = train_gansynth(tone_set, tmp_path / "whole", config=config, steps=6, cache_root=tmp_path / "c",
                           device="cpu", quiet=True)
    first = train_gansynth(tone_set, tmp_path / "parts", config=config, steps=6, cache_root=tmp_path / "c",
                           device="cpu", quiet=True, stop=lambda step: step == 3)
    assert first["stopped_early"] and first["steps"] == 3
    second = train_gansynth(tone_set, tmp_path / "parts", config=config, steps=6, cache_root=tmp_path / "c",
                            device="cpu", quiet=True, resume=True)
    assert second["steps"] == 6 and whole["stage"] == second["stage"] == 2  # steps 2-3 faded level 1 in

    def metrics(run):
        return [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]

    a, b = metrics("whole"), metrics("parts")
    assert [m["step"] for m in b] == [1, 2, 3, 4, 5, 6]
    for x, y in zip(a, b):
        for key in ("d_loss", "g_loss", "gp", "wdist", "d_aux", "stage", "alpha"):
            assert x[key] == y[key], (x["step"], key)
    wa, wb = _weights(tmp_path / "whole"), _weights(tmp_path / "parts")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_run_resumed_mid_window_logs_the_same_means(tone_set, tmp_path):
    """Metrics lines average the steps since the last line; those sums are in the checkpoint, so a
    run stopped (or killed) between lines logs what an uninterrupted run logs."""
    from audiogen.gansynth.train import train_gansynth

    config = replace(NARROW, filters=("gansynth",), log_every=4)
    common = dict(config=config, steps=8, cache_root=tmp_path / "c", device="cpu", quiet=True)
    train_gansynth(tone_set, tmp_path / "whole", **common)
    train_gansynth(tone_set, tmp_path / "parts", **common, stop=lambda step: step == 3)
    train_gansynth(tone_set, tmp_path / "parts", **common, resume=True)

    def lines(run):
        return [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]

    a, b = lines("whole"), lines("parts")
    assert [m["step"] for m in a] == [m["step"] for m in b] == [4, 8]
    for x, y in zip(a, b):
        for key in ("d_loss", "g_loss", "gp", "wdist"):
            assert x[key] == y[key], (x["step"], key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_make_the_same_update_as_one(tone_set, tmp_path):
    single = _train(tone_set, tmp_path / "one", "--steps", 4, "--json")
    assert single.returncode == 0, single.stderr
    env = {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1"}
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                          f"--master_port={_free_port()}", "--master_addr=127.0.0.1", "-m", "audiogen", "train",
                          "gansynth", "--data", str(tone_set), "--out", str(tmp_path / "two"), "--config", "small",
                          "--images-per-stage", "16", "--batch-size", "8", "--snapshot-every", "0", "--cache-dir",
                          str(tmp_path / "cache"), "--device", "cpu", "--steps", "4", "--json"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    result = json.loads(ddp.stdout)  # rank 0 alone prints
    assert result["world_size"] == 2 and result["ranks_in_sync"] and result["steps"] == 4
    assert not (tmp_path / "two" / "checkpoint.pt.tmp").exists()
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    diffs = torch.cat([(one[k] - two[k]).abs().flatten() for k in one])
    # Float sums in another order, nothing more. Adam turns the rounding noise of a near-zero
    # gradient into a step of up to lr, so a few weights may move by up to steps x lr (torch 2.14:
    # 449 of 3.7M weights past 1e-4, the largest 0.0027); a DDP fault (gradients not averaged,
    # the wrong shards) moves most of them.
    moved = (diffs > 1e-4).float().mean().item()
    assert moved < 1e-3 and diffs.max().item() <= 4 * 8e-4 * 1.01, (moved, diffs.max().item())


def test_train_command_reports_the_filter_and_refuses_bad_input(tone_set, tmp_path):
    run = _train(tone_set, tmp_path / "run", "--steps", 2)
    assert run.returncode == 0, run.stderr
    assert "source=acoustic removed 4 of 20 notes" in run.stderr and "pitch=24-84 removed 0" in run.stderr
    assert "step 2/2" in run.stdout and (tmp_path / "run" / "model.safetensors").is_file()
    again = _train(tone_set, tmp_path / "run", "--steps", 2)
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr

    none = _train(tone_set, tmp_path / "none", "--filter", "family=vocal", "--steps", 1)
    assert none.returncode == 2 and "no notes match" in none.stderr and "family=vocal removed 20" in none.stderr
    assert "Traceback" not in none.stderr and not (tmp_path / "none" / "checkpoint.pt").exists()
    missing = _train(tmp_path / "nowhere", tmp_path / "x", "--steps", 1)
    assert missing.returncode == 2 and "nowhere" in missing.stderr and "Traceback" not in missing.stderr
    odd = _train(tone_set, tmp_path / "odd", "--batch-size", 6, "--steps", 1)
    assert odd.returncode == 2 and "minibatch-stddev" in odd.stderr


def test_other_sample_rates_are_resampled_with_a_warning_and_corrupt_files_skipped(tmp_path):
    root = write_set(tmp_path / "set", [(f"keyboard_acoustic_{i:03d}", 0, 40 + i) for i in range(8)])
    write_set(tmp_path / "set44", [("keyboard_acoustic_100", 0, 70), ("keyboard_acoustic_101", 0, 71)], rate=44100)
    examples = json.loads((root / "examples.json").read_text())
    for name, entry in json.loads((tmp_path / "set44" / "examples.json").read_text()).items():
        examples[name] = entry
        os.replace(tmp_path / "set44" / "audio" / f"{name}.wav", root / "audio" / f"{name}.wav")
    (root / "audio" / "keyboard_acoustic_003-043-100.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    (root / "examples.json").write_text(json.dumps(examples))
    run = _train(root, tmp_path / "run", "--steps", 1, "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["notes"] == 9 and result["cache"]["resampled"] == 2 and result["skipped"]["count"] == 1
    assert "2 notes were not 16 kHz and were resampled (2 at 44100 Hz)" in run.stderr
    assert "keyboard_acoustic_003-043-100.wav" in run.stderr
    strict = _train(root, tmp_path / "strict", "--steps", 1, "--strict", "--cache-dir", tmp_path / "c2")
    assert strict.returncode == 2 and "--strict" in strict.stderr


# -- sampling ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_model(tone_set, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gansynth-model")
    run = _train(tone_set, out / "run", "--steps", 3)
    assert run.returncode == 0, run.stderr
    return out / "run" / "model.safetensors"


def test_sample_writes_four_second_notes_named_by_pitch(small_model, tmp_path):
    import soundfile as sf

    run = _cli("sample", "gansynth", "--model", small_model, "--pitch", 60, "--pitches", "62-63", "-n", 2,
               "--same-latent", "--rng-seed", 5, "--out-dir", tmp_path / "a", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    names = sorted(Path(f["path"]).name for f in result["files"])
    assert names == [f"pitch{p:03d}-{i}.wav" for p in (60, 62, 63) for i in (0, 1)]
    info = sf.info(tmp_path / "a" / "pitch062-1.wav")
    assert (info.samplerate, info.frames, info.channels) == (16000, 64000, 1)
    assert result["rng_seed"] == 5 and result["model_sha256"]
    again = _cli("sample", "gansynth", "--model", small_model, "--pitch", 60, "--pitches", "62-63", "-n", 2,
                 "--same-latent", "--rng-seed", 5, "--out-dir", tmp_path / "b", "--quiet")
    assert again.returncode == 0, again.stderr
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)


def test_same_latent_shares_note_i_across_pitches(small_model):
    from audiogen.gansynth.generate import generate_images, note_latents
    from audiogen.gansynth.load import load_gansynth_model

    z, pitches = note_latents(2, [60, 64, 67], 16, same_latent=True, generator=torch.Generator().manual_seed(0))
    assert pitches.tolist() == [60, 60, 64, 64, 67, 67] and z.shape == (6, 16)
    assert torch.equal(z[0], z[2]) and torch.equal(z[1], z[5]) and not torch.equal(z[0], z[1])
    z, _ = note_latents(2, [60, 64], 16, same_latent=False, generator=torch.Generator().manual_seed(0))
    assert len({tuple(row.tolist()) for row in z}) == 4
    bundle = load_gansynth_model(small_model)
    assert (bundle.level, bundle.alpha) == (1, 0.0)  # the 3rd step of 8 images began the fade into level 1
    images = generate_images(bundle, torch.randn(2, bundle.config.latent), torch.tensor([24, 84]))
    assert images.shape == (2, 2, 128, 512)  # upsampled from level 1 (4 x 16) to the full picture


def test_sample_refuses_bad_pitches_and_other_models(small_model, tmp_path):
    out_of_range = _cli("sample", "gansynth", "--model", small_model, "--pitch", 90, "--out-dir", tmp_path / "x")
    assert out_of_range.returncode == 2 and "outside this model's range 24-84" in out_of_range.stderr
    assert not (tmp_path / "x").exists()
    no_pitch = _cli("sample", "gansynth", "--model", small_model, "--out-dir", tmp_path / "x")
    assert no_pitch.returncode == 2 and "--pitch" in no_pitch.stderr
    repo = Path(__file__).resolve().parents[1]
    other = _cli("sample", "gansynth", "--model", repo / "assets" / "models" / "abc.safetensors", "--pitch", 60,
                 "--out-dir", tmp_path / "x")
    assert other.returncode == 2 and "expected gansynth" in other.stderr and "Traceback" not in other.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_step_matches_cpu_in_fp32_and_runs_in_bf16():
    from audiogen.runtime.precision import autocast_dtype

    waves = torch.from_numpy(np.stack([tone(40 + 4 * i) for i in range(8)]))
    hist = torch.ones(NARROW.pitches, dtype=torch.float64)
    phase = Phase(6, 3, 1.0)
    results = {}
    for name, device, dtype in (("cpu", "cpu", None), ("cuda", "cuda", None),
                                ("bf16", "cuda", autocast_dtype(torch.device("cuda"), "auto"))):
        device = torch.device(device)
        torch.manual_seed(0)
        nets = build_nets(NARROW, device)
        g_opt, d_opt = make_optimizers(nets, NARROW)
        images = waves_to_images(waves.to(device), spectral_config(NARROW), mel=True, norm=normalizer(NARROW))
        reals = downsample_to_level(images, phase.level, 7)
        noise = step_noise(0, NARROW, hist, slice(None), device)
        results[name] = {k: float(v) for k, v in gan_step(nets, g_opt, d_opt, reals, torch.arange(8, device=device),
                                                          noise, phase, NARROW, amp_dtype=dtype).items()}
    for key in ("d_loss", "g_loss", "gp"):
        assert results["cuda"][key] == pytest.approx(results["cpu"][key], rel=2e-2, abs=1e-3), key  # cuDNN uses TF32
    assert all(np.isfinite(v) for v in results["bf16"].values())


# -- GANSynth in use: metrics, interpolation, rendering, projection ----------------------------------

def test_metric_functions_on_known_inputs():
    from audiogen.gansynth.evaluate import (frechet_distance, inception_score, ndb, pitch_accuracy,
                                            pitch_entropy)

    g = torch.Generator().manual_seed(0)
    feats = torch.randn(400, 8, generator=g)
    assert frechet_distance(feats.numpy(), feats.numpy()) == pytest.approx(0.0, abs=1e-6)
    shifted = frechet_distance(feats.numpy(), feats.numpy() + 1.0)
    assert shifted == pytest.approx(8.0, rel=1e-6)  # |mean shift|^2 = 8 x 1^2, same covariance
    assert ndb(feats, feats, k=10)["ndb"] == 0
    moved = ndb(feats, feats + 3.0, k=10)
    assert moved["ndb"] > 5 and moved["k"] == 10
    onehot = F.one_hot(torch.arange(400) % 4, 128).float()
    assert pitch_entropy(onehot) == pytest.approx(0.0, abs=1e-6)
    assert inception_score(onehot) == pytest.approx(4.0, rel=1e-4)  # 4 equally used, certain classes
    assert inception_score(torch.full((10, 128), 1 / 128)) == pytest.approx(1.0)
    assert pitch_accuracy(onehot, torch.arange(400) % 4) == 1.0


def test_slerp_path_ends_at_the_inputs():
    from audiogen.runtime.latents import interpolation_path

    a, b = torch.randn(16), torch.randn(16)
    path = interpolation_path(a, b, 5)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    assert path.shape == (5, 16)


def _midi(path: Path, notes, drums=()) -> Path:
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(0)
    piano.notes += [pretty_midi.Note(velocity=v, pitch=p, start=s, end=e) for p, s, e, v in notes]
    if piano.notes:
        midi.instruments.append(piano)
    if drums:
        kit = pretty_midi.Instrument(0, is_drum=True)
        kit.notes += [pretty_midi.Note(velocity=100, pitch=p, start=s, end=s + 0.1) for p, s in drums]
        midi.instruments.append(kit)
    midi.write(str(path))
    return path


def test_render_places_notes_at_their_midi_times(small_model, tmp_path):
    import soundfile as sf

    song = _midi(tmp_path / "three.mid", [(60, 0.5, 0.9, 100), (64, 1.5, 1.9, 60), (100, 2.5, 2.9, 127)],
                 drums=[(36, 0.0)])
    run = _cli("render", "gansynth", song, "--out", tmp_path / "three.wav", "--model", small_model, "--rng-seed", 1,
               "--json", "--check-pitch")
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert info["drum_notes_ignored"] == 1 and info["transposed"] == 1 and info["generated_notes"] == 3
    assert info["pitch_check"]["notes"] == 3  # three notes apart: each read back by pYIN over its onset
    wave, rate = sf.read(tmp_path / "three.wav", dtype="float32")
    assert rate == 16000 and len(wave) == round((2.9 + 0.3) * rate)  # the last note's end plus its release
    assert np.abs(wave).max() <= 0.99 + 1e-4
    loud = np.abs(wave) > 1e-3
    for start in (0.5, 1.5, 2.5):
        onset = int(start * rate)
        assert not loud[onset - 4000:onset].any(), start  # silence before: the previous note has ended
        assert loud[onset:onset + 512].any(), start  # sound within one hop of the MIDI time
    strict = _cli("render", "gansynth", song, "--out", tmp_path / "x.wav", "--model", small_model, "--strict")
    assert strict.returncode == 2 and "outside the model's range 24-84" in strict.stderr


def test_render_refuses_empty_drum_only_and_corrupt_midi(small_model, tmp_path):
    empty = _midi(tmp_path / "empty.mid", [])
    drums = _midi(tmp_path / "drums.mid", [], drums=[(36, 0.0), (38, 0.5)])
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    for path, problem in ((empty, "holds no notes"), (drums, "holds only drum notes"),
                          (corrupt, "not a readable MIDI file")):
        run = _cli("render", "gansynth", path, "--out", tmp_path / "out.wav", "--model", small_model)
        assert run.returncode == 2 and problem in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert not (tmp_path / "out.wav").exists()


def test_projection_lowers_the_spectral_loss(small_model):
    from audiogen.gansynth.generate import project_note
    from audiogen.gansynth.load import load_gansynth_model

    bundle = load_gansynth_model(small_model)
    z, losses = project_note(bundle, torch.from_numpy(tone(48)), 48, steps=40)
    assert z.shape == (bundle.config.latent,) and len(losses) == 41
    assert losses[-1] < 0.9 * losses[0], (losses[0], losses[-1])


def test_encode_then_interpolate_from_the_latent(small_model, tmp_path):
    import soundfile as sf

    note = tmp_path / "note-22k.wav"
    sf.write(note, tone(55)[:48000], 16000)  # 3 s: padded to 4 s with a warning
    run = _cli("encode", "gansynth", note, "--pitch", 55, "--out", tmp_path / "z.npy", "--steps", 10,
               "--model", small_model)
    assert run.returncode == 0, run.stderr
    assert "padded with silence to 4 s" in run.stderr
    z = np.load(tmp_path / "z.npy")
    assert z.shape == (128,) and z.dtype == np.float32  # the small config's latent
    walk = _cli("interpolate", "gansynth", "--pitch", 55, "--steps", 3, "--from-latent", tmp_path / "z.npy",
                "--to-rng-seed", 2, "--out-dir", tmp_path / "walk", "--model", small_model, "--json")
    assert walk.returncode == 0, walk.stderr
    names = sorted(p.name for p in (tmp_path / "walk").iterdir() if not p.name.startswith("."))
    assert names == ["step-00.wav", "step-01.wav", "step-02.wav", "walk.wav"]
    assert sf.info(tmp_path / "walk" / "walk.wav").frames == 2 * 16000 + 64000
    pitch_walk = _cli("interpolate", "gansynth", "--pitches", "50-52", "--out-dir", tmp_path / "pw",
                      "--model", small_model)
    assert pitch_walk.returncode == 0, pitch_walk.stderr
    assert sorted(p.name for p in (tmp_path / "pw").iterdir() if not p.name.startswith(".")) == ["pitch050.wav", "pitch051.wav", "pitch052.wav",
                                                                   "walk.wav"]
    np.save(tmp_path / "bad.npy", np.zeros((3, 5)))
    bad = _cli("interpolate", "gansynth", "--pitch", 55, "--from-latent", tmp_path / "bad.npy", "--out-dir",
               tmp_path / "x", "--model", small_model)
    assert bad.returncode == 2 and "shape (3, 5)" in bad.stderr and "Traceback" not in bad.stderr


def test_pitch_classifier_and_eval_commands(tone_set, small_model, tmp_path):
    train = _cli("train", "pitch-classifier", "--data", tone_set, "--out", tmp_path / "pc", "--steps", 30,
                 "--batch-size", 8, "--cache-dir", tmp_path / "cache", "--device", "cpu", "--json")
    assert train.returncode == 0, train.stderr
    summary = json.loads(train.stdout)
    assert summary["train_notes"] + summary["val_notes"] == 16 and 0.0 <= summary["val_accuracy"] <= 1.0
    run = _cli("eval", "gansynth", "--model", small_model, "--data", tone_set, "--classifier",
               tmp_path / "pc" / "model.safetensors", "-n", 8, "--cache-dir", tmp_path / "cache", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for side in ("generated", "real"):
        assert set(result[side]) >= {"pitch_accuracy", "pitch_entropy", "inception_score", "frechet_distance",
                                     "ndb", "ndb_over_k"}
    assert result["generated"]["notes"] == 8 and result["real"]["notes"] == 8 and result["k"] == 8
    assert {"pyin_within_semitone", "pyin_voiced"} <= set(result["generated"]) & set(result["real"])
    assert result["grid"]["notes"] == 36 and result["grid"]["pitches"] == [36, 42, 48, 54, 60, 66, 72, 78, 84]
    text = _cli("eval", "gansynth", "--model", small_model, "--data", tone_set, "--classifier",
                tmp_path / "pc" / "model.safetensors", "-n", 8, "--cache-dir", tmp_path / "cache", "--pyin-notes", 0)
    assert text.returncode == 0 and "Fréchet distance" in text.stdout and "real held-out" in text.stdout
