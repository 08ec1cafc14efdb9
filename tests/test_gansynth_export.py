"""GANSynth as an instrument: the SF2 and SFZ writers (read back by independent readers: the
sf2utils parser and FluidSynth), `audiogen export gansynth`, and the renderer's loudness."""

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

from audiogen.data.sf2 import SamplerZone, write_sf2
from audiogen.gansynth.export import instrument_keys
from audiogen.gansynth.pitch_check import pyin_track, window_reading

RATE = 16000


def _cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1", "AUDIOGEN_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600)


def _tone(midi: int, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
    return (0.5 * wave / np.abs(wave).max()).astype(np.float32)


def test_instrument_keys_cover_the_range_once():
    for low, high, every in [(24, 84, 1), (24, 84, 5), (40, 41, 12), (60, 60, 3), (0, 127, 7)]:
        keys = instrument_keys(low, high, every)
        covered = [k for _, lo, hi in keys for k in range(lo, hi + 1)]
        assert covered == list(range(low, high + 1)), (low, high, every)
        assert all(lo <= root <= hi for root, lo, hi in keys)
        assert keys[0][0] == low and keys[-1][0] == high
    assert len(instrument_keys(24, 84, 1)) == 61


def test_sf2_round_trip_through_an_independent_parser_and_fluidsynth(tmp_path):
    sf2parse = pytest.importorskip("sf2utils.sf2parse")
    keys = instrument_keys(48, 72, 6)
    zones = [SamplerZone(f"pitch{root:03d}", _tone(root), RATE, root, lo, hi) for root, lo, hi in keys]
    path = tmp_path / "tones.sf2"
    write_sf2(path, zones, name="tones", release=0.3)
    assert path.read_bytes()[:4] == b"RIFF" and path.read_bytes()[8:12] == b"sfbk"
    with open(path, "rb") as f:
        parsed = sf2parse.Sf2File(f)
        samples = [s for s in parsed.samples if s.name != "EOS"]
        assert [s.name for s in samples] == [z.name for z in zones]
        assert [s.original_pitch for s in samples] == [root for root, _, _ in keys]
        assert all(s.end - s.start == 2 * RATE and s.sample_rate == RATE for s in samples)
        bags = [b for b in parsed.instruments[0].bags]
        assert [tuple(b.key_range) for b in bags] == [(lo, hi) for _, lo, hi in keys]
        assert [b.sample.name for b in bags] == [z.name for z in zones]
        assert parsed.presets[0].name == "tones" and parsed.presets[0].bank == 0 and parsed.presets[0].preset == 0

    from audiogen.data.soundfonts import NoteRenderer, fluidsynth_available

    if not fluidsynth_available()[0]:
        pytest.skip("FluidSynth is not installed")
    with NoteRenderer(path) as synth:
        for key in (48, 50, 61, 72):  # roots and keys transposed from a root
            wave = synth.render(0, key, 100, hold=1.0, release=0.5)
            times, f0, voiced = pyin_track(wave)
            reading = window_reading(times, f0, voiced, 0.1, 0.9, key)
            assert reading["right"] and abs(reading["semitones_off"]) < 0.3, (key, reading)
            tail = wave[int(1.3 * RATE):]  # 0.3 s after the key is let go: the release has ended
            assert np.abs(tail).max() < 1e-3 * np.abs(wave).max(), key


def _sfz_regions(text: str) -> tuple[str, list[dict]]:
    default_path, regions = "", []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("default_path="):
            default_path = line.split("=", 1)[1]
        elif line == "<region>":
            regions.append({})
        elif regions and "=" in line and not line.startswith("//"):
            key, value = line.split("=", 1)
            regions[-1][key] = value
    return default_path, regions


def test_export_writes_sfz_regions_without_gaps_and_an_sf2_of_the_bundled_model(tmp_path):
    out = tmp_path / "inst" / "flute.sfz"
    run = _cli("export", "gansynth", "--out", out, "--every", 5, "--rng-seed", 3, "--json")
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert info["samples"] == 13 and info["keys"] == [24, 84] and info["roots"][-1] == 84
    default_path, regions = _sfz_regions(out.read_text())
    assert default_path == "flute/" and len(regions) == 13
    covered = [k for r in regions for k in range(int(r["lokey"]), int(r["hikey"]) + 1)]
    assert covered == list(range(24, 85))  # every key once, no gap
    for region in regions:
        sample = out.parent / default_path / region["sample"]
        assert sample.is_file(), sample
        assert int(region["lokey"]) <= int(region["pitch_keycenter"]) <= int(region["hikey"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["flute", "flute.sfz"]  # no staging left

    sf2 = tmp_path / "flute.sf2"
    run = _cli("export", "gansynth", "--out", sf2, "--pitches", "48-60", "--rng-seed", 3)
    assert run.returncode == 0, run.stderr
    sf2parse = pytest.importorskip("sf2utils.sf2parse")
    with open(sf2, "rb") as f:
        samples = [s for s in sf2parse.Sf2File(f).samples if s.name != "EOS"]
    assert [s.original_pitch for s in samples] == list(range(48, 61))
    peaks = []
    with open(sf2, "rb") as f:
        data = f.read()
    smpl = data.index(b"smpl")
    pcm = np.frombuffer(data[smpl + 8:smpl + 8 + int.from_bytes(data[smpl + 4:smpl + 8], "little")], "<i2")
    for s in samples:
        peaks.append(np.abs(pcm[s.start:s.end]).max() / 32768)
    assert max(peaks) == pytest.approx(10 ** (-1 / 20), abs=0.01)  # the loudest sample at -1 dBFS
    again = _cli("export", "gansynth", "--out", sf2, "--pitches", "48-60", "--rng-seed", 3, "--force")
    assert again.returncode == 0 and sf2.read_bytes() == data  # the same seed, the same instrument

    import pretty_midi
    import soundfile as sf

    from audiogen.data.soundfonts import fluidsynth_available

    if not fluidsynth_available()[0]:
        pytest.skip("FluidSynth is not installed")
    song = pretty_midi.PrettyMIDI()
    flute = pretty_midi.Instrument(73)  # the exported instrument is program 0: --program 0 plays it
    flute.notes = [pretty_midi.Note(velocity=100, pitch=p, start=i, end=i + 0.5) for i, p in enumerate([50, 55, 60])]
    song.instruments.append(flute)
    song.write(str(tmp_path / "song.mid"))
    played = _cli("render", "midi", tmp_path / "song.mid", "--soundfont", sf2, "--program", 0, "--out",
                  tmp_path / "song.wav", "--json")
    assert played.returncode == 0, played.stderr
    assert json.loads(played.stdout)["notes"] == 3
    wave, rate = sf.read(tmp_path / "song.wav", dtype="float32")
    assert rate == RATE and len(wave) >= 2.5 * RATE
    for start in (0, 1, 2):
        assert np.abs(wave[start * RATE:start * RATE + RATE // 2]).max() > 0.05, start  # each note sounds


@pytest.mark.parametrize("case, extra, message", [
    ("range outside the model", ["--pitches", "10-20"], "outside this model's range 24-84"),
    ("range upside down", ["--pitches", "60-50"], "--pitches"),
    ("every 0", ["--every", "0"], "--every 0"),
    ("not a sampler format", ["--out", "{tmp}/x.wav"], "x.wav: the instrument is written as .sf2 or .sfz"),
    ("existing output", ["--out", "{tmp}/taken.sf2"], "taken.sf2: already exists; use --force"),
    ("existing sample folder", ["--out", "{tmp}/kept.sfz"], "kept: already exists; use --force"),
    ("latent of another size", ["--from-latent", "{tmp}/small.npy"], "small.npy: holds a float32 array of shape (3,)"),
    ("--at alone", ["--at", "0.5"], "--at goes with --to-rng-seed or --to-latent"),
])
def test_export_refusals_exit_2_and_leave_nothing_behind(tmp_path, case, extra, message):
    (tmp_path / "taken.sf2").write_bytes(b"mine")
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "my.wav").write_bytes(b"mine")
    np.save(tmp_path / "small.npy", np.zeros(3, np.float32))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "new.sf2")]
    run = _cli("export", "gansynth", *args)
    assert run.returncode == 2, (case, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("audiogen: error:") and message in lines[0], (case, lines)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before, case
    assert (tmp_path / "taken.sf2").read_bytes() == b"mine"


def _tiny_bundle():
    """A GANSynth model handle around an untrained narrow generator (its notes differ in level
    from pitch to pitch, as a trained model's do)."""
    from audiogen.gansynth.load import GANSynthModel
    from audiogen.gansynth.model import Generator
    from audiogen.gansynth.train import CONFIGS, model_config, normalizer, spectral_config

    config = replace(CONFIGS["cpu"], latent=16, channels=(16, 16, 8, 8, 4, 4))
    torch.manual_seed(0)
    generator = Generator(model_config(config)).eval()
    levels = len(config.channels)
    return GANSynthModel(generator, Path("tiny.safetensors"), "0" * 64, config, {}, spectral_config(config),
                         normalizer(config), levels - 1, 1.0)


def test_the_renderer_plays_equal_velocities_equally_loud_and_follows_the_velocity_curve():
    from audiogen.gansynth.generate import LEVEL_WINDOW_S, generate_notes, prior_latents
    from audiogen.gansynth.pitch_check import level_db
    from audiogen.gansynth.render import MidiNote, render_midi

    bundle = _tiny_bundle()
    pitches = [30, 41, 52, 63, 74, 84]
    z = prior_latents(1, bundle.config.latent, generator=torch.Generator().manual_seed(1))
    raw = generate_notes(bundle, z.repeat(len(pitches), 1), torch.tensor(pitches)).numpy()
    raw_levels = [level_db(w, *LEVEL_WINDOW_S) for w in raw]
    assert max(raw_levels) - min(raw_levels) > 3.0  # the model itself is not even

    notes = [MidiNote(1.0 * i, 1.0 * i + 0.5, p, 100) for i, p in enumerate(pitches)]
    notes.append(MidiNote(6.0, 6.5, pitches[0], 64))  # the first pitch again, softer
    wave, _ = render_midi(bundle, notes, z)
    levels = [level_db(wave, n.start + 0.011, n.end) for n in notes]
    assert max(levels[:-1]) - min(levels[:-1]) < 1.0, levels
    assert levels[-1] - levels[0] == pytest.approx(40 * np.log10(64 / 100), abs=0.3)  # (v / 127)^2: -7.8 dB


def test_eval_plays_held_out_melodies_beside_a_soundfont(tmp_path):
    import pretty_midi

    from audiogen.data.soundfonts import fluidsynth_available, small_soundfont

    folder = tmp_path / "melodies"
    folder.mkdir()
    for name, pitches in (("up", [60, 62, 64, 65, 67]), ("down", [72, 71, 69, 67, 65])):
        song = pretty_midi.PrettyMIDI()
        flute = pretty_midi.Instrument(73)
        flute.notes = [pretty_midi.Note(velocity=90, pitch=p, start=0.4 * i, end=0.4 * i + 0.4)
                       for i, p in enumerate(pitches)]
        song.instruments.append(flute)
        song.write(str(folder / f"{name}.mid"))
    drums = pretty_midi.PrettyMIDI()  # a file without pitched notes is skipped with a warning
    kit = pretty_midi.Instrument(0, is_drum=True)
    kit.notes = [pretty_midi.Note(velocity=90, pitch=36, start=0.0, end=0.1)]
    drums.instruments.append(kit)
    drums.write(str(folder / "drums.mid"))
    extra = []
    if fluidsynth_available()[0] and small_soundfont() is not None:
        extra = ["--reference-soundfont", small_soundfont()]
    run = _cli("eval", "gansynth", "--melodies", folder, *extra, "--json")
    assert run.returncode == 0, run.stderr
    assert "drums.mid" in run.stderr and "only drum notes" in run.stderr
    result = json.loads(run.stdout)
    melodies = result["melodies"]
    assert melodies["renders"] == 4 and melodies["notes"] == 20  # 2 melodies x 2 timbres
    assert 0.0 <= melodies["onset_within_semitone"] <= 1.0 and melodies["level_spread_db_max"] >= 0.0
    assert {r["timbre"] for r in melodies["renders_detail"]} == {1, 2}
    if extra:  # the SoundFont's flute plays every note at its pitch
        assert result["melodies_reference"]["renders"] == 2
        assert result["melodies_reference"]["onset_within_semitone"] >= 0.9
    nothing = _cli("eval", "gansynth")
    assert nothing.returncode == 2 and "give --data" in nothing.stderr
    missing = _cli("eval", "gansynth", "--melodies", tmp_path / "nowhere")
    assert missing.returncode == 2 and "nowhere: no such file or folder" in missing.stderr
