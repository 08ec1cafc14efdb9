"""GANSynth's pitch conditioning: the harmonic pitch map, BigGAN-style conditioning and the
projection discriminator, per-stage schedules, the fitted normaliser, and the independent pitch
check (pYIN + classifier) that a generator ignoring its pitch input must fail."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from audiogen.gansynth.model import Discriminator, Generator, harmonic_maps
from audiogen.gansynth.pitch_check import grid_latents, grid_notes, grid_pitches, pitch_report, semitone_error
from audiogen.gansynth.schedule import Phase, phase_at, stage_lengths, total_images
from audiogen.gansynth.train import (CONFIGS, build_nets, config_from_dict, ema_decay, gan_step, make_optimizers,
                                     model_config, normalizer, spectral_config, step_noise)

# The cpu config's layout (64 x 256 IF-Mel, 6 levels) with narrow networks.
TINY_CPU = replace(CONFIGS["cpu"], latent=16, channels=(16, 16, 8, 8, 8, 4), pitch_embedding=8, batch_size=8,
                   log_every=1, snapshot_every=0, stage_images=(), images_per_stage=16)
RATE = 16000


def _tones(pitches, *, seconds: float = 4.0, harmonics: int = 6) -> torch.Tensor:
    t = np.arange(int(seconds * RATE)) / RATE
    out = []
    for p in pitches:
        f0 = 440.0 * 2 ** ((int(p) - 69) / 12)
        wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, harmonics + 1) if k * f0 < RATE / 2)
        out.append(0.5 * wave / np.abs(wave).max() * np.minimum(t / 0.01, 1.0))
    return torch.tensor(np.stack(out), dtype=torch.float32)


def test_cpu_layout_and_harmonic_maps_put_energy_at_the_harmonics():
    mc = model_config(CONFIGS["cpu"])
    assert mc.image_shape == (2, 64, 256) and mc.base_shape == (2, 8) and spectral_config(CONFIGS["cpu"]).frames == 64
    assert spectral_config(CONFIGS["cpu"]).pad_right >= 0 and len(mc.band_hz) == 256
    maps = harmonic_maps(mc.pitch_min, mc.pitches, mc.band_hz)
    assert maps.shape == (61, 256) and float(maps.max()) == pytest.approx(1.0)
    band = torch.tensor(mc.band_hz)
    for pitch in (36, 60, 84):
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        peak = int(maps[pitch - mc.pitch_min].argmax())
        assert abs(float(band[peak]) - f0) < 0.1 * f0 + 20, (pitch, float(band[peak]), f0)  # strongest at f0
    assert not torch.allclose(maps[0], maps[1])


def test_pitch_and_latent_both_shape_the_generator_output():
    """The paper's one-hot enters only G's first layer and barely moves its output at
    initialisation (measured 0.03-0.04x the latent's effect); a pitch embedding alone in every
    block's affine map drowned the latent instead (3.5-6x); embedding + latent balance them."""
    torch.manual_seed(0)
    mc = model_config(TINY_CPU)
    G = Generator(mc)
    z = torch.randn(8, mc.latent)
    pitches = F.one_hot(torch.arange(0, 61, 8), mc.pitches).float()
    with torch.no_grad():
        across_pitch = G(z[:1].expand(8, -1), pitches, 4).std(dim=0).mean()
        across_latent = G(z, pitches[:1].expand(8, -1), 4).std(dim=0).mean()
    assert 0.33 < float(across_pitch / across_latent) < 3.0


def test_projection_discriminator_judges_a_note_against_its_pitch():
    torch.manual_seed(0)
    mc = model_config(TINY_CPU)
    D = Discriminator(mc)
    x = torch.rand(4, 2, 16, 64) * 2 - 1
    with pytest.raises(ValueError, match="pitch"):
        D(x, 3)
    a, classes = D(x, 3, 1.0, pitch=F.one_hot(torch.tensor([0, 1, 2, 3]), mc.pitches).float())
    b, _ = D(x, 3, 1.0, pitch=F.one_hot(torch.tensor([40, 41, 42, 43]), mc.pitches).float())
    assert classes is None and a.shape == (4,) and not torch.allclose(a, b)


def test_projection_training_steps_run_at_every_level_without_a_pitch_head():
    torch.manual_seed(0)
    config = TINY_CPU
    nets = build_nets(config, torch.device("cpu"))
    g_opt, d_opt = make_optimizers(nets, config)
    hist = torch.ones(config.pitches, dtype=torch.float64)
    mc = model_config(config)
    for step, (level, alpha) in enumerate([(0, 1.0), (2, 0.5), (5, 1.0)]):
        reals = torch.rand(8, 2, *mc.shape_at(level)) * 2 - 1
        losses = gan_step(nets, g_opt, d_opt, reals, torch.arange(8) * 7, step_noise(step, config, hist, slice(None),
                          torch.device("cpu")), Phase(2 * level, level, alpha), config)
        assert all(torch.isfinite(v) for v in losses.values()) and "d_aux" not in losses


def test_per_stage_schedule_and_its_ema():
    lengths = (10, 20, 30, 40, 50)
    assert total_images(3, lengths) == 150 and stage_lengths(3, 7) == [7] * 5
    assert phase_at(9, levels=3, images_per_stage=lengths) == Phase(0, 0, 1.0)
    assert phase_at(20, levels=3, images_per_stage=lengths) == Phase(1, 1, 0.5)
    assert phase_at(30, levels=3, images_per_stage=lengths) == Phase(2, 1, 1.0)
    assert phase_at(80, levels=3, images_per_stage=lengths) == Phase(3, 2, 0.5)
    assert phase_at(10_000, levels=3, images_per_stage=lengths) == Phase(4, 2, 1.0)
    with pytest.raises(ValueError):
        stage_lengths(3, (1, 2))
    config = CONFIGS["cpu"]
    assert ema_decay(config, 0) < ema_decay(config, 10) <= 0.999  # short early stages: a faster EMA


def test_old_model_configs_keep_the_papers_conditioning():
    old = {k: v for k, v in json.loads(json.dumps(CONFIGS["small"].__dict__)).items()
           if k not in ("conditioning", "pitch_embedding", "harmonic_map", "stage_images", "min_pad_right",
                        "fit_normalizer")}
    mc = model_config(config_from_dict(old))
    assert mc.conditioning == "acgan" and mc.band_hz == ()


def test_fitted_normaliser_maps_the_training_range_onto_the_margin():
    from audiogen.gansynth.data import fit_magnitude_normalizer, waves_to_images

    class Cache:
        def __init__(self, waves):
            self._w = waves

        def __len__(self):
            return len(self._w)

        def waves(self, rows):
            return self._w[rows]

    waves = _tones([40, 52, 64, 76]).numpy()
    spec = spectral_config(TINY_CPU)
    constants = fit_magnitude_normalizer(Cache(waves), spec, mel=True)
    images = waves_to_images(torch.from_numpy(waves), spec, mel=True, norm=replace(normalizer(TINY_CPU), **constants))
    assert float(images[:, 0].max()) == pytest.approx(0.8, abs=1e-4)
    assert float(images[:, 0].min()) >= -0.8 - 1e-4


def test_independent_pitch_check_passes_notes_at_their_pitch_and_fails_a_pitch_deaf_model():
    pitches = torch.tensor(grid_pitches((24, 84)))
    right = pitch_report(_tones(pitches), pitches)
    assert right["pyin_within_semitone"] >= 0.9 and right["pyin_voiced"] >= 0.9
    # A "generator" that ignores pitch: the same 220 Hz note whatever it is asked for.
    deaf = pitch_report(_tones([57] * len(pitches)), pitches)
    assert deaf["pyin_voiced"] >= 0.9 and deaf["pyin_within_semitone"] <= 0.2
    # Loudness per pitch (the AC-GAN cheat) shows as a level spread; noise is unvoiced.
    quiet = _tones(pitches)
    quiet[::2] *= 1e-3
    assert pitch_report(quiet, pitches, use_pyin=False)["quietest_db_below_loudest"] >= 55
    noise = pitch_report(torch.randn(4, 64000, generator=torch.Generator().manual_seed(0)) * 0.1,
                         torch.tensor([48, 60, 72, 84]))
    assert noise["pyin_within_semitone"] <= 0.25
    assert semitone_error(np.array([440.0 * 2 ** (1 / 12)]), np.array([69]))[0] == pytest.approx(1.0)


def test_pitch_check_grid_holds_each_latent_across_pitches():
    z = grid_latents(4, 8)
    zz, midi = grid_notes([36, 60, 84], z)
    assert zz.shape == (12, 8) and midi.tolist() == [36] * 4 + [60] * 4 + [84] * 4
    assert torch.equal(zz[:4], zz[4:8]) and torch.equal(grid_latents(4, 8), z)
    assert grid_pitches((48, 72)) == [48, 54, 60, 66, 72]


def test_a_short_cpu_config_run_logs_the_independent_pitch_check(tmp_path):
    """The training loop judges its fixed grid with pYIN (and the classifier) at every snapshot."""
    from synth_notes import write_set

    from audiogen.gansynth.train import train_gansynth

    import pretty_midi

    data = write_set(tmp_path / "set", [(f"keyboard_acoustic_{i % 2:03d}", 0, 36 + 3 * i) for i in range(16)])
    tune = pretty_midi.PrettyMIDI()
    line = pretty_midi.Instrument(73)
    line.notes = [pretty_midi.Note(velocity=90, pitch=p, start=0.3 * i, end=0.3 * i + 0.3)
                  for i, p in enumerate([60, 62, 64, 65, 67])]
    tune.instruments.append(line)
    (tmp_path / "melodies").mkdir()
    tune.write(str(tmp_path / "melodies" / "scale.mid"))
    config = replace(TINY_CPU, snapshot_every=2, filters=("gansynth",))
    summary = train_gansynth(data, tmp_path / "run", config=config, steps=2, cache_root=tmp_path / "c", device="cpu",
                             quiet=True, check_melodies=[tmp_path / "melodies"])
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    checks = [x for x in lines if "check_pyin_within_semitone" in x]
    assert len(checks) == 1 and 0.0 <= checks[0]["check_pyin_within_semitone"] <= 1.0
    assert checks[0]["check_classifier_accuracy"] is not None
    for window in ("onset", "sustain", "tail"):  # the grid read through each note's life
        assert 0.0 <= checks[0][f"check_{window}_within_semitone"] <= 1.0
    assert checks[0]["check_clicks"] in range(0, 37)  # of the 36 grid notes
    assert 0.0 <= checks[0]["check_melody_onset_within_semitone"] <= 1.0  # the melody, 2 timbres x 5 notes
    assert checks[0]["check_melody_level_spread_db_max"] is not None
    assert (tmp_path / "run" / "snapshots" / "step-0000002.png").is_file()
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["mag_scale"] != CONFIGS["full"].mag_scale  # fitted on these notes, kept for resume and export
    assert "pitch pYIN" in summary["pitch_check"]


def test_melody_report_reads_each_note_from_its_onset_and_the_level_spread():
    from audiogen.gansynth.pitch_check import melody_report
    from audiogen.gansynth.render import MidiNote

    tune = [MidiNote(0.25 * i, 0.25 * i + 0.22, p, 100) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    wave = np.zeros(int(2.5 * RATE), np.float32)
    for k, (n, tone) in enumerate(zip(tune, _tones([n.pitch for n in tune], seconds=0.22))):
        level = 1.0 if k % 2 else 0.1  # every other note 20 dB quieter
        wave[int(n.start * RATE):int(n.start * RATE) + len(tone)] += level * tone.numpy()
    right = melody_report(wave, tune)
    assert right["notes"] == 8 and right["onset_within_semitone"] >= 0.9
    assert 18 <= right["level_spread_db"] <= 22
    wrong = [MidiNote(n.start, n.end, n.pitch + 3, 100) for n in tune]  # the tune asked for, not the one played
    assert melody_report(wave, wrong)["onset_within_semitone"] <= 0.2


def _late_settling_notes(pitches, off_seconds: float = 0.4, off_by: int = 3) -> torch.Tensor:
    """4-s notes whose first `off_seconds` sound `off_by` semitones sharp, then settle at their pitch."""
    early = _tones([p + off_by for p in pitches])
    late = _tones(pitches)
    cut = int(off_seconds * RATE)
    return torch.cat([early[:, :cut], late[:, cut:]], dim=1)


def test_the_onset_window_fails_notes_whose_first_0_4_s_are_off_pitch():
    from audiogen.gansynth.pitch_check import note_windows_report

    pitches = [48, 60, 72]
    good = note_windows_report(_tones(pitches), pitches)
    assert good["onset"]["within_semitone"] == 1.0 and good["sustain"]["within_semitone"] == 1.0
    late = note_windows_report(_late_settling_notes(pitches), pitches)
    assert late["onset"]["within_semitone"] == 0.0  # the average over the note would pass it
    assert late["sustain"]["within_semitone"] == 1.0 and late["tail"]["within_semitone"] == 1.0
    # the one-median grid check is fooled by the same notes
    assert pitch_report(_late_settling_notes(pitches), torch.tensor(pitches))["pyin_within_semitone"] == 1.0


def test_a_note_that_ends_in_a_burst_is_a_click_and_the_end_fade_removes_it():
    from audiogen.gansynth.generate import end_fade
    from audiogen.gansynth.pitch_check import ends_with_click

    notes = _tones([60, 60]) * torch.linspace(1.0, 0.01, 4 * RATE)  # dying away to -40 dB
    burst = notes.clone()
    burst[:, -int(0.03 * RATE):] = 0.1 * torch.randn(int(0.03 * RATE), generator=torch.Generator().manual_seed(0))
    assert not ends_with_click(notes[0].numpy()) and ends_with_click(burst[0].numpy())
    assert not ends_with_click((burst[0] * end_fade(4 * RATE, RATE)).numpy())


def test_a_frozen_pitch_judge_pulls_the_generator_toward_the_asked_pitch(tmp_path):
    from audiogen.errors import AudiogenError
    from audiogen.gansynth.classifier_train import load_pitch_classifier
    from audiogen.gansynth.train import judge_loss, train_gansynth
    from audiogen.runtime.assets import bundled_model_path

    torch.manual_seed(0)
    config = replace(TINY_CPU, judge_weight=1.0)
    G = Generator(model_config(config))
    judge = load_pitch_classifier(None)[0].requires_grad_(False)
    z, pitch = torch.randn(4, config.latent), torch.tensor([0, 12, 24, 36])
    loss = judge_loss(judge, G(z, F.one_hot(pitch, config.pitches).float(), 3), pitch, 3, config)
    loss.backward()
    assert torch.isfinite(loss) and G.blocks[0].conv1.weight.grad.abs().sum() > 0  # the judge's gradient reaches G
    assert all(p.grad is None for p in judge.parameters())  # and the judge stays as it was
    with pytest.raises(AudiogenError, match="--pitch-judge"):
        train_gansynth(tmp_path / "nowhere", tmp_path / "run", config=config, steps=1, device="cpu", quiet=True)
    assert bundled_model_path("pitch-classifier.safetensors").is_file()
    # The judge's classes are MIDI numbers: real tones at their pitch score far better than shifted ones.
    from audiogen.gansynth.data import downsample_to_level, waves_to_images

    asked = torch.tensor([12, 24, 36])  # pitch classes: MIDI 36, 48, 60
    images = downsample_to_level(waves_to_images(_tones(asked + config.pitch_min), spectral_config(config), mel=True,
                                                 norm=normalizer(config)), 5, 6)
    with torch.no_grad():
        right, shifted = judge_loss(judge, images, asked, 5, config), judge_loss(judge, images, asked + 5, 5, config)
    assert float(right) < 1.0 < float(shifted)


def test_the_harmonic_map_is_refused_with_an_acgan_discriminator():
    from audiogen.errors import AudiogenError

    with pytest.raises(AudiogenError, match="projection"):
        model_config(replace(TINY_CPU, conditioning="acgan"))
