"""Runs and outputs you can trust (issue 30): every trainer resumes exactly (the same logged losses
and weights as an uninterrupted run, resumed mid-window), stops on divergence with exit 2 and no
model file, and refuses a second writer; output sets refuse another command's files; number
options refuse nan and infinity. The audit's cases as a table: command, exit code, what is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from clitools import CLI, TIMEOUT_S, assert_one_line_error, listing, run_cli, run_in_one_process
from synth_notes import tone, write_set

sf = pytest.importorskip("soundfile")

TUNE = "X:{n}\nT:Tune {n}\nM:4/4\nL:1/8\nK:{key}\n{body}|\n"


def _tunes_text(count: int = 16) -> str:
    rng = np.random.default_rng(0)
    notes = "CDEFGABcdefg"
    return "\n".join(TUNE.format(n=n, key="CGDAF"[n % 5], body="|".join(
        "".join(notes[i] for i in rng.integers(0, len(notes), 8)) for _ in range(8))) for n in range(1, count + 1))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("integrity")
    (root / "tunes.abc").write_text(_tunes_text())
    for kind, pitches in (("kick", (36, 38, 40)), ("hat", (80, 82, 84))):
        (root / "library" / kind).mkdir(parents=True)
        for i, p in enumerate(pitches):
            sf.write(root / "library" / kind / f"{kind}{i}.wav",
                     tone(p, harmonics=2 if kind == "kick" else 12, decay=0.1 + 0.05 * i)[:16000], 16000)
    write_set(root / "nsynth", [(f"keyboard_acoustic_{i % 2:03d}", 0, 40 + 2 * i) for i in range(12)])
    sys.path.insert(0, str(Path(__file__).parent))
    from test_translate import MELODIES, _write_pairs

    _write_pairs(root / "pairs", MELODIES)
    t = np.arange(16000) / 16000
    sf.write(root / "note.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    return {"root": root, "tunes": root / "tunes.abc", "library": root / "library", "nsynth": root / "nsynth",
            "pairs": root / "pairs", "note": root / "note.wav"}


def _with(config, **changes):
    names = {f.name for f in fields(config)}
    return replace(config, **{k: v for k, v in changes.items() if k in names})


def _train(family: str, d: dict, out: Path, **kw) -> dict:
    """One of the six trainers, tiny, on CPU, logging every 2 steps (so a stop at step 3 is mid-window)."""
    common = dict(checkpoint_every=0, device="cpu", quiet=True, **kw)
    if family == "abc":
        from audiogen.abc.train import CONFIGS, train_abc
        return train_abc([d["tunes"]], out, config=_with(CONFIGS["small"], log_every=2, val_every=1000), **common)
    if family == "musicvae":
        from audiogen.musicvae.train import CONFIGS, train_musicvae
        return train_musicvae([d["tunes"]], out, config=_with(CONFIGS["tiny"], log_every=2, val_every=1000), **common)
    if family == "samplevae":
        from audiogen.samplevae.train import CONFIGS, train_samplevae
        return train_samplevae([d["library"]], out, config=_with(CONFIGS["tiny"], log_every=2, val_every=1000),
                               **common)
    if family == "translate":
        from audiogen.translate.train import CONFIGS, train_translate
        return train_translate(out, config=_with(CONFIGS["tiny"], log_every=2, val_every=1000,
                                                 snapshot_every=1000), pairs=[d["pairs"]], **common)
    if family == "gansynth":
        from audiogen.gansynth.train import CONFIGS, train_gansynth
        return train_gansynth(d["nsynth"], out, config=_with(CONFIGS["small"], log_every=2, images_per_stage=16,
                                                             batch_size=8, snapshot_every=0),
                              cache_root=d["root"] / "cache-gansynth", **common)
    from audiogen.gansynth.classifier_train import PitchClassifierTrainConfig, train_pitch_classifier
    return train_pitch_classifier(d["nsynth"], out, config=_with(PitchClassifierTrainConfig(), log_every=2),
                                  cache_root=d["root"] / "cache-classifier", **common)


FAMILIES = ["abc", "musicvae", "samplevae", "translate", "gansynth", "pitch-classifier"]
TIMING_KEYS = {"time", "chars_per_s", "windows_per_s", "samples_per_s", "crops_per_s", "img_per_s"}


def _losses(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in rows]


@pytest.mark.parametrize("family", FAMILIES)
def test_stopped_and_resumed_runs_log_the_losses_and_weights_of_one_uninterrupted_run(family, data, tmp_path):
    from audiogen.runtime.checkpoint import load_checkpoint

    torch.manual_seed(0)
    _train(family, data, tmp_path / "once", steps=6)
    torch.manual_seed(0)
    _train(family, data, tmp_path / "twice", steps=6, stop=lambda step: step >= 3)  # mid-window: logs at 2, 4, 6
    assert load_checkpoint(tmp_path / "twice" / "checkpoint.pt")["step"] == 3
    _train(family, data, tmp_path / "twice", steps=6, resume=True)
    train_lines = lambda rows: [r for r in rows if "lr" in r]  # noqa: E731  (validation lines differ: a stop validates)
    assert train_lines(_losses(tmp_path / "once")) == train_lines(_losses(tmp_path / "twice"))
    a = load_checkpoint(tmp_path / "once" / "checkpoint.pt")["modules"]
    b = load_checkpoint(tmp_path / "twice" / "checkpoint.pt")["modules"]
    assert all(torch.equal(a[m][k], b[m][k]) for m in a for k in a[m])
    assert ".audiogen.lock" not in listing(tmp_path / "twice")  # the trainer let go of its folder


DIVERGING = {
    "abc": ["train", "abc", "--data", "{tunes}", "--config", "small", "--lr", "1e12"],
    "musicvae": ["train", "musicvae", "--data", "{tunes}", "--config", "tiny", "--lr", "1e12"],
    "samplevae": ["train", "samplevae", "--data", "{library}", "--config", "tiny", "--lr", "1e12"],
    "translate": ["train", "translate", "--data", "{pairs}", "--config", "tiny", "--lr", "1e12"],
    "gansynth": ["train", "gansynth", "--data", "{nsynth}", "--config", "small", "--images-per-stage", "16",
                 "--batch-size", "8", "--snapshot-every", "0", "--lr", "1e12"],
    "pitch-classifier": ["train", "pitch-classifier", "--data", "{nsynth}", "--lr", "1e12"],
}


@pytest.fixture(scope="module")
def diverged(data, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("diverged")
    cases = {name: [str(a).format(**{k: v for k, v in data.items()}) for a in argv]
             + ["--steps", "4", "--checkpoint-every", "1", "--out", str(root / name), "--device", "cpu", "-q"]
             for name, argv in DIVERGING.items()}
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("AUDIOGEN_SOUNDFONT", None)
    return {"runs": run_in_one_process(cases, env, data["root"], tmp_path_factory.mktemp("diverged-driver")),
            "root": root}


@pytest.mark.parametrize("family", FAMILIES)
def test_a_learning_rate_of_1e12_stops_with_exit_2_and_writes_no_model(family, diverged):
    run, out = diverged["runs"][family], diverged["root"] / family
    if family == "musicvae":  # its config bounds --lr before any work
        assert_one_line_error(run, "lr=1000000000000.0: must be at most 1")
    else:
        assert_one_line_error(run, "training diverged", "lower --lr")
    assert not (out / "model.safetensors").exists()
    assert not (out / "checkpoint.pt").exists() or all(
        torch.isfinite(t).all() for m in torch.load(out / "checkpoint.pt", weights_only=True)["modules"].values()
        for t in m.values() if t.is_floating_point())


def test_a_model_file_with_non_finite_values_is_never_written(tmp_path):
    from audiogen.runtime.modelfile import NonFiniteModel, save_model

    with pytest.raises(NonFiniteModel, match="model.w holds 1 of 2"):
        save_model(tmp_path / "m.safetensors", {"model.w": torch.tensor([1.0, 70000.0])}, kind="toy", config={},
                   dtype=torch.float16)  # 70000 does not fit float16
    assert listing(tmp_path) == []


def test_a_second_trainer_on_one_run_is_refused_at_once_with_the_holders_pid(data, tmp_path):
    out = tmp_path / "run"
    argv = CLI + ["train", "abc", "--data", str(data["tunes"]), "--config", "small", "--steps", "100000",
                  "--checkpoint-every", "1", "--out", str(out), "--device", "cpu", "-q"]
    first = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not (out / "checkpoint.pt").exists():
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        fresh = run_cli(argv[len(CLI):], dict(os.environ), tmp_path)
        assert_one_line_error(fresh, str(out), "already holds a training run")
        second = run_cli(argv[len(CLI):] + ["--resume"], dict(os.environ), tmp_path)
        assert_one_line_error(second, str(out), f"another audiogen run (pid {first.pid})", "training into it")
    finally:
        first.terminate()
        first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == 143
    from audiogen.runtime.locks import hold_folder, release_folder

    assert ".audiogen.lock" not in listing(out)  # let go of (and removed) as the first run ended
    hold_folder(out, "checking")  # and free for the next writer
    release_folder(out)


def test_two_concurrent_writers_of_one_new_run_leave_one_run_identical_to_a_single_one(data, tmp_path):
    """Five times: two `train musicvae` into one new --out at once; one is refused, the other's
    model equals a run made alone."""
    from audiogen.runtime.modelfile import load_model

    args = ["train", "musicvae", "--data", str(data["tunes"]), "--config", "tiny", "--steps", "30",
            "--device", "cpu", "-q"]
    alone = run_cli(args + ["--out", str(tmp_path / "alone")], dict(os.environ), tmp_path)
    assert alone.code == 0, alone
    expected = load_model(tmp_path / "alone" / "model.safetensors").tensors
    for attempt in range(5):
        out = tmp_path / f"both{attempt}"
        procs = [subprocess.Popen(CLI + args + ["--out", str(out)], cwd=tmp_path, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(timeout=TIMEOUT_S), p.communicate()[1]) for p in procs]
        codes = sorted(code for code, _ in results)
        refused = [err for code, err in results if code == 2]
        assert codes == [0, 2], results
        assert "another audiogen run" in refused[0] or "already holds a training run" in refused[0], refused
        got = load_model(out / "model.safetensors").tensors
        assert got.keys() == expected.keys() and all(torch.equal(got[k], expected[k]) for k in got)


# ---------- the audit's cases as a table -----------------------------------------------------------

# case -> (argv with {placeholders}, expected exit code, words of the one-line error, paths that must not exist)
AUDIT = {
    "musicvae-temperature-inf": (["sample", "musicvae", "--temperature", "inf", "-n", "1", "--out-dir", "{o}/mv-inf"],
                                 2, ["--temperature", "finite"], ["mv-inf"]),
    "gansynth-temperature-inf": (["sample", "gansynth", "--pitch", "60", "--temperature", "inf", "--out-dir",
                                  "{o}/gs-inf"], 2, ["--temperature", "inf"], ["gs-inf"]),
    "abc-temperature-inf": (["sample", "abc", "--temperature", "inf", "-n", "1", "--out", "{o}/inf.abc"],
                            2, ["--temperature", "finite"], ["inf.abc"]),
    "abc-temperature-nan": (["sample", "abc", "--temperature", "nan", "-n", "1", "--out", "{o}/nan.abc"],
                            2, ["--temperature", "not a number"], ["nan.abc"]),
    "samplevae-weights-overflow": (["sample", "samplevae", "--from", "{note}", "--from", "{note}", "--weights",
                                    "1e308,1e308", "--out", "{o}/mix.wav"], 2, ["--weights", "overflow"], ["mix.wav"]),
    "encode-gansynth-lr-1e30": (["encode", "gansynth", "{note}", "--pitch", "69", "--lr", "1e30", "--out",
                                 "{o}/z.npy"], 2, ["--lr", "at most 10"], ["z.npy"]),
    "gansynth-judge-weight-inf": (["train", "gansynth", "--data", "{nsynth}", "--judge-weight", "inf", "--out",
                                   "{o}/gj"], 2, ["--judge-weight", "inf"], ["gj"]),
    "gansynth-judge-weight-1e30": (["train", "gansynth", "--data", "{nsynth}", "--pitch-judge", "pitch-classifier",
                                    "--judge-weight", "1e30", "--out", "{o}/gj2"], 2, ["--judge-weight", "at most"],
                                   ["gj2"]),
    "gansynth-data-not-a-folder": (["train", "gansynth", "--data", "{tunes}", "--out", "{o}/gf"], 2,
                                   ["tunes.abc", "NSynth folder"], ["gf"]),
    "melodies-not-npz": (["data", "melodies", "--data", "{tunes}", "--out", "{o}/x.txt"], 2, ["x.txt", ".npz"],
                         ["x.txt"]),
    "translate-out-and-out-dir": (["translate", "{note}", "--out", "{o}/t.wav", "--out-dir", "{o}/td"], 2,
                                  ["not both"], ["t.wav", "td"]),
    "resynth-over-its-input": (["resynth", "{o}/in.wav", "--out", "{o}/in.wav"], 2, ["in.wav", "also the input"], []),
    "translate-over-its-input": (["translate", "{o}/in.wav", "--out", "{o}/in.wav"], 2, ["also the input"], []),
    "musicvae-16bar-in-5-4": (["sample", "musicvae", "--model", "musicvae-16bar", "--meter", "5/4", "--out-dir",
                               "{o}/m54"], 2, ["--meter 5/4", "not trained"], ["m54"]),
    "pairs-to-a-gunshot": (["data", "pairs", "--melodies", "{tunes}", "--to", "127", "--out", "{o}/pp"], 2,
                           ["--to 127", "not a pitched"], ["pp"]),
    "render-abc-not-a-soundfont": (["render", "abc", "{tunes}", "--out-dir", "{o}/ra", "--wav", "--soundfont",
                                    "{o}/bad.sf2"], 2, ["bad.sf2", "could not load"], ["ra"]),
    "walk-samplevae": (["interpolate", "samplevae", "{note}", "{note}", "--steps", "3", "--out-dir", "{o}/walk"],
                       0, [], []),
    "walk-gansynth-over-samplevae": (["interpolate", "gansynth", "--pitch", "60", "--steps", "3", "--out-dir",
                                      "{o}/walk"], 2, ["step-00.wav", "written by `interpolate samplevae`",
                                                       "--force"], []),
    "walk-gansynth-forced": (["interpolate", "gansynth", "--pitch", "60", "--steps", "3", "--out-dir", "{o}/walk",
                              "--force"], 0, [], []),
}


def test_audit_table(data, tmp_path):
    """Each row: exit code, one line naming the problem, nothing of the refused command left."""
    placeholders = {**{k: str(v) for k, v in data.items()}, "o": str(tmp_path)}
    cases = {name: [a.format(**placeholders) for a in argv] for name, (argv, *_rest) in AUDIT.items()}
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("AUDIOGEN_SOUNDFONT", None)
    (tmp_path / "driver").mkdir()
    (tmp_path / "bad.sf2").write_text("not a SoundFont\n")
    (tmp_path / "in.wav").write_bytes(data["note"].read_bytes())
    before = (tmp_path / "in.wav").read_bytes()
    runs = run_in_one_process(cases, env, data["root"], tmp_path / "driver")  # in the table's order
    for name, (_, code, words, left) in AUDIT.items():
        run = runs[name]
        if code == 2 and words:
            assert_one_line_error(run, *words)
        else:
            assert run.code == code, (name, run)
        for path in left:
            assert not (tmp_path / path).exists(), (name, path)
    assert (tmp_path / "in.wav").read_bytes() == before  # never written over
    walk = listing(tmp_path / "walk")
    assert not any(".tmp-" in name or name.endswith(".lock") for name in walk), walk
    assert "walk.wav" in walk  # the forced run took the names over


def test_a_soundfont_variable_naming_nothing_is_refused_before_any_work(data, tmp_path):
    env = dict(os.environ, AUDIOGEN_SOUNDFONT=str(tmp_path / "nowhere.sf2"))
    run = run_cli(["render", "abc", str(data["tunes"]), "--out-dir", str(tmp_path / "ra"), "--wav"], env, tmp_path)
    assert_one_line_error(run, "nowhere.sf2", "$AUDIOGEN_SOUNDFONT")
    assert not (tmp_path / "ra").exists()
    from audiogen.data.soundfonts import missing_soundfont

    assert "apt-get install fluid-soundfont-gm" in str(missing_soundfont("/usr/share/sounds/sf2/FluidR3_GM.sf2"))


def test_leaving_one_kit_out_of_a_one_kit_library_says_two_kits_are_needed(data, tmp_path):
    import shutil

    library = tmp_path / "one-kit"
    shutil.copytree(data["library"], library)
    rows = [f"{p.relative_to(library).as_posix()},kitA,{p.parent.name}" for p in sorted(library.rglob("*.wav"))]
    (library / "manifest.csv").write_text("file,kit,instrument\n" + "\n".join(rows) + "\n")
    run = run_cli(["eval", "samplevae", "--data", str(library), "--leave-one-kit-out", "--out", str(tmp_path / "f")],
                  dict(os.environ), tmp_path)
    assert_one_line_error(run, "one-kit", "at least two kits", "found 1 kit (kitA)")
    assert not (tmp_path / "f").exists()


def test_data_nsynth_holds_its_folder_and_leaves_no_notes_when_terminated(tmp_path):
    from audiogen.data.soundfonts import fluidsynth_available, small_soundfont

    if not fluidsynth_available()[0] or small_soundfont() is None:
        pytest.skip("FluidSynth or a SoundFont is missing")
    out = tmp_path / "ns"
    argv = CLI + ["data", "nsynth", "--out", str(out), "--soundfont", str(small_soundfont()), "--jobs", "1", "-q"]
    first = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not ((out / "audio").is_dir() and any((out / "audio").iterdir())):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        second = run_cli(["data", "nsynth", "--out", str(out), "--soundfont", str(small_soundfont()), "--programs", "0",
                          "--pitches", "60-60"], dict(os.environ), tmp_path)
        assert_one_line_error(second, str(out), f"another audiogen run (pid {first.pid})")
    finally:
        first.terminate()
        first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == 143
    assert not out.exists()  # the folder it made, and every note it wrote, are gone


def test_a_refused_writer_never_removes_the_folder_of_the_run_holding_it(tmp_path, monkeypatch):
    """Two runs start on one new --out: the one refused the lock leaves the winner's folder alone."""
    import audiogen.runtime.training as training
    from audiogen.runtime.locks import LockRefused

    out = tmp_path / "new" / "run"

    def holder_got_there_first(folder, *args, **kwargs):
        (Path(folder) / "work.txt").write_text("the holder's\n")
        raise LockRefused(f"{folder}: another audiogen run (pid 1) is training into it")

    monkeypatch.setattr(training, "hold_folder", holder_got_there_first)
    model = torch.nn.Linear(2, 1)
    with pytest.raises(LockRefused):
        training.TrainingRun(out, kind="toy", config={}, modules={"model": model},
                             optimizers={"opt": torch.optim.SGD(model.parameters(), lr=0.1)}, total_steps=1,
                             checkpoint_every=0, quiet=True)
    assert (out / "work.txt").read_text() == "the holder's\n"


def test_folder_locks_count_their_holds_and_say_what_the_holder_does(tmp_path):
    from audiogen.runtime.locks import hold_folder, release_folder

    hold_folder(tmp_path, "training into it")
    hold_folder(tmp_path, "writing outputs into it")  # the same process: another hold
    release_folder(tmp_path)
    assert (tmp_path / ".audiogen.lock").read_text().split(" ", 1) == [str(os.getpid()), "training into it\n"]
    probe = subprocess.run([sys.executable, "-c", "import sys; from audiogen.runtime.locks import hold_folder; "
                            "hold_folder(sys.argv[1], 'sampling')", str(tmp_path)], capture_output=True, text=True)
    assert probe.returncode != 0 and f"pid {os.getpid()}) is training into it" in probe.stderr
    release_folder(tmp_path)
    assert listing(tmp_path) == []
