"""SampleVAE: features, model, training, generation, the library index and search, and the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audiogen.samplevae.data import FeatureConfig, TooLongError, features, fit_clip, load_clip, onset_clips
from audiogen.samplevae.model import SampleVAE, SampleVAEModelConfig
from audiogen.samplevae.search import top_k
from audiogen.samplevae.train import CONFIGS, SampleVAETrainConfig, augment, balanced_weights, train_samplevae

SR = 16000


def _env(tmp_path: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1", "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"), "COLUMNS": "200"}


def cli(tmp_path: Path, *args, check: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                            env=_env(tmp_path), timeout=300)
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


def kick(seed: int, sr: int = SR, seconds: float = 0.6) -> np.ndarray:
    """A low decaying sine sweep (a synthetic kick)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    f0 = rng.uniform(45, 70)
    phase = 2 * np.pi * (f0 * t + rng.uniform(40, 80) * (1 - np.exp(-t * 30)) / 30)
    return (0.8 * np.sin(phase) * np.exp(-t * rng.uniform(6, 10))).astype(np.float32)


def hat(seed: int, sr: int = SR, seconds: float = 0.3) -> np.ndarray:
    """High-passed decaying noise (a synthetic hi-hat)."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(int(sr * seconds))
    noise = np.diff(noise, prepend=0.0)  # tilt towards high frequencies
    t = np.arange(len(noise)) / sr
    return (0.3 * noise * np.exp(-t * rng.uniform(15, 30))).astype(np.float32)


def write(path: Path, wave: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), wave, sr)
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """kick/ and hat/ subfolders, 8 sounds each, at 16 and 44.1 kHz."""
    root = tmp_path_factory.mktemp("library")
    for i in range(8):
        sr = SR if i % 2 == 0 else 44100
        write(root / "kick" / f"kick{i}.wav", kick(i, sr), sr)
        write(root / "hat" / f"hat{i}.wav", hat(100 + i, sr), sr)
    return root


@pytest.fixture(scope="module")
def tiny_model(library, tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("run") / "tiny"
    summary = train_samplevae([library], out, config=CONFIGS["tiny"], steps=120, checkpoint_every=0, device="cpu",
                              quiet=True)
    assert summary["classes"] == ["hat", "kick"]
    return Path(summary["model"])


# ---------------------------------------------------------------------------------------------
# Features


def test_features_shape_and_range():
    config = FeatureConfig()
    clips = torch.stack([torch.from_numpy(fit_clip(torch.from_numpy(kick(0)), config).numpy()),
                         0.01 * torch.from_numpy(fit_clip(torch.from_numpy(hat(1)), config).numpy())])
    x = features(clips, config)
    assert x.shape == (2, 1, 128, 64)
    assert float(x.min()) >= 0.0 and torch.allclose(x.amax(dim=(1, 2, 3)), torch.ones(2))
    # Loudness does not change the picture.
    assert torch.allclose(features(clips[:1] * 0.1, config), x[:1], atol=1e-4)


def test_load_clip_trims_silence_pads_and_resamples(tmp_path):
    config = FeatureConfig()
    wave = np.concatenate([np.zeros(4410, np.float32), kick(3, 44100)])
    clip = load_clip(write(tmp_path / "late.wav", wave, 44100), config)
    rate = config.sample_rate
    assert clip.shape == (config.samples,)
    assert float(clip[:int(0.004 * rate)].abs().max()) < 0.05  # at most the 5 ms pre-roll before the hit
    assert float(clip[:int(0.02 * rate)].abs().max()) > 0.1    # the hit starts right away
    short = load_clip(write(tmp_path / "click.wav", np.hanning(160).astype(np.float32)), config)  # 10 ms
    assert short.shape == (config.samples,) and float(short[400:].abs().max()) == 0.0


def test_unusable_files(tmp_path):
    from audiogen.errors import BadInputError

    config = FeatureConfig()
    with pytest.raises(BadInputError, match="silent"):
        load_clip(write(tmp_path / "silent.wav", np.zeros(SR, np.float32)), config)
    long_path = tmp_path / "long.wav"
    with sf.SoundFile(str(long_path), "w", samplerate=8000, channels=1, subtype="PCM_16") as f:
        block = (0.1 * np.sin(np.arange(8000 * 60) * 0.05)).astype(np.float32)
        for _ in range(10):
            f.write(block)
    with pytest.raises(TooLongError, match="10:00.0 long"):
        load_clip(long_path, config)
    (tmp_path / "text.wav").write_text("not audio at all")
    with pytest.raises(BadInputError, match="not a readable audio file"):
        load_clip(tmp_path / "text.wav", config)


def test_onset_clips_find_each_hit():
    config = FeatureConfig(sample_rate=SR, n_fft=1024, hop=256)
    hits = [0.2, 1.0, 1.7, 2.9]
    wave = np.zeros(int(3.5 * SR), np.float32)
    for i, start in enumerate(hits):
        sound = kick(i)
        wave[int(start * SR):int(start * SR) + len(sound)] += sound
    clips = onset_clips(torch.from_numpy(wave), config)
    assert len(clips) == len(hits)
    for (found, clip), expected in zip(clips, hits):
        assert abs(found - expected) <= config.hop / SR + 1e-9
        assert clip.shape == (config.samples,)


# ---------------------------------------------------------------------------------------------
# Model and training


def test_model_shapes():
    model = SampleVAE(SampleVAEModelConfig(classes=7)).eval()
    x = torch.rand(3, 1, 128, 64)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 64)
    assert model.decode(mu).shape == (3, 1, 128, 64)
    assert model.classify(mu).shape == (3, 7)
    with pytest.raises(ValueError):
        SampleVAE(SampleVAEModelConfig(n_mels=100))


def test_augment_keeps_shape_and_range():
    config = SampleVAETrainConfig()
    x = torch.rand(4, 1, 128, 64)
    y = augment(x, config, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= 0.0 and float(y.max()) <= 1.0 + 1e-6


def test_balanced_weights_equal_per_class_and_kit():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 1, 1])
    kits = ["a", "a", "b", "a", "b", "b", "b", "b"]
    w = balanced_weights(labels, kits)
    assert torch.isclose(w[labels == 0].sum(), w[labels == 1].sum())
    assert torch.isclose(w[:2].sum(), w[2:3].sum())  # class 0: kit a (2 sounds) weighs as kit b (1)


def test_tiny_model_overfits_a_few_sounds(tmp_path):
    torch.manual_seed(0)
    config = FeatureConfig(n_mels=32, frames=32)
    clips = torch.stack([fit_clip(torch.from_numpy(w), config) for w in (kick(1), kick(2), hat(3), hat(4))])
    x = features(clips, config)
    model = SampleVAE(SampleVAEModelConfig(n_mels=32, frames=32, channels=(8, 16, 16, 32), hidden=64, latent=8))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    from audiogen.samplevae.train import vae_losses

    first = None
    for step in range(300):
        losses = vae_losses(model, x, None, beta=0.01, class_weight=0.0)
        optimizer.zero_grad()
        losses["loss"].backward()
        optimizer.step()
        first = first if first is not None else float(losses["recon"].detach())
    model.eval()
    with torch.no_grad():
        error = (model.decode(model.encode(x)[0]) - x).abs().mean()
    assert float(error) < 0.06, float(error)
    assert float(losses["recon"].detach()) < 0.7 * first


def test_classifier_separates_two_classes(tiny_model, library):
    from audiogen.samplevae.load import load_samplevae_model

    assert tiny_model.is_file()
    meta = json.loads((tiny_model.parent / "metrics.jsonl").read_text().splitlines()[-1])
    assert meta.get("val_accuracy", 1.0) == 1.0
    bundle = load_samplevae_model(tiny_model)
    from audiogen.samplevae.generate import embed_clips

    clips = torch.stack([fit_clip(torch.from_numpy(w), bundle.features) for w in
                         [kick(50 + i) for i in range(6)] + [hat(60 + i) for i in range(6)]])
    _, probs = embed_clips(bundle.model, clips, bundle.features)
    predicted = [bundle.classes[i] for i in probs.argmax(1)]
    assert predicted == ["kick"] * 6 + ["hat"] * 6


def test_resume_matches_one_run(library, tmp_path):
    config = CONFIGS["tiny"]
    one = train_samplevae([library], tmp_path / "one", config=config, steps=12, checkpoint_every=0, device="cpu",
                          quiet=True)
    half = train_samplevae([library], tmp_path / "two", config=config, steps=12, checkpoint_every=0, device="cpu",
                           quiet=True, stop=lambda step: step == 6)
    assert half["stopped_early"] and half["steps"] == 6
    two = train_samplevae([library], tmp_path / "two", config=config, steps=12, resume=True, device="cpu", quiet=True)
    from safetensors.torch import load_file

    a, b = load_file(one["model"]), load_file(two["model"])
    assert all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------------------------------
# Search


def test_top_k_is_exact_and_excludes():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((64, 16)).astype(np.float32)
    vectors = np.repeat(base, 40, axis=0) + 1e-3 * rng.standard_normal((2560, 16)).astype(np.float32)
    v16 = torch.from_numpy(vectors.astype(np.float16))
    norms = v16.float().square().sum(1)
    for trial in range(20):
        query = torch.from_numpy(base[trial] + 1e-3 * rng.standard_normal(16).astype(np.float32))
        exclude = torch.zeros(len(vectors), dtype=torch.bool)
        exclude[trial * 40] = True
        rows, distances = top_k(v16, norms, query, 10, exclude=exclude)
        truth = (v16.float() - query).square().sum(1).sqrt()
        truth[exclude] = float("inf")
        expected = np.lexsort((np.arange(len(truth)), truth.numpy()))[:10]
        assert rows.tolist() == expected.tolist()
        assert np.allclose(distances, truth.numpy()[expected], atol=1e-5)
    rows, _ = top_k(v16, norms, query, 10, exclude=torch.ones(len(vectors), dtype=torch.bool))
    assert len(rows) == 0


def test_mel_inversion_has_no_banding():
    """A steady sound through the picture and back keeps a steady envelope (SampleVAE's banding)."""
    from audiogen.samplevae.generate import pictures_to_audio

    config = FeatureConfig()
    rng = np.random.default_rng(0)
    t = np.arange(config.samples) / config.sample_rate
    steady = (0.3 * rng.standard_normal(config.samples) + 0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    x = features(torch.from_numpy(steady)[None], config)
    wave = pictures_to_audio(x, config, generator=torch.Generator().manual_seed(0))[0].numpy()
    frames = wave[4096:-4096].reshape(-1, 512)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    assert rms.std() / rms.mean() < 0.15, rms.std() / rms.mean()
    assert np.abs(wave).max() == pytest.approx(0.89, abs=1e-3)


# ---------------------------------------------------------------------------------------------
# The library index and the commands


def _index_rows(index_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(str(index_dir / "index.sqlite"))
    rows = dict(db.execute("SELECT path, row FROM items"))
    generation = int(dict(db.execute("SELECT key, value FROM meta"))["generation"])
    count = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    db.close()
    vectors = np.load(index_dir / f"vectors-{generation}.npy")
    assert vectors.shape[0] == count and sorted(rows.values()) == list(range(count))
    assert len(list(index_dir.glob("vectors-*.npy"))) == 1  # old generations are gone
    return rows


def _vector_of(index_dir: Path, path: Path) -> np.ndarray:
    db = sqlite3.connect(str(index_dir / "index.sqlite"))
    row = db.execute("SELECT row FROM items WHERE path = ?", (str(path.resolve()),)).fetchone()[0]
    generation = int(dict(db.execute("SELECT key, value FROM meta"))["generation"])
    db.close()
    return np.load(index_dir / f"vectors-{generation}.npy")[row]


def test_index_add_change_delete_cycles(tiny_model, library, tmp_path):
    import shutil

    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    index = tmp_path / "idx"
    out = json.loads(cli(tmp_path, "index", lib, "--index", index, "--model", tiny_model, "--json").stdout)
    assert out["folders"][0]["added"] == 16 and out["sounds"] == 16
    assert len(_index_rows(index)) == 16
    kept = _vector_of(index, lib / "kick" / "kick0.wav")

    write(lib / "kick" / "new.wav", kick(77))
    write(lib / "hat" / "hat1.wav", hat(500))          # changed content
    (lib / "hat" / "hat2.wav").unlink()                # deleted
    out = json.loads(cli(tmp_path, "index", lib, "--index", index, "--model", tiny_model, "--json").stdout)
    report = out["folders"][0]
    assert (report["added"], report["changed"], report["removed"], report["unchanged"]) == (1, 1, 1, 14)
    assert report["new_sounds"] == 2 and out["sounds"] == 16
    rows = _index_rows(index)
    assert str((lib / "hat" / "hat2.wav").resolve()) not in rows
    assert str((lib / "kick" / "new.wav").resolve()) in rows
    assert np.array_equal(_vector_of(index, lib / "kick" / "kick0.wav"), kept)  # not re-embedded

    out = json.loads(cli(tmp_path, "index", lib, "--index", index, "--json").stdout)  # the index's own model
    assert out["folders"][0]["unchanged"] == 16 and out["folders"][0]["new_sounds"] == 0

    outside = write(tmp_path / "elsewhere" / "linked.wav", kick(88))
    (lib / "kick" / "link.wav").symlink_to(outside)     # a symlinked sample is found again on a re-run
    first = json.loads(cli(tmp_path, "index", lib, "--index", index, "--json").stdout)["folders"][0]
    again = json.loads(cli(tmp_path, "index", lib, "--index", index, "--json").stdout)["folders"][0]
    assert first["added"] == 1 and (again["added"], again["changed"], again["unchanged"]) == (0, 0, 17)


def test_index_skips_bad_files_and_keeps_them_listed(tiny_model, library, tmp_path):
    import shutil

    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    write(lib / "hat" / "silent.wav", np.zeros(SR, np.float32))
    (lib / "kick" / "notes.wav").write_text("this is not audio")
    (lib / "kick" / "cut.wav").write_bytes((lib / "kick" / "kick0.wav").read_bytes()[:200])
    write(lib / "kick" / "tiny.wav", kick(9)[:160])  # 10 ms: padded, indexed
    index = tmp_path / "idx"
    run = cli(tmp_path, "index", lib, "--index", index, "--model", tiny_model)
    assert "3 unusable" in run.stdout and "17 sounds embedded" in run.stdout
    assert "silent.wav: silent" in run.stderr and "notes.wav" in run.stderr and "cut.wav" in run.stderr
    again = cli(tmp_path, "index", lib, "--index", index, "--json")
    report = json.loads(again.stdout)["folders"][0]
    assert report["unchanged"] == 17 and len(report["skipped"]) == 3 and report["new_sounds"] == 0
    strict = cli(tmp_path, "index", lib, "--index", tmp_path / "strict", "--model", tiny_model, "--strict", check=2)
    assert strict.stderr.splitlines()[-1].startswith("audiogen: error: ") and "Traceback" not in strict.stderr
    assert not (tmp_path / "strict").exists()  # a failed first run leaves no index behind


def test_similar_excludes_query_and_matches_library_mode(tiny_model, library, tmp_path):
    index = tmp_path / "idx"
    cli(tmp_path, "index", library, "--index", index, "--model", tiny_model)
    query = library / "kick" / "kick0.wav"
    by_index = json.loads(cli(tmp_path, "similar", query, "--index", index, "-k", "5", "--json").stdout)
    assert by_index["query_vector_from"] == "index"
    paths = [r["path"] for r in by_index["results"]]
    assert str(query.resolve()) not in paths and len(paths) == 5
    assert all(r["class"] == "kick" for r in by_index["results"])
    distances = [r["distance"] for r in by_index["results"]]
    assert distances == sorted(distances)
    by_library = json.loads(cli(tmp_path, "similar", query, "--library", library, "--model", tiny_model,
                                "-k", "5", "--json").stdout)
    assert [(r["path"], r["distance"]) for r in by_library["results"]] == [(r["path"], r["distance"])
                                                                          for r in by_index["results"]]
    outside = write(tmp_path / "q.wav", hat(999))
    result = json.loads(cli(tmp_path, "similar", outside, "--index", index, "-k", "3", "--class", "hat",
                            "--json").stdout)
    assert result["query_vector_from"] == "embedded" and len(result["results"]) == 3
    assert all(r["class"] == "hat" for r in result["results"])
    bad_class = cli(tmp_path, "similar", outside, "--index", index, "--class", "snare", check=2)
    assert "hat, kick" in bad_class.stderr


def test_similar_without_index_says_how_to_make_one(tmp_path):
    query = write(tmp_path / "q.wav", kick(1))
    run = cli(tmp_path, "similar", query, check=2)
    assert "no sample index yet" in run.stderr and "audiogen index" in run.stderr
    assert "Traceback" not in run.stderr


def test_index_of_another_model_is_refused_and_kept(tiny_model, library, tmp_path):
    index = tmp_path / "idx"
    cli(tmp_path, "index", library, "--index", index, "--model", tiny_model)
    before = {p.name: p.read_bytes() for p in index.iterdir()}
    other = tmp_path / "other"
    train_samplevae([library], other, config=CONFIGS["tiny"], steps=2, checkpoint_every=0, device="cpu", quiet=True)
    run = cli(tmp_path, "index", library, "--index", index, "--model", other / "model.safetensors", check=2)
    assert "made by another model" in run.stderr and "--rebuild" in run.stderr
    assert {p.name: p.read_bytes() for p in index.iterdir()} == before
    query = library / "hat" / "hat3.wav"
    run = cli(tmp_path, "similar", write(tmp_path / "q.wav", hat(5)), "--index", index, "--model",
              other / "model.safetensors", check=2)
    assert "made by another model" in run.stderr
    rebuilt = json.loads(cli(tmp_path, "index", library, "--index", index, "--model", other / "model.safetensors",
                             "--rebuild", "--json").stdout)
    assert rebuilt["sounds"] == 16 and rebuilt["model_sha256"] != json.loads(
        cli(tmp_path, "similar", query, "--index", index, "--json").stdout).get("model_sha256", "")


def test_an_index_still_serves_a_model_file_whose_weights_did_not_change(tiny_model, library, tmp_path):
    """A copy of the model with new metadata only (e.g. latent directions) names the file it came
    from as having the same weights, so the index made with that file is still good."""
    from audiogen.runtime.modelfile import rewrite_model
    from audiogen.samplevae.config import KIND

    index = tmp_path / "idx"
    cli(tmp_path, "index", library, "--index", index, "--model", tiny_model)
    copy = rewrite_model(tiny_model, tmp_path / "steerable.safetensors", kind=KIND, extra={"directions": {}})
    again = rewrite_model(copy, tmp_path / "again.safetensors", kind=KIND, extra={"note": "x"})
    for model in (copy, again):
        cli(tmp_path, "index", library, "--index", index, "--model", model)
        cli(tmp_path, "similar", library / "hat" / "hat3.wav", "--index", index, "--model", model)


def test_classify_sample_interpolate_map(tiny_model, library, tmp_path):
    out = json.loads(cli(tmp_path, "classify", library / "kick", library / "hat" / "hat0.wav", "--model", tiny_model,
                         "--json").stdout)
    assert len(out["files"]) == 9 and out["counts"] == {"kick": 8, "hat": 1}
    assert abs(sum(out["files"][0]["probabilities"].values()) - 1.0) < 1e-3
    bad = cli(tmp_path, "classify", write(tmp_path / "silent.wav", np.zeros(100, np.float32)), "--model", tiny_model,
              check=2)
    assert "silent" in bad.stderr and bad.stderr.count("\n") == 1

    samples = tmp_path / "samples"
    cli(tmp_path, "sample", "samplevae", "--model", tiny_model, "-n", "3", "--out-dir", samples, "--rng-seed", "3")
    waves = sorted(samples.glob("sample-*.wav"))
    assert len(waves) == 3
    info = sf.info(str(waves[0]))
    assert info.samplerate == 16000 and info.frames == 32 * 256
    again = tmp_path / "again"
    cli(tmp_path, "sample", "samplevae", "--model", tiny_model, "-n", "3", "--out-dir", again, "--rng-seed", "3")
    assert (again / "sample-000.wav").read_bytes() == waves[0].read_bytes()

    mix = tmp_path / "mix.wav"
    cli(tmp_path, "sample", "samplevae", "--model", tiny_model, "--from", library / "kick" / "kick0.wav", "--from",
        library / "hat" / "hat0.wav", "--weights", "1,-0.5", "--out", mix, "--sample-rate", "44100")
    assert sf.info(str(mix)).samplerate == 44100
    zero = cli(tmp_path, "sample", "samplevae", "--model", tiny_model, "--from", library / "kick" / "kick0.wav",
               "--from", library / "hat" / "hat0.wav", "--weights", "1,-1", "--out", mix, check=2)
    assert "sum to 0" in zero.stderr

    walk = tmp_path / "walk"
    cli(tmp_path, "interpolate", "samplevae", library / "kick" / "kick0.wav", library / "hat" / "hat0.wav",
        "--steps", "4", "--out-dir", walk, "--model", tiny_model)
    assert sorted(p.name for p in walk.iterdir() if not p.name.startswith(".")) == ["interpolation.wav", "step-00.wav", "step-01.wav",
                                                      "step-02.wav", "step-03.wav"]

    index = tmp_path / "idx"
    cli(tmp_path, "index", library, "--index", index, "--model", tiny_model)
    cli(tmp_path, "map", "--index", index, "--out", tmp_path / "map.png", "--html", tmp_path / "map.html")
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "map.html").read_text()
    assert "file://" not in page and "new Audio" in page
    rows = json.loads(page.split("const P = ")[1].split(", C = ")[0])
    assert len(rows) == 16 and all((tmp_path / row[3]).is_file() for row in rows)  # relative: the folder can move


def test_train_cli_and_bad_input(library, tmp_path):
    out = tmp_path / "run"
    run = cli(tmp_path, "train", "samplevae", "--data", library, "--out", out, "--config", "tiny", "--steps", "4",
              "--json")
    summary = json.loads(run.stdout)
    assert summary["classes"] == ["hat", "kick"] and (out / "model.safetensors").is_file()
    flat = tmp_path / "flat"
    for i in range(3):
        write(flat / f"s{i}.wav", kick(i))
    summary = json.loads(cli(tmp_path, "train", "samplevae", "--data", flat, "--out", tmp_path / "flatrun", "--config",
                             "tiny", "--steps", "2", "--json").stdout)
    assert summary["classes"] == []
    no_head = cli(tmp_path, "classify", flat, "--model", tmp_path / "flatrun" / "model.safetensors", check=2)
    assert "no class head" in no_head.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no audio files" in cli(tmp_path, "train", "samplevae", "--data", empty, "--out", tmp_path / "x",
                                         check=2).stderr
    musicvae = Path(__file__).resolve().parents[1] / "assets" / "models" / "musicvae-2bar.safetensors"
    if musicvae.is_file():
        wrong = cli(tmp_path, "classify", library, "--model", musicvae, check=2)
        assert "musicvae" in wrong.stderr


def test_long_file_skipped_or_cut_at_onsets(tiny_model, tmp_path):
    lib = tmp_path / "lib"
    write(lib / "one.wav", kick(1))
    hits = [1.0, 9.5, 20.0, 31.25]
    wave = np.zeros(int(34 * SR), np.float32)
    for i, start in enumerate(hits):
        sound = kick(10 + i)
        wave[int(start * SR):int(start * SR) + len(sound)] += sound
    write(lib / "loop.wav", wave)
    index = tmp_path / "idx"
    plain = json.loads(cli(tmp_path, "index", lib, "--index", index, "--model", tiny_model, "--json").stdout)
    report = plain["folders"][0]
    assert report["new_sounds"] == 1 and "not a one-shot" in report["skipped"][0][1]
    cut = json.loads(cli(tmp_path, "index", lib, "--index", tmp_path / "cut", "--model", tiny_model,
                         "--split-onsets", "--json").stdout)
    assert cut["sounds"] == 1 + len(hits)
    found = json.loads(cli(tmp_path, "similar", lib / "one.wav", "--index", tmp_path / "cut", "-k", "10",
                           "--json").stdout)["results"]
    offsets = sorted(r["offset"] for r in found if r["path"].endswith("loop.wav"))
    assert np.allclose(offsets, hits, atol=256 / SR + 1e-6)


def test_eval_and_leave_one_kit_out(tiny_model, tmp_path):
    import csv

    lib = tmp_path / "drums"
    rows = []
    for kit in ("alpha", "beta", "gamma"):
        for i in range(3):
            seed = hash((kit, i)) % 1000
            for label, wave in (("kick", kick(seed)), ("hat", hat(seed))):
                name = f"{label}/{kit}__{label}{i}__l1.wav"
                write(lib / name, wave)
                rows.append({"file": name, "class": label, "kit": kit, "instrument": f"{label}{i}"})
    shared = (lib / "kick" / "alpha__kick0__l1.wav").read_bytes()
    (lib / "kick" / "gamma__kick0__l1.wav").write_bytes(shared)  # gamma shares a recording with alpha
    with open(lib / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "class", "kit", "instrument"])
        writer.writeheader()
        writer.writerows(rows)
    result = json.loads(cli(tmp_path, "eval", "samplevae", "--data", lib, "--model", tiny_model, "-k", "3",
                            "--json").stdout)
    assert result["files"] == 18 and result["classification"]["scored"] == 18
    assert 0.0 <= result["retrieval"]["precision"] <= 1.0
    loko = json.loads(cli(tmp_path, "eval", "samplevae", "--data", lib, "--leave-one-kit-out", "--out",
                          tmp_path / "loko", "--steps", "2", "--json").stdout)
    assert sorted(f["kit"] for f in loko["folds"]) == ["alpha+gamma", "beta"]
    assert {f["kit"]: (f["held_files"], f["six_scored"]) for f in loko["folds"]} == {"alpha+gamma": (12, 6),
                                                                                   "beta": (6, 3)}
    again = cli(tmp_path, "eval", "samplevae", "--data", lib, "--leave-one-kit-out", "--out", tmp_path / "loko",
                "--steps", "2", "--json")
    assert json.loads(again.stdout)["mean_accuracy"] == loko["mean_accuracy"]  # finished folds are kept
    no_manifest = cli(tmp_path, "eval", "samplevae", "--data", tmp_path / "drums" / "kick", "--leave-one-kit-out",
                      "--out", tmp_path / "x", check=2)
    assert "manifest.csv" in no_manifest.stderr
