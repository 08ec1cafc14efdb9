"""Timbre translation: the U-Net's shapes, paired and unpaired training that learns, `data pairs`
renders with the same notes, and the commands' handling of bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.clitools import assert_one_line_error, listing, run_cli
from tests.conftest import write_pcm16_wav

SR = 16000


def _melody_wave(pitches, *, kind: str, seconds_per_note: float = 0.25, seed: int = 0) -> np.ndarray:
    """A stand-in instrument: "pluck" = bright harmonics decaying fast, "bow" = sustained, darker,
    odd harmonics stronger, with vibrato. Same notes and timing for both kinds."""
    rng = np.random.default_rng(seed)
    n = int(seconds_per_note * SR)
    t = np.arange(n) / SR
    out = []
    for p in pitches:
        f0 = 440.0 * 2 ** ((p - 69) / 12)
        if kind == "bow":
            phase = 2 * np.pi * f0 * (t + 0.003 * np.sin(2 * np.pi * 5.5 * t) / 5.5)
            tone = sum((1.0 if k % 2 else 0.35) / k ** 1.5 * np.sin(k * phase) for k in range(1, 10) if k * f0 < SR / 2)
            envelope = np.minimum(t / 0.04, 1.0) * np.minimum((t[-1] - t) / 0.02 + 0.01, 1.0)
        else:
            tone = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 12) if k * f0 < SR / 2)
            envelope = np.exp(-t / 0.08) * np.minimum(t / 0.003, 1.0)
        out.append(tone * envelope)
    wave = np.concatenate(out)
    return (0.9 * wave / np.abs(wave).max()).astype(np.float32)


def _write_pairs(folder: Path, melodies: list[list[int]]) -> Path:
    """A pairs folder in `data pairs`' layout, of synthetic pluck (a) and bow (b) renders."""
    for side in ("a", "b"):
        (folder / side).mkdir(parents=True)
    rows = []
    for i, pitches in enumerate(melodies):
        name = f"m{i}"
        write_pcm16_wav(folder / "a" / f"{name}.wav", _melody_wave(pitches, kind="pluck", seed=i))
        write_pcm16_wav(folder / "b" / f"{name}.wav", _melody_wave(pitches, kind="bow", seed=i))
        rows.append({"name": name, "a": f"a/{name}.wav", "b": f"b/{name}.wav"})
    (folder / "manifest.json").write_text(json.dumps({"program_a": 0, "program_b": 40, "name_a": "pluck",
                                                      "name_b": "bow", "pairs": rows}))
    return folder


MELODIES = [[67, 69, 71, 72], [74, 72, 71, 69]]


@pytest.fixture(scope="module")
def tiny_paired(tmp_path_factory):
    """(pairs folder, run folder) of a tiny pix2pix trained 250 steps on two synthetic pairs."""
    from audiogen.translate.train import CONFIGS, train_translate

    root = tmp_path_factory.mktemp("translate")
    pairs = _write_pairs(root / "pairs", MELODIES)
    torch.manual_seed(0)
    summary = train_translate(root / "run", config=CONFIGS["tiny"], steps=250, pairs=[pairs], checkpoint_every=0,
                              device="cpu", quiet=True)
    return pairs, root / "run", summary


def test_unet_output_has_the_input_shape_for_odd_lengths():
    from audiogen.translate.model import TranslateModelConfig, UNet

    for residual in (True, False):
        net = UNet(TranslateModelConfig(bins=64, channels=(4, 8, 8), disc_channels=(4,), residual=residual)).eval()
        for frames in (1, 7, 37, 129):
            x = torch.rand(2, 2, frames, 64) * 2 - 1
            y = net(x)
            assert y.shape == x.shape, (residual, frames, y.shape)
            assert y.abs().max() <= 1.0


def test_unet_refuses_bins_that_do_not_halve_evenly():
    from audiogen.translate.model import TranslateModelConfig

    with pytest.raises(ValueError, match="divide"):
        TranslateModelConfig(bins=100, channels=(4, 8, 8))


def test_representation_round_trip_is_near_exact():
    from audiogen.translate.data import Representation, decode, encode

    rep = Representation()
    wave = torch.from_numpy(_melody_wave([67, 71, 74, 79], kind="bow"))
    back = decode(encode(wave, rep), rep, wave.shape[-1])
    snr = 10 * torch.log10(wave.square().sum() / (wave - back).square().sum())
    assert back.shape == wave.shape
    assert snr > 40.0, float(snr)


def test_tiny_paired_model_overfits_two_pairs(tiny_paired):
    """L1 of G(a) to b falls well below the input's own L1 to b (the identity baseline): the
    log-magnitude (the timbre) to under 65% of it, with the IF term to under 80%."""
    from audiogen.translate.data import encode, read_clip
    from audiogen.translate.load import load_translate_model
    from audiogen.translate.train import spec_l1

    pairs, run, summary = tiny_paired
    bundle = load_translate_model(run / "model.safetensors")
    assert not bundle.unpaired and summary["steps"] == 250
    for name in ("m0", "m1"):
        a = encode(torch.from_numpy(read_clip(pairs / "a" / f"{name}.wav", bundle.rep)), bundle.rep)
        b = encode(torch.from_numpy(read_clip(pairs / "b" / f"{name}.wav", bundle.rep)), bundle.rep)
        with torch.no_grad():
            out = bundle.model(a[None])[0]
        for if_weight, bound in ((0.0, 0.65), (0.1, 0.8)):
            learned = float(spec_l1(out[None], b[None], if_weight))
            identity = float(spec_l1(a[None], b[None], if_weight))
            assert learned < bound * identity, (name, if_weight, learned, identity)
    assert list((run / "snapshots").glob("step-*.png"))


def test_unpaired_cycle_error_falls(tmp_path):
    from audiogen.translate.train import CONFIGS, train_translate
    from dataclasses import replace

    for side, kind in (("a", "pluck"), ("b", "bow")):
        (tmp_path / side).mkdir()
        for i in range(4):
            pitches = list(np.random.default_rng(i + (10 if side == "b" else 0)).integers(62, 80, size=4))
            write_pcm16_wav(tmp_path / side / f"{i}.wav", _melody_wave(pitches, kind=kind, seed=i))
    config = replace(CONFIGS["tiny"], val_fraction=0.25, val_every=20, val_crops=4)
    torch.manual_seed(0)
    summary = train_translate(tmp_path / "run", config=config, steps=120, side_a=[tmp_path / "a"],
                              side_b=[tmp_path / "b"], checkpoint_every=0, device="cpu", quiet=True)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    cycles = [line["val_cycle"] for line in lines if "val_cycle" in line]
    assert len(cycles) >= 5
    assert cycles[-1] < 0.7 * cycles[0], cycles
    assert summary["mode"] == "unpaired"
    from audiogen.translate.load import load_translate_model

    bundle = load_translate_model(tmp_path / "run" / "model.safetensors")
    assert bundle.unpaired


def test_translate_keeps_length_and_rate_of_any_input(tiny_paired, tmp_path):
    import soundfile as sf

    _, run, _ = tiny_paired
    stereo = np.stack([_melody_wave([67, 72, 76], kind="pluck"), _melody_wave([67, 72, 76], kind="pluck", seed=3)])
    import torchaudio.functional as AF

    stereo44 = AF.resample(torch.from_numpy(stereo), SR, 44100).numpy()[:, :33001]  # an odd length
    sf.write(tmp_path / "in.wav", stereo44.T, 44100)
    env = dict(os.environ)
    r = run_cli(["translate", tmp_path / "in.wav", "--out", tmp_path / "out.wav", "--model", run / "model.safetensors",
                 "--json"], env, tmp_path)
    assert r.code == 0, r
    info = sf.info(tmp_path / "out.wav")
    assert info.samplerate == 44100 and info.frames == 33001 and info.channels == 1
    assert r.json()["translated"][0]["samples"] == 33001


def test_translate_folder_skips_bad_files_and_counts_them(tiny_paired, tmp_path):
    _, run, _ = tiny_paired
    (tmp_path / "in" / "sub").mkdir(parents=True)
    write_pcm16_wav(tmp_path / "in" / "good.wav", _melody_wave([69, 71], kind="pluck"))
    write_pcm16_wav(tmp_path / "in" / "sub" / "good2.wav", _melody_wave([64, 71], kind="pluck"))
    write_pcm16_wav(tmp_path / "in" / "silent.wav", np.zeros(8000, np.float32))
    (tmp_path / "in" / "corrupt.wav").write_bytes(b"RIFF1234WAVEjunk")
    env = dict(os.environ)
    r = run_cli(["translate", tmp_path / "in", "--out-dir", tmp_path / "out", "--model", run / "model.safetensors",
                 "--json"], env, tmp_path)
    assert r.code == 0, r
    result = r.json()
    assert len(result["translated"]) == 2 and result["skipped"]["count"] == 2
    assert (tmp_path / "out" / "good.wav").is_file() and (tmp_path / "out" / "sub" / "good2.wav").is_file()
    assert not (tmp_path / "out" / "silent.wav").exists()


def test_translate_bad_inputs_exit_2_with_one_line_and_no_output(tiny_paired, tmp_path):
    _, run, _ = tiny_paired
    model = run / "model.safetensors"
    write_pcm16_wav(tmp_path / "silent.wav", np.zeros(16000, np.float32))
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    write_pcm16_wav(tmp_path / "ok.wav", _melody_wave([69, 71], kind="pluck"))
    other_family = Path(__file__).parent.parent / "assets" / "models" / "samplevae-drums.safetensors"
    env = dict(os.environ)
    before = listing(tmp_path)
    cases = [
        (["translate", tmp_path / "silent.wav", "--out", tmp_path / "o.wav", "--model", model], "silent"),
        (["translate", tmp_path / "corrupt.wav", "--out", tmp_path / "o.wav", "--model", model], "corrupt.wav"),
        (["translate", tmp_path / "ok.wav", "--out", tmp_path / "o.wav", "--model", other_family], "expected translate"),
        (["translate", tmp_path / "ok.wav", "--out", tmp_path / "o.wav", "--model", tmp_path / "ok.wav"], "ok.wav"),
        (["translate", tmp_path / "missing.wav", "--out", tmp_path / "o.wav", "--model", model], "missing.wav"),
        (["translate", tmp_path / "ok.wav", "--model", model], "--out"),
        (["translate", tmp_path / "ok.wav", "--out", tmp_path / "o.wav", "--model", model, "--reverse"], "one way"),
        (["eval", "translate", "--data", tmp_path, "--model", model], "manifest.json"),
        (["train", "translate", "--out", tmp_path / "run", "--unpaired", "--a", tmp_path], "--b"),
        (["data", "pairs", "--melodies", tmp_path / "ok.wav", "--out", tmp_path / "p"], "ok.wav"),
        (["data", "pairs", "--melodies", tmp_path, "--from", "kazoo-ish", "--out", tmp_path / "p"], "--from"),
        (["train", "translate", "--data", tmp_path, "--out", run, "--resume", "--init-from", model], "--init-from"),
    ]
    for args, text in cases:
        assert_one_line_error(run_cli(args, env, tmp_path), text)
    assert listing(tmp_path) == before


def test_eval_translate_reports_distances_melody_and_length(tiny_paired, tmp_path):
    pairs, run, _ = tiny_paired
    r = run_cli(["eval", "translate", "--data", pairs, "--model", run / "model.safetensors", "--json"],
                dict(os.environ), tmp_path)
    assert r.code == 0, r
    result = r.json()
    assert result["pairs"] == 2 and result["length_ratio_min"] == 1.0 == result["length_ratio_max"]
    assert result["log_mel_distance"] < result["identity_log_mel_distance"]
    assert 0.0 <= result["output_melody_kept"] <= 1.0 and 0.0 <= result["target_melody_kept"] <= 1.0
    # the synthetic bow keeps the pluck's notes, so pYIN finds the same melody in both
    assert result["target_melody_kept"] > 0.8


def test_melody_agreement_counts_frames_within_a_semitone():
    from audiogen.translate.evaluate import melody_agreement

    ref = np.array([440.0, 440.0, np.nan, 440.0, 440.0])
    other = np.array([440.0 * 2 ** (0.5 / 12), 880.0, 440.0, np.nan, 466.16])
    counts = melody_agreement(ref, other)
    assert counts == {"input_voiced": 4, "both_voiced": 3, "within_semitone": 2}


def test_program_names_and_ranges():
    from audiogen.data.pairs import fit_range, parse_program
    from audiogen.errors import AudiogenError

    assert parse_program("piano") == 0 and parse_program("Violin") == 40 and parse_program("40") == 40
    assert parse_program("acoustic grand piano") == 0 and parse_program("Tuba") == 58
    for bad in ("128", "kazoo-ish", "piano-ish"):
        with pytest.raises(AudiogenError):
            parse_program(bad)
    moved, shift, alone = fit_range(np.array([43, 45, 48, 50]), 55, 100)  # a melody below the violin
    assert shift == 12 and alone == 0 and moved.tolist() == [55, 57, 60, 62]
    moved, shift, alone = fit_range(np.array([60, 62, 40]), 55, 100)  # one stray low note
    assert shift == 0 and alone == 1 and moved.tolist() == [60, 62, 64]


def test_data_pairs_renders_the_same_notes_for_both_instruments(tmp_path):
    from audiogen.data.soundfonts import fluidsynth_available, import_pretty_midi, small_soundfont

    ok, why = fluidsynth_available()
    if not ok or small_soundfont() is None:
        pytest.skip(f"FluidSynth or pretty_midi's SoundFont unavailable: {why}")
    (tmp_path / "tunes.abc").write_text(
        "X:1\nT:Low One\nM:4/4\nL:1/8\nK:C\nC,D,E,F, G,A,B,C|D4 C4|]\n\n"
        "X:2\nT:High One\nM:3/4\nL:1/8\nK:D\n|:defg ab|a4 f2:|\n|:fedc BA|B4 A2:|\n")
    r = run_cli(["data", "pairs", "--melodies", tmp_path / "tunes.abc", "--from", "piano", "--to", "violin",
                 "--out", tmp_path / "pairs", "--soundfont", small_soundfont(), "--json"], dict(os.environ), tmp_path)
    assert r.code == 0, r
    summary = r.json()
    assert summary["pairs"] == 2
    manifest = json.loads((tmp_path / "pairs" / "manifest.json").read_text())
    assert manifest["program_a"] == 0 and manifest["program_b"] == 40
    pretty_midi = import_pretty_midi()
    import soundfile as sf

    for row in manifest["pairs"]:
        a = pretty_midi.PrettyMIDI(str(tmp_path / "pairs" / "a" / f"{row['name']}.mid"))
        b = pretty_midi.PrettyMIDI(str(tmp_path / "pairs" / "b" / f"{row['name']}.mid"))
        assert a.instruments[0].program == 0 and b.instruments[0].program == 40
        notes = lambda m: [(n.pitch, round(n.start, 4), round(n.end, 4), n.velocity) for n in m.instruments[0].notes]  # noqa: E731
        assert notes(a) == notes(b) and len(notes(a)) > 5
        assert min(n[0] for n in notes(a)) >= 55  # inside the violin's range
        wa, ra = sf.read(tmp_path / "pairs" / row["a"])
        wb, rb = sf.read(tmp_path / "pairs" / row["b"])
        assert ra == rb == 16000 and wa.ndim == 1 and wa.shape == wb.shape
        assert abs(np.abs(wa).max() - np.abs(wb).max()) < 0.01  # the same peak rule
    low = next(row for row in manifest["pairs"] if "Low" in row["name"])
    assert low["octave_shift"] == 12 and summary["notes_moved"] >= low["notes"]
    # the repeats are played out: 2 x (8 + 8) notes
    high = next(row for row in manifest["pairs"] if "High" in row["name"])
    assert high["notes"] == 32


def test_data_pairs_refuses_a_non_empty_folder_without_force(tmp_path):
    from audiogen.data.pairs import PairMelody, build_pairs
    from audiogen.errors import BadInputError

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    melody = PairMelody("m", "x", np.array([[0.0, 0.5, 67.0]]))
    with pytest.raises(BadInputError, match="not empty"):
        build_pairs([melody], tmp_path / "out", program_a=0, program_b=40, bpm=100)
    assert listing(tmp_path / "out") == ["mine.txt"]


BUNDLED = Path(__file__).parent.parent / "assets" / "models" / "translate-piano-violin.safetensors"


@pytest.mark.skipif(not BUNDLED.is_file(), reason="the bundled translate model is not trained yet")
def test_bundled_model_is_the_default_and_keeps_length(tmp_path):
    """`audiogen translate` without --model uses the bundled piano -> violin model; an odd-length
    44.1 kHz clip longer than one chunk comes back with its exact sample count."""
    import soundfile as sf

    from audiogen.translate.load import load_translate_model

    bundle = load_translate_model(None)
    assert bundle.path.name == BUNDLED.name and not bundle.unpaired
    assert bundle.describe() == "Acoustic Grand Piano -> Violin"
    import torchaudio.functional as AF

    clip = AF.resample(torch.from_numpy(_melody_wave([67, 71, 74, 79, 74, 71, 67, 62] * 2 + [67], kind="pluck")), SR, 44100)
    clip = clip[:176401].numpy()  # 4 s and a sample: three chunks of 2 s overlapping
    sf.write(tmp_path / "piano.wav", clip, 44100)
    r = run_cli(["translate", tmp_path / "piano.wav", "--out", tmp_path / "violin.wav", "--json"], dict(os.environ),
                tmp_path)
    assert r.code == 0, r
    assert r.json()["model"].endswith(BUNDLED.name)
    out, rate = sf.read(tmp_path / "violin.wav")
    assert rate == 44100 and out.shape == (176401,) and np.abs(out).max() > 0.5


def test_chunked_translation_cross_fades_between_chunks():
    """A network that answers each chunk with its first frame's index: the joined output must run
    from 0 up to the last chunk's start without a jump, and be each chunk's own value where only
    that chunk covers a frame."""
    from audiogen.translate.data import Representation
    from audiogen.translate.generate import _translate_chunks, chunk_starts
    from audiogen.translate.load import TranslateModel

    class FirstFrame(torch.nn.Module):
        def forward(self, x, reverse=False):
            return x[:, :, :1, :1].expand_as(x).clone()

    model = TranslateModel(FirstFrame(), Path("x"), "", {"crop_frames": 16}, {}, Representation(n_fft=128, hop=32))
    frames = 61
    spec = torch.arange(frames, dtype=torch.float32).view(1, frames, 1).expand(2, frames, 8).contiguous()
    out = _translate_chunks(model, spec, reverse=False, batch=2)[0, :, 0]
    starts = chunk_starts(frames, 16, 4)
    assert starts == [0, 12, 24, 36, 45]
    assert torch.all(out[1:] >= out[:-1] - 1e-5)          # no seam steps backwards
    assert float(out[0]) == 0.0 and float(out[-1]) == 45.0
    assert torch.allclose(out[4:12], torch.zeros(8))       # frames only the first chunk covers
    steps = out[1:] - out[:-1]
    assert float(steps.max()) < 12 / 4 + 1e-4             # a ramp over the overlap, never a jump


def test_chunked_translation_of_an_identity_network_returns_its_input():
    """Chunks overlap and cross-fade without seams: an identity generator gives back any length."""
    from audiogen.translate.data import Representation
    from audiogen.translate.generate import chunk_starts, translate_specgram
    from audiogen.translate.load import TranslateModel
    from audiogen.translate.model import TranslateModelConfig, Translator

    net = Translator(TranslateModelConfig(bins=64, channels=(4, 8), disc_channels=(4,)), cycle=False).eval()
    model = TranslateModel(net, Path("x"), "", {"crop_frames": 16}, {}, Representation(n_fft=128, hop=32))
    for frames in (5, 16, 17, 40, 101):
        spec = torch.rand(2, frames, 64) * 1.6 - 0.8
        assert torch.allclose(translate_specgram(model, spec), spec, atol=1e-6), frames
        starts = chunk_starts(frames, 16, 4)
        assert starts[0] == 0 and (starts[-1] + 16 == frames or frames < 16)


def test_eval_translate_refuses_a_pairs_folder_without_usable_pairs(tiny_paired, tmp_path):
    _, run, _ = tiny_paired
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "manifest.json").write_text(json.dumps({"pairs": []}))
    r = run_cli(["eval", "translate", "--data", tmp_path / "empty", "--model", run / "model.safetensors"],
                dict(os.environ), tmp_path)
    assert_one_line_error(r, "no usable pairs")


def test_translate_folder_refuses_two_inputs_with_one_output_name(tiny_paired, tmp_path):
    import soundfile as sf

    _, run, _ = tiny_paired
    (tmp_path / "in").mkdir()
    write_pcm16_wav(tmp_path / "in" / "take.wav", _melody_wave([69, 71], kind="pluck"))
    sf.write(tmp_path / "in" / "take.flac", _melody_wave([64, 71], kind="pluck"), SR)
    r = run_cli(["translate", tmp_path / "in", "--out-dir", tmp_path / "out", "--model", run / "model.safetensors"],
                dict(os.environ), tmp_path)
    assert_one_line_error(r, "both be written")
    assert not (tmp_path / "out").exists()


def test_data_pairs_refuses_instruments_without_a_shared_range(tmp_path):
    from audiogen.data.pairs import PairMelody, build_pairs
    from audiogen.errors import AudiogenError

    melody = PairMelody("m", "x", np.array([[0.0, 0.5, 67.0]]))
    with pytest.raises(AudiogenError, match="share no range"):
        build_pairs([melody], tmp_path / "out", program_a=58, program_b=72, bpm=100)  # tuba, piccolo
    assert not (tmp_path / "out").exists()


def test_paired_resume_continues_exactly(tmp_path):
    """3 steps, then --resume for 3 more, gives the weights of 6 steps in one go."""
    from audiogen.runtime.modelfile import load_model
    from audiogen.translate.train import CONFIGS, train_translate

    pairs = _write_pairs(tmp_path / "pairs", MELODIES)
    for name, stops in (("once", (None,)), ("twice", (3, None))):
        for i, at in enumerate(stops):  # the first leg stops early as a --time-limit would
            torch.manual_seed(0)
            train_translate(tmp_path / name, config=CONFIGS["tiny"], steps=6, pairs=[pairs], checkpoint_every=0,
                            resume=i > 0, device="cpu", quiet=True,
                            stop=None if at is None else (lambda step, at=at: step >= at))
    once = load_model(tmp_path / "once" / "model.safetensors").tensors
    twice = load_model(tmp_path / "twice" / "model.safetensors").tensors
    assert once.keys() == twice.keys()
    assert all(torch.equal(once[k], twice[k]) for k in once)
