"""The Python API: `audiogen.load(name_or_path)` and each handle's documented calls, and
`--model NAME` (a bundled model by name) on a command of each family."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import audiogen
from audiogen.runtime.assets import models_dir

BUNDLED = ["abc", "musicvae-2bar", "musicvae-16bar", "samplevae-drums", "gansynth", "translate-piano-violin",
           "pitch-classifier"]


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1", "AUDIOGEN_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=cwd)


def test_import_audiogen_stays_light():
    code = "import sys, audiogen; print('torch' in sys.modules, callable(audiogen.load), audiogen.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False" and out[1] == "True"  # torch comes with the first model, not the import


@pytest.mark.parametrize("name, kind", [("abc", "abc"), ("musicvae-2bar", "musicvae"), ("musicvae-16bar", "musicvae"),
                                        ("samplevae-drums", "samplevae"), ("gansynth", "gansynth"),
                                        ("translate-piano-violin", "translate"),
                                        ("pitch-classifier", "pitch-classifier")])
def test_every_bundled_name_loads_a_handle_of_its_kind(name, kind):
    handle = audiogen.load(name, device="cpu")
    assert handle.kind == kind and handle.name == name and handle.path.is_file()
    assert len(handle.sha256) == 64 and isinstance(handle.config, dict) and str(handle.device) == "cpu"
    by_path = audiogen.load(str(handle.path), device="cpu")  # a path works too, and gives the same class
    assert type(by_path) is type(handle) and by_path.sha256 == handle.sha256


def test_unknown_names_and_files_that_are_not_ours_raise_one_documented_error(tmp_path):
    with pytest.raises(audiogen.BadInputError) as e:
        audiogen.load("musicvae-3bar")
    assert "musicvae-3bar" in str(e.value) and all(name in str(e.value) for name in BUNDLED)
    assert isinstance(e.value, audiogen.AudiogenError)
    import torch

    pickled = tmp_path / "evil.safetensors"
    torch.save({"weights": torch.zeros(3)}, pickled)  # a pickle, named like a model file
    with pytest.raises(audiogen.BadInputError, match="evil.safetensors: not an audiogen model file"):
        audiogen.load(pickled)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(audiogen.BadInputError, match="notes.txt"):
        audiogen.load(text)


def test_abc_and_musicvae_handles_return_text_and_pretty_midi():
    import pretty_midi

    tunes = audiogen.load("abc", device="cpu").sample(2, rng_seed=1)
    assert len(tunes) == 2 and all(isinstance(t, str) and t.startswith("X:1") for t in tunes)
    assert tunes == audiogen.load("abc", device="cpu").sample(2, rng_seed=1)  # rng_seed reproduces
    vae = audiogen.load("musicvae-2bar", device="cpu")
    melodies = vae.sample(3, rng_seed=2, meter="3/4")
    assert len(melodies) == 3 and all(isinstance(m, pretty_midi.PrettyMIDI) for m in melodies)
    assert melodies[0].time_signature_changes[0].numerator == 3
    z = vae.encode(melodies[0])
    assert z.shape == (vae.bundle.model.config.latent,) and z.dtype == np.float32
    walk = vae.interpolate(melodies[0], melodies[1], steps=4)
    assert len(walk) == 4 and all(isinstance(m, pretty_midi.PrettyMIDI) for m in walk)


def test_musicvae_16bar_handle_samples_from_its_fitted_prior_in_training_forms(tmp_path):
    from audiogen.data.melody import save_windows
    from audiogen.musicvae.generate import play_forms

    vae = audiogen.load("musicvae-16bar", device="cpu")
    assert vae.bundle.prior is not None and vae.bundle.forms is not None
    counts = vae.sample_counts(6, rng_seed=4, meter="4/4")
    assert counts["heldout"] is None and counts["samples"]["melodies"] == 6
    assert counts == vae.sample_counts(6, rng_seed=4, meter="4/4")  # rng_seed reproduces
    paper = vae.sample_counts(6, rng_seed=4, meter="4/4", prior="standard", repeats=False)
    assert paper["samples"]["repeated_bars"] == 0.0 and paper != counts
    # the counts of a held-out set come with it: a window set of two repeated-bar melodies
    events = vae._samples(2, 5, "4/4", 0.5, "fitted", False)
    played = play_forms(events, np.tile(np.r_[np.arange(8), np.arange(8)], (2, 1)))
    held = tmp_path / "held.npz"
    save_windows(held, {"events": played, "source": np.array([0, 1]), "sources": np.array(["a.abc:1", "b.abc:1"]),
                        "start_bar": np.zeros(2, np.int64), "meter": np.array(["4/4", "4/4"]),
                        "transpose": np.zeros(2, np.int64), "window": np.arange(2), "bars": np.array(16)})
    report = vae.sample_counts(2, heldout=held, rng_seed=4, meter="4/4")
    assert report["heldout"]["melodies"] == 2 and report["heldout"]["repeated_bars"] >= 0.5


def test_gansynth_handle_samples_renders_and_exports(tmp_path):
    import pretty_midi

    gan = audiogen.load("gansynth", device="cpu")
    notes = gan.sample([48, 60, 72], n=2, same_latent=True, rng_seed=3)
    assert notes.shape == (6, 64000) and notes.dtype == np.float32 and gan.sample_rate == 16000
    assert np.array_equal(notes, gan.sample([48, 60, 72], n=2, same_latent=True, rng_seed=3))
    song = pretty_midi.PrettyMIDI()
    line = pretty_midi.Instrument(0)
    line.notes = [pretty_midi.Note(velocity=100, pitch=p, start=0.5 * i, end=0.5 * i + 0.5)
                  for i, p in enumerate([60, 64, 67])]
    song.instruments.append(line)
    wave = gan.render(song, rng_seed=1)
    assert wave.ndim == 1 and wave.dtype == np.float32 and len(wave) == round((1.5 + 0.3) * 16000)
    info = gan.export(tmp_path / "inst.sf2", rng_seed=1, pitches=(48, 52))
    assert info["samples"] == 5 and (tmp_path / "inst.sf2").is_file()
    with pytest.raises(audiogen.AudiogenError, match="outside this model's range"):
        gan.sample([100])


def test_samplevae_handle_classifies_searches_and_samples(tmp_path):
    from audiogen.dsp import save_audio

    vae = audiogen.load("samplevae-drums", device="cpu")
    sounds = vae.sample(4, rng_seed=1)
    assert sounds.shape[0] == 4 and sounds.dtype == np.float32
    labels = vae.classify(list(sounds), sample_rate=vae.sample_rate)
    assert len(labels) == 4 and set(labels) <= set(vae.classes)
    for i, s in enumerate(sounds):
        save_audio(tmp_path / f"s{i}.wav", s, vae.sample_rate)
    assert vae.classify([tmp_path / "s0.wav"]) == labels[:1]  # a file and its wave agree
    near = vae.similar(tmp_path / "s0.wav", library=tmp_path, k=2)
    assert len(near) == 2 and all(Path(p).name != "s0.wav" for p, _ in near)  # never the query itself
    assert all(isinstance(d, float) for _, d in near) and near[0][1] <= near[1][1]
    with pytest.raises(audiogen.AudiogenError, match="sample_rate"):
        vae.classify([sounds[0]])


def test_translate_handle_keeps_length_and_rate():
    tr = audiogen.load("translate-piano-violin", device="cpu")
    t = np.arange(22050 + 7) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 330 * t), np.sin(2 * np.pi * 330 * t)]).astype(np.float32) * 0.5
    out = tr.translate(stereo, 22050)
    assert out.shape == (22050 + 7,) and out.dtype == np.float32
    with pytest.raises(audiogen.AudiogenError, match="silent"):
        tr.translate(np.zeros(16000, np.float32), 16000)


def test_pitch_classifier_handle_names_the_pitch_of_a_tone():
    t = np.arange(64000) / 16000
    tone = sum(np.sin(2 * np.pi * k * 261.63 * t) / k for k in range(1, 6)).astype(np.float32) * 0.2
    assert audiogen.load("pitch-classifier", device="cpu").classify(tone) == [60]


@pytest.mark.parametrize("args, expect", [
    (["sample", "abc", "--model", "abc", "-n", "1", "--out", "{tmp}/t.abc", "--rng-seed", "1"], "t.abc"),
    (["sample", "musicvae", "--model", "musicvae-16bar", "-n", "1", "--out-dir", "{tmp}/mv", "--rng-seed", "1"], "mv"),
    (["sample", "samplevae", "--model", "samplevae-drums", "-n", "1", "--out-dir", "{tmp}/sv", "--rng-seed", "1"], "sv"),
    (["sample", "gansynth", "--model", "gansynth", "--pitch", "60", "--out-dir", "{tmp}/gs", "--rng-seed", "1"], "gs"),
    (["export", "gansynth", "--model", "gansynth", "--pitches", "60-61", "--out", "{tmp}/i.sfz"], "i.sfz"),
])
def test_model_option_takes_a_bundled_name(tmp_path, args, expect):
    run = _cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / expect).exists()


def test_model_option_names_a_translate_model_and_refuses_unknown_names(tmp_path):
    from audiogen.dsp import save_audio

    t = np.arange(16000) / 16000
    save_audio(tmp_path / "in.wav", (0.5 * np.sin(2 * np.pi * 262 * t)).astype(np.float32), 16000)
    run = _cli("translate", tmp_path / "in.wav", "--out", tmp_path / "out.wav", "--model", "translate-piano-violin")
    assert run.returncode == 0, run.stderr
    bad = _cli("sample", "gansynth", "--model", "gansynth-big", "--pitch", "60", "--out-dir", tmp_path / "x")
    assert bad.returncode == 2
    assert "gansynth-big: no such file, and not a bundled model name (bundled: abc," in bad.stderr
    assert not (tmp_path / "x").exists()
    assert models_dir() is not None


def test_the_readme_api_example_runs_as_written(tmp_path):
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Python API"):readme.index("## Commands")]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "example.py").write_text(code)
    run = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "tune.mid").is_file() and (tmp_path / "timbre.sf2").is_file()
    assert "X:1" in run.stdout


def test_the_quickstart_notebook_executes(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    path = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # a cell that raises fails the test (CellExecutionError)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert any("audio/wav" in o.get("data", {}) or "text/html" in o.get("data", {}) for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_a_bundled_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    (tmp_path / "gansynth").mkdir()  # what `export gansynth --out gansynth.sfz` leaves beside it
    monkeypatch.chdir(tmp_path)
    assert audiogen.load("gansynth", device="cpu").kind == "gansynth"
