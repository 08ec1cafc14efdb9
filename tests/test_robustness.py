"""Robustness at the shared depth (issue 15): every writing command on an unwritable and a full
destination, SIGTERM then --resume for every trainer, concurrent `index` runs, and the value,
data and output checks the runtime and CLI helpers make for every command.

Destinations are small tmpfs mounts (read-only, full, nearly full); they need root, which CI has,
and the tests that use them are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from clitools import CLI, TIMEOUT_S, Run, assert_one_line_error, listing, run_cli, run_cli_many, run_in_one_process
from synth_notes import tone, write_set

sf = pytest.importorskip("soundfile")

TUNE = "X:{n}\nT:Tune {n}\nM:4/4\nL:1/8\nK:{key}\n{body}|\n"
KEYS = ("C", "G", "D", "A", "F")


def _tunes_text(count: int = 24) -> str:
    rng = np.random.default_rng(0)
    notes = "CDEFGABcdefg"
    tunes = []
    for n in range(1, count + 1):
        bars = ["".join(notes[i] for i in rng.integers(0, len(notes), 8)) for _ in range(8)]
        tunes.append(TUNE.format(n=n, key=KEYS[n % len(KEYS)], body="|".join(bars)))
    return "\n".join(tunes)


def _melody_midi(path: Path, first: int) -> Path:
    from audiogen.data.soundfonts import import_pretty_midi

    pretty_midi = import_pretty_midi()
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=90, pitch=first + i % 12, start=i * 0.25, end=(i + 1) * 0.25)
                   for i in range(32)]
    pm.instruments.append(piano)
    pm.write(str(path))
    return path


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, _shared_tool_caches) -> dict[str, str]:
    home = tmp_path_factory.mktemp("robust-home")
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_DATA_HOME=str(home / ".local/share"), CI="1", OMP_NUM_THREADS="1")
    env.update(_shared_tool_caches)
    env.pop("AUDIOGEN_SOUNDFONT", None)
    return env


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("robust-inputs")
    t = np.arange(16000) / 16000
    sf.write(root / "note.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    sf.write(root / "note4s.wav", tone(60), 16000)
    (root / "tunes.abc").write_text(_tunes_text())
    _melody_midi(root / "a.mid", 60)
    _melody_midi(root / "b.mid", 67)
    wavs = root / "library"
    for kind, pitches in (("kick", (36, 38, 40)), ("hat", (80, 82, 84))):
        (wavs / kind).mkdir(parents=True)
        for i, p in enumerate(pitches):
            wave = tone(p, harmonics=2 if kind == "kick" else 12, decay=0.1 + 0.05 * i)[:16000]
            sf.write(wavs / kind / f"{kind}{i}.wav", wave, 16000)
    notes = [(f"keyboard_acoustic_{i % 2:03d}", 0, 40 + 2 * i) for i in range(12)]
    write_set(root / "nsynth", notes)
    return {"root": root, "note": root / "note.wav", "note4s": root / "note4s.wav", "tunes": root / "tunes.abc",
            "a_mid": root / "a.mid", "b_mid": root / "b.mid", "library": wavs, "nsynth": root / "nsynth"}


@pytest.fixture(scope="module")
def index(inputs, cli_env) -> Path:
    """An index of the library (bundled SampleVAE)."""
    path = inputs["root"] / "index"
    run = run_cli(["index", inputs["library"], "--index", path, "--device", "cpu", "-q"], cli_env, inputs["root"])
    assert run.code == 0, run
    return path


# ---------- small filesystems -------------------------------------------------------------------

def _mount(point: Path, size: str, *options: str) -> bool:
    point.mkdir(parents=True, exist_ok=True)
    opts = ",".join((f"size={size}",) + options)
    try:
        return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)],
                              capture_output=True).returncode == 0
    except OSError:  # no mount(8) here
        return False


def _fill(point: Path, leave_bytes: int) -> None:
    """Fill a mounted tmpfs until about `leave_bytes` are free."""
    free = shutil.disk_usage(point).free
    with open(point / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))


@pytest.fixture(scope="module")
def small_disks(tmp_path_factory):
    """{"readonly", "full"} mount points; skipped where tmpfs cannot be mounted (not root)."""
    root = tmp_path_factory.mktemp("disks")
    points = {"readonly": root / "readonly", "full": root / "full"}
    if not _mount(points["readonly"], "1m", "ro"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    _mount(points["full"], "256k")
    _fill(points["full"], 0)
    yield points
    for point in points.values():
        subprocess.run(["umount", str(point)], capture_output=True)


@pytest.fixture
def nearly_full(tmp_path):
    point = tmp_path / "nearly-full"
    if not _mount(point, "16m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield point
    subprocess.run(["umount", str(point)], capture_output=True)


def _writers(i: dict[str, Path], dest: Path, ok: Path) -> dict[str, list]:
    """Every command that writes, with its destination in `dest` (`ok`: a writable folder for a
    command's other outputs, which must not be left behind either)."""
    return {
        "spec": ["spec", i["note"], "--out", dest / "x.png"],
        "resynth": ["resynth", i["note"], "--out", dest / "sub" / "x.wav"],
        "map": ["map", "--index", i["root"] / "index", "--out", dest / "m.png"],
        "map-html": ["map", "--index", i["root"] / "index", "--out", ok / "m.png", "--html", dest / "m.html"],
        "sample-abc": ["sample", "abc", "-n", "2", "--out", dest / "t.abc"],
        "sample-musicvae": ["sample", "musicvae", "-n", "2", "--out-dir", dest / "mv"],
        "sample-samplevae": ["sample", "samplevae", "-n", "2", "--out-dir", dest / "sv"],
        "sample-gansynth": ["sample", "gansynth", "--pitch", "60", "-n", "1", "--out-dir", dest / "gs"],
        "interpolate-samplevae": ["interpolate", "samplevae", i["note"], i["note"], "--steps", "2",
                                  "--out-dir", dest / "is"],
        "interpolate-musicvae": ["interpolate", "musicvae", i["a_mid"], i["b_mid"], "--out-dir", dest / "im"],
        "interpolate-gansynth": ["interpolate", "gansynth", "--pitch", "60", "--steps", "2", "--out-dir", dest / "ig"],
        "render-abc": ["render", "abc", i["tunes"], "--out-dir", dest / "ra"],
        "render-gansynth": ["render", "gansynth", i["a_mid"], "--out", dest / "r.wav"],
        "encode-gansynth": ["encode", "gansynth", i["note4s"], "--pitch", "60", "--steps", "1", "--out", dest / "z.npy"],
        "encode-gansynth-resynth": ["encode", "gansynth", i["note4s"], "--pitch", "60", "--steps", "1",
                                    "--out", ok / "z.npy", "--resynth", dest / "z.wav"],
        "data-abc": ["data", "abc", "--data", i["tunes"], "--out", dest / "c.abc"],
        "data-melodies": ["data", "melodies", "--data", i["tunes"], "--out", dest / "w.npz"],
        "data-nsynth": ["data", "nsynth", "--out", dest / "ns", "--programs", "0", "--pitches", "60-60"],
        "data-drums": ["data", "drums", "--out", dest / "dr"],
        "data-pairs": ["data", "pairs", "--melodies", i["tunes"], "--limit", "2", "--out", dest / "pp"],
        "index": ["index", i["library"], "--index", dest / "ix"],
        "train-abc": ["train", "abc", "--data", i["tunes"], "--out", dest / "run"],
        "train-musicvae": ["train", "musicvae", "--data", i["tunes"], "--out", dest / "run"],
        "train-samplevae": ["train", "samplevae", "--data", i["library"], "--out", dest / "run"],
        "train-gansynth": ["train", "gansynth", "--data", i["nsynth"], "--out", dest / "run"],
        "train-pitch-classifier": ["train", "pitch-classifier", "--data", i["nsynth"], "--out", dest / "run"],
        "eval-abc-keep-samples": ["eval", "abc", "--data", i["tunes"], "-n", "2", "--keep-samples", dest / "k.abc"],
        "eval-samplevae-folds": ["eval", "samplevae", "--data", i["library"], "--leave-one-kit-out",
                                 "--out", dest / "folds"],
    }


@pytest.fixture(scope="module")
def destination_runs(inputs, index, small_disks, cli_env, tmp_path_factory):
    ok = tmp_path_factory.mktemp("writable")
    cases, meta = {}, {}
    for kind, point in small_disks.items():
        for name, argv in _writers(inputs, point, ok / kind).items():
            cases[f"{name}@{kind}"] = argv
            meta[f"{name}@{kind}"] = (point, ok / kind)
    listings = {k: sorted(os.listdir(p)) for k, p in small_disks.items()}
    runs = run_in_one_process(cases, cli_env, inputs["root"], tmp_path_factory.mktemp("driver"))
    return runs, meta, listings, small_disks


WRITERS = list(_writers({k: Path(k) for k in ("note", "note4s", "tunes", "a_mid", "b_mid", "library", "nsynth",
                                               "root")}, Path("d"), Path("o")))


@pytest.mark.parametrize("kind", ["readonly", "full"])
@pytest.mark.parametrize("name", WRITERS)
def test_unwritable_and_full_destinations_are_one_line_exit_2_with_nothing_left(name, kind, destination_runs):
    runs, meta, listings, disks = destination_runs
    run = runs[f"{name}@{kind}"]
    point, ok = meta[f"{name}@{kind}"]
    cause = "Read-only file system" if kind == "readonly" else "No space left on device"
    assert_one_line_error(run, str(point), cause)
    assert sorted(os.listdir(disks[kind])) == listings[kind], run  # nothing half-written, no temp file
    assert not ok.exists() or not any(ok.iterdir()), run  # the command's other outputs: none either


def test_output_that_fills_the_disk_midway_leaves_nothing(inputs, nearly_full, cli_env):
    _fill(nearly_full, 64 * 1024)  # the probe passes; a 4 s WAV (128 kB) does not fit
    before = sorted(os.listdir(nearly_full))
    run = run_cli(["resynth", inputs["note4s"], "--out", nearly_full / "x.wav"], cli_env, inputs["root"])
    assert_one_line_error(run, str(nearly_full / "x.wav"), "No space left on device")
    assert sorted(os.listdir(nearly_full)) == before


def test_checkpoint_on_a_full_disk_keeps_the_old_one_and_resume_works_once_freed(inputs, nearly_full, cli_env):
    from audiogen.runtime.checkpoint import load_checkpoint

    run_dir = nearly_full / "run"
    base = ["train", "abc", "--data", inputs["tunes"], "--out", run_dir, "--config", "small", "--device", "cpu", "-q"]
    first = run_cli(base + ["--steps", "2"], cli_env, inputs["root"])
    assert first.code == 0, first
    saved = (run_dir / "checkpoint.pt").read_bytes()
    _fill(nearly_full, 64 * 1024)
    full = run_cli(base + ["--steps", "4", "--resume"], cli_env, inputs["root"])
    assert_one_line_error(full, str(run_dir), "No space left on device")
    assert (run_dir / "checkpoint.pt").read_bytes() == saved and load_checkpoint(run_dir / "checkpoint.pt")["step"] == 2
    assert not [p for p in run_dir.iterdir() if ".tmp-" in p.name]
    (nearly_full / "filler").unlink()
    again = run_cli(base + ["--steps", "4", "--resume"], cli_env, inputs["root"])
    assert again.code == 0, again
    assert load_checkpoint(run_dir / "checkpoint.pt")["step"] == 4


# ---------- SIGTERM, then --resume, for every trainer ------------------------------------------------

def _trainers(i: dict[str, Path]) -> dict[str, tuple[list, list]]:
    """trainer -> (argv, what a resume must not change: options that would be refused)."""
    return {
        "abc": (["train", "abc", "--data", i["tunes"], "--config", "small"], ["--config", "default"]),
        "musicvae": (["train", "musicvae", "--data", i["tunes"], "--config", "tiny"], ["--config", "2bar"]),
        "samplevae": (["train", "samplevae", "--data", i["library"], "--config", "tiny"], ["--config", "default"]),
        "gansynth": (["train", "gansynth", "--data", i["nsynth"], "--config", "small", "--images-per-stage", "16",
                      "--batch-size", "8", "--snapshot-every", "0", "--cache-dir", i["root"] / "cache-gansynth"],
                     ["--filter", "pitch=40-50"]),
        "pitch-classifier": (["train", "pitch-classifier", "--data", i["nsynth"], "--val-data", i["nsynth"],
                              "--cache-dir", i["root"] / "cache-classifier"], ["--lr", "0.5"]),
    }


def _sigterm_then_resume(name: str, argv: list, refused: list, out: Path, env: dict, cwd: Path) -> dict:
    """Start a long run, SIGTERM it after its first checkpoint, resume it two steps further."""
    from audiogen.runtime.checkpoint import load_checkpoint

    args = [str(a) for a in argv + ["--out", out, "--checkpoint-every", "1", "--device", "cpu", "-q"]]
    proc = subprocess.Popen(CLI + args + ["--steps", "100000"], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT_S
    while not (out / "checkpoint.pt").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{name}: no checkpoint before SIGTERM:\n{proc.communicate()[1]}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    result = {"code": proc.returncode, "stderr": stderr, "files": sorted(p.name for p in out.iterdir())}
    step = load_checkpoint(out / "checkpoint.pt")["step"]
    result["step"] = step
    if refused:
        result["refused"] = run_cli(args + ["--steps", str(step + 2), "--resume"] + refused, env, cwd)
    result["resumed"] = run_cli(args + ["--steps", str(step + 2), "--resume"], env, cwd)
    result["final_step"] = load_checkpoint(out / "checkpoint.pt")["step"]
    return result


@pytest.fixture(scope="module")
def sigterm_runs(inputs, cli_env, tmp_path_factory) -> dict[str, dict]:
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("sigterm")
    trainers = _trainers(inputs)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_sigterm_then_resume, name, argv, refused, root / name, cli_env, inputs["root"])
                   for name, (argv, refused) in trainers.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("trainer", ["abc", "musicvae", "samplevae", "gansynth", "pitch-classifier"])
def test_sigterm_checkpoints_exports_and_resumes(trainer, sigterm_runs):
    r = sigterm_runs[trainer]
    assert r["code"] == 143, r["stderr"]
    line = [ln for ln in r["stderr"].splitlines() if ln.startswith("audiogen: error:")]
    assert line and f"terminated at step {r['step']}" in line[-1] and "model" in line[-1], r["stderr"]
    assert {"checkpoint.pt", "model.safetensors", "config.json"} <= set(r["files"])
    assert not [f for f in r["files"] if ".tmp-" in f]
    assert r["resumed"].code == 0, r["resumed"]
    assert r["final_step"] == r["step"] + 2
    if "refused" in r:
        assert_one_line_error(r["refused"], "--resume continues the run as it was configured")


# ---------- one writer per index ----------------------------------------------------------------

def test_a_second_index_run_is_refused_while_one_holds_the_index(inputs, index, cli_env, tmp_path):
    from audiogen.runtime.locks import exclusive_lock

    existing = tmp_path / "existing"
    shutil.copytree(index, existing)
    before = {p.name: p.read_bytes() for p in existing.iterdir()}
    fresh = tmp_path / "fresh"
    with exclusive_lock(existing, "updating this index"), exclusive_lock(fresh, "updating this index"):
        runs = [run_cli(["index", inputs["library"], "--index", path, "--device", "cpu"], cli_env, inputs["root"])
                for path in (existing, fresh)]
    for run, path in zip(runs, (existing, fresh)):
        assert_one_line_error(run, str(path), f"another audiogen run (pid {os.getpid()}) is updating this index")
    assert not fresh.exists()
    assert {p.name: p.read_bytes() for p in existing.iterdir()} == before
    after = run_cli(["index", inputs["library"], "--index", fresh, "--device", "cpu", "-q"], cli_env, inputs["root"])
    assert after.code == 0, after  # the lock went with its holder


def test_two_real_index_runs_at_once_leave_one_whole_index(inputs, cli_env, tmp_path):
    path = tmp_path / "ix"
    args = [str(a) for a in ["index", inputs["library"], "--index", path, "--device", "cpu", "-q"]]
    procs = [subprocess.Popen(CLI + args, env=cli_env, cwd=inputs["root"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=TIMEOUT_S), p.communicate()[1]) for p in procs]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 2]), results
    for code, err in results:
        if code == 2:
            assert "another audiogen run" in err and err.count("\n") == 1, err
    check = run_cli(["similar", inputs["library"] / "kick" / "kick0.wav", "--index", path, "--json"], cli_env,
                    inputs["root"])
    assert check.code == 0, check
    assert check.json()["library_size"] == 6


# ---------- bad values, bad data, and outputs a user can trust: one process for all ----------------

@pytest.fixture(scope="module")
def checks(inputs, index, cli_env, tmp_path_factory) -> dict[str, tuple[Run, Path]]:
    d = tmp_path_factory.mktemp("checks")
    nan_windows = d / "nan.npz"
    from audiogen.data.melody import SEGMENT_STEPS

    events = np.full((3, 2 * SEGMENT_STEPS), np.nan)
    np.savez(nan_windows, events=events, source=np.zeros(3, np.int64), sources=np.array(["x"]), bars=np.array(2))
    one = d / "one-sound"
    (one / "kick").mkdir(parents=True)
    shutil.copy(inputs["library"] / "kick" / "kick0.wav", one / "kick" / "kick0.wav")
    failing_tunes = d / "failing.abc"
    failing_tunes.write_text("X:1\nT:empty\nM:4/4\nK:C\n|]\n\n" + TUNE.format(n=2, key="C", body="CDEF GABc"))
    fifo = d / "pipe.wav"
    os.mkfifo(fifo)
    pickled = d / "z.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    long_wav = d / "six-minutes.wav"
    sf.write(long_wav, np.zeros(16000 * 360, np.int16), 16000, subtype="PCM_16")
    stale = d / "stale"
    cases = {
        "set-latent-negative": ["train", "musicvae", "--data", inputs["tunes"], "--out", d / "r1", "--set", "latent=-1"],
        "set-lr-nan": ["train", "musicvae", "--data", inputs["tunes"], "--out", d / "r2", "--set", "lr=nan"],
        "set-latent-zero": ["train", "musicvae", "--data", inputs["tunes"], "--out", d / "r3", "--set", "latent=0"],
        "set-dropout-2": ["train", "musicvae", "--data", inputs["tunes"], "--out", d / "r4", "--set", "dropout=2"],
        "weights-nan": ["sample", "samplevae", "--from", inputs["note"], "--from", inputs["note"], "--weights",
                        "nan,1", "--out", d / "mix.wav"],
        "weights-inf": ["sample", "samplevae", "--from", inputs["note"], "--from", inputs["note"], "--weights",
                        "inf,1", "--out", d / "mix2.wav"],
        "glide-too-short": ["render", "gansynth", inputs["a_mid"], "--interpolate-every", "0.0001s",
                            "--out", d / "g.wav"],
        "eval-nan-windows": ["eval", "musicvae", "--data", nan_windows],
        "train-nan-windows": ["train", "musicvae", "--data", nan_windows, "--out", d / "r5", "--config", "tiny"],
        "similar-abc-model": ["similar", inputs["note"], "--index", index, "--model",
                              Path(__file__).resolve().parents[1] / "assets" / "models" / "abc.safetensors"],
        "render-abc-strict": ["render", "abc", failing_tunes, "--out-dir", d / "strict", "--strict"],
        "classify-fifo": ["classify", fifo],
        "huge-batch": ["train", "samplevae", "--data", inputs["library"], "--config", "tiny", "--steps", "1",
                       "--batch-size", "100000000", "--out", d / "huge", "--device", "cpu", "-q"],
        "pickled-latent": ["interpolate", "gansynth", "--pitch", "60", "--steps", "2", "--from-latent", pickled,
                           "--out-dir", d / "pk"],
        "long-spec": ["spec", long_wav, "--out", d / "long.png"],
        "long-resynth": ["resynth", long_wav, "--out", d / "long.wav"],
        "usage-range": ["sample", "abc", "-n", "0", "--out", d / "n0.abc"],
        "usage-missing": ["train", "abc", "--out", d / "r6"],
        "threads-zero": ["--threads", "0", "info"],
        "index-one": ["index", one, "--index", d / "one-index", "--device", "cpu", "-q"],
        "map-one": ["map", "--index", d / "one-index", "--out", d / "one.png"],
        "stale-first": ["sample", "musicvae", "-n", "5", "--out-dir", stale, "--rng-seed", "1"],
        "stale-second": ["sample", "musicvae", "-n", "2", "--out-dir", stale, "--rng-seed", "2"],
        "eval-musicvae-table": ["eval", "musicvae", "--data", inputs["tunes"], "--device", "cpu"],
        "no-arguments": [],
    }
    (stale / "mine.txt").parent.mkdir(parents=True)
    (stale / "mine.txt").write_text("the user's own file\n")
    runs = run_in_one_process(cases, cli_env, inputs["root"], d)
    return {k: (r, d) for k, r in runs.items()}


@pytest.mark.parametrize("case, words", [
    ("set-latent-negative", ["--set latent=-1: must be at least 1"]),
    ("set-lr-nan", ["--set lr=nan: must be a finite number"]),
    ("set-latent-zero", ["--set latent=0: must be at least 1"]),
    ("set-dropout-2", ["--set dropout=2.0: must be less than 1"]),
    ("weights-nan", ["--weights", "finite"]),
    ("weights-inf", ["--weights", "finite"]),
    ("glide-too-short", ["--interpolate-every 0.0001s: must be at least 50ms"]),
    ("eval-nan-windows", ["nan.npz", "NaN"]),
    ("train-nan-windows", ["nan.npz", "NaN"]),
    ("similar-abc-model", ["abc.safetensors"]),
    ("render-abc-strict", ["failing.abc", "no body", "--strict"]),
    ("classify-fifo", ["pipe.wav", "not a regular file"]),
    ("huge-batch", ["does not fit in memory"]),
    ("pickled-latent", ["z.npy", "not a file audiogen wrote"]),
    ("long-spec", ["six-minutes.wav", "6:00 of audio", "at most 5:00"]),
    ("long-resynth", ["six-minutes.wav", "6:00 of audio"]),
    ("usage-range", ["-n", "(see `audiogen sample abc --help`)"]),
    ("usage-missing", ["missing option --data", "(see `audiogen train abc --help`)"]),
    ("threads-zero", ["--threads 0: must be at least 1"]),
])
def test_bad_values_and_data_are_one_line_exit_2(case, words, checks):
    run, _ = checks[case]
    assert_one_line_error(run, *words)
    assert "weights_only" not in run.stderr and "allow_pickle" not in run.stderr and "unsafe" not in run.stderr


def test_no_output_of_a_refused_command_is_left(checks):
    _, d = checks["render-abc-strict"]
    assert not (d / "strict").exists() or not [p for p in (d / "strict").iterdir() if p.suffix == ".mid"]
    for name in ("r1", "r2", "r3", "r4", "mix.wav", "mix2.wav", "g.wav", "long.png", "long.wav", "pk"):
        target = d / name
        assert not target.exists() or (target.is_dir() and not any(target.iterdir())), name


def test_map_of_a_one_sound_index(checks):
    assert checks["index-one"][0].code == 0, checks["index-one"][0]
    run, d = checks["map-one"]
    assert run.code == 0, run
    assert (d / "one.png").read_bytes()[:4] == b"\x89PNG"


def test_a_second_run_into_a_folder_replaces_its_own_earlier_set(checks):
    first, d = checks["stale-first"]
    second, _ = checks["stale-second"]
    assert first.code == 0 and second.code == 0, (first, second)
    names = sorted(p.name for p in (d / "stale").iterdir() if not p.name.startswith("."))
    assert names == ["mine.txt", "sample-000.mid", "sample-001.mid"]  # the user's file kept, 3 stale MIDI gone


def test_eval_tables_go_to_stdout(checks):
    run, _ = checks["eval-musicvae-table"]
    assert run.code == 0, run
    rows = [line for line in run.stdout.splitlines() if "teacher-forced" in line]
    assert len(rows) >= 3, run  # the summary line and per-class rows
    assert "teacher-forced" not in run.stderr


# ---------- the runtime pieces, in process -------------------------------------------------------

def test_symlink_loops_are_followed_once(tmp_path):
    from audiogen.data.audio_folders import list_audio_files

    (tmp_path / "lib" / "a").mkdir(parents=True)
    sf.write(tmp_path / "lib" / "a" / "x.wav", np.zeros(100, np.float32), 16000)
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "a" / "loop")
    os.symlink(tmp_path / "lib" / "a" / "x.wav", tmp_path / "lib" / "a" / "same.wav")
    assert [p.name for p in list_audio_files(tmp_path / "lib")] == ["same.wav"]


def test_similar_leaves_out_files_deleted_since_indexing(inputs, index, cli_env, tmp_path):
    library = tmp_path / "library"
    shutil.copytree(inputs["library"], library)
    ix = tmp_path / "ix"
    assert run_cli(["index", library, "--index", ix, "--device", "cpu", "-q"], cli_env, tmp_path).code == 0
    (library / "kick" / "kick1.wav").unlink()
    (library / "kick" / "kick2.wav").unlink()
    run = run_cli(["similar", library / "kick" / "kick0.wav", "--index", ix, "-k", "3", "--json"], cli_env, tmp_path)
    assert run.code == 0, run
    result = run.json()
    assert result["missing_files_skipped"] == 2 and len(result["results"]) == 3
    assert all(Path(r["path"]).exists() for r in result["results"])
    assert "2 indexed files are gone" in run.stderr and "audiogen index" in run.stderr


def test_nan_notes_and_impossible_pitches_are_skipped_and_counted(tmp_path):
    from audiogen.data.nsynth_cache import build_cache
    from audiogen.data.skips import SkipLog

    root = write_set(tmp_path / "set", [("keyboard_acoustic_000", 0, 40 + i) for i in range(4)])
    first = sorted((root / "audio").iterdir())[0]
    wave = tone(40)
    wave[1000] = np.nan
    sf.write(first, wave, 16000, subtype="FLOAT")
    examples = json.loads((root / "examples.json").read_text())
    examples[sorted(examples)[1]]["pitch"] = 500
    (root / "examples.json").write_text(json.dumps(examples))
    skips = SkipLog()
    cache, _ = build_cache(root, cache_root=tmp_path / "cache", skips=skips)
    problems = " ".join(problem for _, problem in skips.skipped)
    assert len(skips) == 2 and "NaN" in problems and "pitch 500" in problems, skips.skipped
    assert len(cache) == 2


def test_refused_pickles_never_suggest_loading_unsafely(tmp_path):
    from audiogen.errors import BadInputError
    from audiogen.runtime.checkpoint import load_checkpoint

    path = tmp_path / "checkpoint.pt"
    torch.save({"step": 1, "thing": Path("x")}, path)  # a Python object the safe loader refuses
    with pytest.raises(BadInputError) as info:
        load_checkpoint(path)
    assert "not a file audiogen wrote" in str(info.value) and "weights_only" not in str(info.value)


def test_numpy_values_in_optimizer_state_make_a_loadable_checkpoint(tmp_path):
    from audiogen.runtime.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path / "c.pt", {"lr": np.float64(0.5), "groups": [{"lr": np.float32(1e-3)}],
                                        "array": np.arange(3)})
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["lr"] == 0.5 and isinstance(state["groups"][0]["lr"], float)
    assert torch.equal(state["array"], torch.arange(3))


def test_a_diverging_run_stops_at_the_first_non_finite_loss_and_keeps_the_last_good_checkpoint(tmp_path):
    from audiogen.runtime.checkpoint import load_checkpoint
    from audiogen.runtime.training import TrainingDiverged, TrainingRun

    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = TrainingRun(tmp_path / "run", kind="toy", config={"lr": 0.1}, modules={"model": model},
                      optimizers={"opt": opt}, total_steps=50, checkpoint_every=1, quiet=True)
    x = torch.ones(4, 2)
    with pytest.raises(TrainingDiverged) as info:
        for step in run.steps():
            loss = (model(x) ** 2).mean() * (float("nan") if step == 3 else 1.0)  # the 4th step goes NaN
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.log(step + 1, loss=loss.item())
    kept = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert kept["step"] == 3
    assert "training diverged at step 4 (loss is nan)" in str(info.value)
    assert "(step 3) is the last good state" in str(info.value)
    assert all(torch.isfinite(t).all() for t in kept["modules"]["model"].values())


def test_threads_option_is_taken_anywhere_and_the_default_leaves_busy_cores_alone(monkeypatch):
    from audiogen.runtime import threads

    assert threads.take_threads_option(["train", "abc", "--threads", "3", "--steps", "2"]) == \
        (["train", "abc", "--steps", "2"], "3")
    assert threads.take_threads_option(["--threads=1", "info"]) == (["info"], "1")
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.6, 0.0, 0.0))
    assert threads.default_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert threads.default_threads() == 4
    monkeypatch.setenv("AUDIOGEN_THREADS", "2")
    assert threads.choose_threads(None) == (2, "$AUDIOGEN_THREADS")
    assert threads.choose_threads("5") == (5, "--threads")


def test_meters_of_equal_length_are_told_apart_by_the_training_corpus():
    from audiogen.data.melody import PAD, SEGMENT_STEPS
    from audiogen.musicvae.output import preferred_meters, time_signature

    events = np.full(2 * SEGMENT_STEPS, 2)
    events[12:16] = PAD
    events[SEGMENT_STEPS + 12:] = PAD
    assert time_signature(events) == (3, 4)
    jigs = preferred_meters({"6/8": 20925, "2/2": 14972, "4/4": 9921, "3/4": 5716})
    assert jigs == {12: "6/8", 16: "4/4"}
    assert time_signature(events, preferred=jigs) == (6, 8)
    assert time_signature(events, "3/4", jigs) == (3, 4)  # an explicit --meter (or the input's) wins


def _soundfont(path: Path, banks: list[int]) -> Path:
    """A SoundFont holding only preset headers (enough for the bank probe)."""
    import struct

    records = b"".join(struct.pack("<20sHHHIII", b"p%d" % i, 0, bank, 0, 0, 0, 0) for i, bank in enumerate(banks))
    records += struct.pack("<20sHHHIII", b"EOP", 0, 0, 0, 0, 0, 0)
    phdr = b"phdr" + struct.pack("<I", len(records)) + records
    pdta = b"LIST" + struct.pack("<I", 4 + len(phdr)) + b"pdta" + phdr
    info = b"LIST" + struct.pack("<I", 4) + b"INFO"
    body = b"sfbk" + info + pdta
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_soundfonts_without_a_drum_kit_are_probed_not_rendered(tmp_path):
    from audiogen.data.soundfonts import has_drum_kit, soundfont_banks

    assert soundfont_banks(_soundfont(tmp_path / "melodic.sf2", [0, 8])) == {0, 8}
    assert not has_drum_kit(tmp_path / "melodic.sf2")
    assert has_drum_kit(_soundfont(tmp_path / "gm.sf2", [0, 128]))
    (tmp_path / "junk.sf2").write_bytes(b"not a soundfont")
    assert soundfont_banks(tmp_path / "junk.sf2") is None


def test_what_counts_as_an_abc_seed():  # anything else gets a warning from `sample abc`
    from audiogen.abc.generate import looks_like_abc

    assert looks_like_abc("X:1") and looks_like_abc("M:6/8\nK:D\n") and looks_like_abc("DEF|")
    assert not looks_like_abc("7") and not looks_like_abc("hello")


def test_training_far_from_the_bundled_figure_says_so(capsys):
    from audiogen.cli.output import compare_with_bundled

    compare_with_bundled(3.91, 1.60, what="held-out bits/char", higher_is_better=False, margin=0.5, hint="train longer")
    assert "3.910 is far from the bundled model's 1.600; train longer" in capsys.readouterr().err
    compare_with_bundled(1.70, 1.60, what="held-out bits/char", higher_is_better=False, margin=0.5, hint="x")
    assert capsys.readouterr().err == ""


def test_a_quiet_drum_layer_over_dither_is_trimmed_like_a_loud_one():
    from audiogen.data.drums import trim_tail

    rate = 16000
    t = np.arange(4 * rate) / rate
    hit = np.sin(2 * np.pi * 200 * t) * np.exp(-t / 0.05)
    rng = np.random.default_rng(0)
    dither = (rng.random(t.size) - rng.random(t.size)) / 32768  # TPDF dither of a 16-bit file
    for peak_db in (-1.0, -34.0):
        wave = (10 ** (peak_db / 20) * hit + dither).astype(np.float32)[None]
        assert trim_tail(wave, rate).shape[1] < rate // 2, peak_db  # 4 s of near-silence cut to < 0.5 s


def test_resuming_on_other_data_says_what_happens(tmp_path, capfd):
    from audiogen.runtime.training import TrainingRun

    def run(resume: bool) -> TrainingRun:
        model = torch.nn.Linear(2, 1)
        return TrainingRun(tmp_path / "run", kind="toy", config={}, modules={"model": model},
                           optimizers={"opt": torch.optim.SGD(model.parameters(), lr=0.1)}, total_steps=2,
                           checkpoint_every=1, resume=resume, quiet=True)

    first = run(False)
    first.use_data([tmp_path / "a"])
    first.save_checkpoint()
    capfd.readouterr()
    again = run(True)
    again.use_data([tmp_path / "a"])
    assert "warning" not in capfd.readouterr().err
    other = run(True)
    other.use_data([tmp_path / "b"])
    err = " ".join(capfd.readouterr().err.split())
    assert f"was trained on {tmp_path / 'a'}; the steps left train on {tmp_path / 'b'}" in err


def test_no_arguments_print_the_help_once(checks):
    run, _ = checks["no-arguments"]
    assert run.code == 0 and run.stdout.count("Usage:") == 1, run


def test_a_failed_run_leaves_the_earlier_set_and_other_commands_files_alone(tmp_path):
    from audiogen.runtime.output_sets import output_set

    def write(command: str, names: list[str], fail_after: int | None = None, force: bool = False) -> None:
        with output_set(tmp_path, command, force=force) as outputs:
            for i, name in enumerate(names):
                if i == fail_after:
                    raise RuntimeError("the model broke")
                outputs.stage(tmp_path / name).write_text(f"{command} {name}\n")

    def listing() -> dict[str, str]:
        return {p.name: p.read_text() for p in tmp_path.iterdir() if not p.name.startswith(".")}

    write("interpolate samplevae", ["step-00.wav", "step-01.wav", "step-02.wav"])
    before = listing()
    with pytest.raises(RuntimeError):
        write("interpolate samplevae", ["step-00.wav", "step-01.wav"], fail_after=1)
    assert listing() == before  # nothing replaced, nothing removed, no temp file left
    assert sorted(p.name for p in tmp_path.iterdir()) == [".audiogen-outputs.json", *sorted(before)]
    from audiogen.errors import AudiogenError

    with pytest.raises(AudiogenError, match="step-00.wav: already exists, written by `interpolate samplevae`"):
        write("interpolate gansynth", ["step-00.wav"])  # another command's file: refused without force
    assert listing() == before and ".audiogen.lock" not in {p.name for p in tmp_path.iterdir()}
    write("interpolate gansynth", ["step-00.wav"], force=True)  # with force it takes over one name
    write("interpolate samplevae", ["step-01.wav"])  # its rerun: its own stale step-02 goes, not step-00
    assert listing() == {"step-00.wav": "interpolate gansynth step-00.wav\n",
                         "step-01.wav": "interpolate samplevae step-01.wav\n"}


# ---------- one loudness rule -------------------------------------------------------------------

def _listening_writers(i: dict[str, Path], out: Path) -> dict[str, tuple[list, str]]:
    """Every command that writes audio to be listened to -> (argv, a glob of its audio files)."""
    return {
        "resynth": (["resynth", i["note"], "--out", out / "resynth.wav"], "resynth.wav"),
        "sample-samplevae": (["sample", "samplevae", "-n", "2", "--out-dir", out / "sv"], "sv/*.wav"),
        "interpolate-samplevae": (["interpolate", "samplevae", i["note"], i["note4s"], "--steps", "3",
                                   "--out-dir", out / "is"], "is/*.wav"),
        "sample-gansynth": (["sample", "gansynth", "--pitches", "58-60", "--out-dir", out / "gs"], "gs/*.wav"),
        "interpolate-gansynth": (["interpolate", "gansynth", "--pitch", "60", "--steps", "2",
                                  "--out-dir", out / "ig"], "ig/*.wav"),
        "render-gansynth": (["render", "gansynth", i["a_mid"], "--out", out / "rg.wav"], "rg.wav"),
        "encode-gansynth-resynth": (["encode", "gansynth", i["note4s"], "--pitch", "60", "--steps", "1",
                                     "--out", out / "z.npy", "--resynth", out / "z.wav"], "z.wav"),
        "render-abc": (["render", "abc", i["tunes"], "--out-dir", out / "ra", "--wav"], "ra/*.wav"),
        "sample-musicvae": (["sample", "musicvae", "-n", "2", "--out-dir", out / "mv", "--wav"], "mv/*.wav"),
        "interpolate-musicvae": (["interpolate", "musicvae", i["a_mid"], i["b_mid"], "--steps", "3",
                                  "--out-dir", out / "im", "--wav"], "im/*.wav"),
    }


NEEDS_FLUIDSYNTH = {"render-abc", "sample-musicvae", "interpolate-musicvae"}
LISTENING = list(_listening_writers({k: Path(k) for k in ("note", "note4s", "tunes", "a_mid", "b_mid")}, Path("o")))


@pytest.fixture(scope="module")
def loudness_runs(inputs, cli_env, tmp_path_factory):
    from audiogen.data.soundfonts import fluidsynth_available, small_soundfont

    renders = fluidsynth_available()[0] and small_soundfont() is not None
    root = tmp_path_factory.mktemp("loudness")
    cases, globs = {}, {}
    for gain in ("0", "-6"):
        for name, (argv, pattern) in _listening_writers(inputs, root / f"gain{gain}").items():
            if name in NEEDS_FLUIDSYNTH and not renders:
                continue
            cases[f"{name}@{gain}"] = argv + ["--gain", gain, "-q"]
            globs[f"{name}@{gain}"] = (root / f"gain{gain}", pattern)
    runs = run_in_one_process(cases, cli_env, inputs["root"], tmp_path_factory.mktemp("loudness-driver"))
    return runs, globs


@pytest.mark.parametrize("gain", [0.0, -6.0])
@pytest.mark.parametrize("name", LISTENING)
def test_every_listening_output_peaks_at_minus_1_dbfs_plus_gain(name, gain, loudness_runs):
    from audiogen.dsp.loudness import OUTPUT_PEAK_DBFS

    runs, globs = loudness_runs
    key = f"{name}@{gain:g}"
    if key not in runs:
        pytest.skip("FluidSynth or a SoundFont is missing")
    assert runs[key].code == 0, runs[key]
    folder, pattern = globs[key]
    files = sorted(folder.glob(pattern))
    assert files, runs[key]
    for path in files:
        data, _ = sf.read(path)
        peak_db = 20 * np.log10(np.abs(data).max())
        assert abs(peak_db - (OUTPUT_PEAK_DBFS + gain)) < 0.05, (path, peak_db)


def test_render_abc_sets_tempo_and_program(inputs, cli_env, tmp_path):
    import pretty_midi

    out = tmp_path / "tunes"
    run = run_cli(["render", "abc", inputs["tunes"], "--out-dir", out, "--bpm", "90", "--program", "40", "-q"],
                  cli_env, tmp_path)
    assert run.code == 0, run
    plain = tmp_path / "plain"
    assert run_cli(["render", "abc", inputs["tunes"], "--out-dir", plain, "-q"], cli_env, tmp_path).code == 0
    files = sorted(out.glob("*.mid"))
    assert len(files) == 24
    for path in files[:3]:
        midi, before = pretty_midi.PrettyMIDI(str(path)), pretty_midi.PrettyMIDI(str(plain / path.name))
        _, tempi = midi.get_tempo_changes()
        assert np.allclose(tempi, 90.0, atol=0.01), tempi
        pitched = [inst for inst in midi.instruments if not inst.is_drum and inst.notes]
        assert pitched and all(inst.program == 40 for inst in pitched)
        # the same notes on the same beats
        notes = [(n.pitch, round(midi.time_to_tick(n.start))) for inst in pitched for n in inst.notes]
        plain_notes = [(n.pitch, round(before.time_to_tick(n.start))) for inst in before.instruments
                       if not inst.is_drum for n in inst.notes]
        assert sorted(notes) == sorted(plain_notes)


def test_a_joined_interpolation_changes_time_signature_where_its_steps_change_meter(tmp_path):
    import pretty_midi

    from audiogen.data.melody import NO_EVENT, PAD, note_on
    from audiogen.musicvae.output import MelodyWriter

    def bars(real: int) -> np.ndarray:  # two bars of `real` sounding 16ths each (padded to 16)
        bar = [note_on(60 + i % 5) if i % 4 == 0 else NO_EVENT for i in range(real)] + [PAD] * (16 - real)
        return np.array(bar * 2)

    steps = [bars(16), bars(12), bars(12), bars(16)]
    with MelodyWriter(tmp_path, bpm=120, meters={"4/4": 10, "3/4": 5}) as writer:
        writer.write(steps, "interpolation")
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "interpolation.mid"))
    quarter = 0.5  # seconds at 120 bpm
    found = [(round(ts.time / quarter, 3), ts.numerator, ts.denominator) for ts in midi.time_signature_changes]
    # 4/4 for 2 bars (8 quarters), then 3/4 for 4 bars (12 quarters), then 4/4 again
    assert found == [(0.0, 4, 4), (8.0, 3, 4), (20.0, 4, 4)]


def test_progress_lines_fit_80_columns_and_the_rate_is_the_average_since_the_start(monkeypatch):
    import io
    import time

    from rich.console import Console

    import audiogen.runtime.progress as progress_module

    buffer = io.StringIO()
    monkeypatch.setattr(progress_module, "_console",
                        Console(file=buffer, width=80, force_terminal=True, color_system=None))
    with progress_module.make_progress(unit="step") as progress:
        task = progress.add_task("gansynth 312 img/s L5 fade 0.66; pitch 35/36", total=100000,
                                 completed=3311, initial=3311)
        time.sleep(0.5)
        progress.update(task, completed=3321)  # 10 steps in ~0.5 s, after 3311 from an earlier run
        progress.refresh()
    last = buffer.getvalue().split("\r")[-1].replace("\x1b[2K", "").splitlines()[0]
    assert len(last) <= 80, last
    assert "…" in last  # the long description is cut, not wrapped
    assert "gansynth 312 img/s L5" in last  # what the run is doing and how fast come first
    rate = float(last.split(" step/s")[0].split()[-1])
    assert 12 <= rate <= 21, last  # 10 steps over ~0.5-0.8 s; not 3321 / 0.5


def test_data_melodies_with_jobs_gives_the_same_windows_as_one_process(inputs, cli_env, tmp_path):
    runs = run_cli_many([["data", "melodies", "--data", inputs["tunes"], "--out", tmp_path / f"j{jobs}.npz",
                          "--jobs", str(jobs), "--json"] for jobs in (1, 2)], cli_env, tmp_path)
    assert all(run.code == 0 for run in runs), runs
    assert [run.json()["args"]["jobs"] for run in runs] == [1, 2]
    one, two = np.load(tmp_path / "j1.npz"), np.load(tmp_path / "j2.npz")
    assert sorted(one.files) == sorted(two.files)
    for key in one.files:
        assert np.array_equal(one[key], two[key]), key
    assert len(one["events"]) > 0


def _toy_run(out: Path, **options):
    from audiogen.runtime.training import TrainingRun

    model = torch.nn.Linear(2, 1)
    return TrainingRun(out, kind="toy", config={"lr": 0.1}, modules={"model": model},
                       optimizers={"opt": torch.optim.SGD(model.parameters(), lr=0.1)}, total_steps=4,
                       checkpoint_every=0, quiet=True, **options)


def test_a_run_that_fails_before_its_first_checkpoint_leaves_no_run_folder(tmp_path):
    from audiogen.runtime import training

    training.forget_runs()
    _toy_run(tmp_path / "new")  # config.json written; then Ctrl-C before the first step
    assert (tmp_path / "new" / "config.json").is_file()
    assert training.after_failure(interrupted=True) == f"before the first checkpoint; {tmp_path / 'new'} removed"
    assert not (tmp_path / "new").exists()
    # a folder the user made is kept, without the files the run wrote
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    _toy_run(tmp_path / "mine")
    training.after_failure(interrupted=False)
    assert listing(tmp_path / "mine") == ["notes.txt"]
    # a resumed run interrupted before it saved again: its checkpoint is as it was
    run = _toy_run(tmp_path / "old")
    for _ in run.steps():
        pass
    before = (tmp_path / "old" / "checkpoint.pt").read_bytes()
    training.forget_runs()
    resumed = _toy_run(tmp_path / "old", resume=True)
    assert training.after_failure(interrupted=True) == (f"before training went on; {resumed.checkpoint_path} "
                                                        "(step 4) is unchanged")
    assert (tmp_path / "old" / "checkpoint.pt").read_bytes() == before
    assert training.after_failure(interrupted=True) is None  # each run is reported once
    # parents the run made are removed with it
    _toy_run(tmp_path / "a" / "b" / "run")
    assert training.after_failure(interrupted=False) == f"{tmp_path / 'a'} removed"
    assert not (tmp_path / "a").exists()
    # a run that logged steps (or wrote anything else) is kept, and the message says so
    logged = _toy_run(tmp_path / "logged")
    logged.log(1, loss=1.0)
    assert training.after_failure(interrupted=False) == (
        f"{tmp_path / 'logged'} is kept with what the run wrote (no checkpoint to resume)")
    assert (tmp_path / "logged" / "metrics.jsonl").stat().st_size > 0
    # once a run has saved, it is no longer held for undoing
    saved = _toy_run(tmp_path / "saved")
    saved.save_checkpoint()
    assert saved not in training._OPEN_RUNS


def test_a_first_run_that_diverges_before_a_checkpoint_keeps_its_log_and_can_start_again(inputs, cli_env, tmp_path):
    out = tmp_path / "run"
    args = ["train", "samplevae", "--data", inputs["library"], "--out", out, "--steps", "3", "--checkpoint-every", "0", "-q"]
    run = run_cli(args + ["--lr", "1e30"], cli_env, tmp_path)
    assert_one_line_error(run, "training diverged", f"{out} is kept with what the run wrote (no checkpoint to resume)")
    assert (out / "metrics.jsonl").stat().st_size > 0 and not (out / "checkpoint.pt").exists()
    again = run_cli(args, cli_env, tmp_path)  # no checkpoint there: the same --out starts afresh
    assert again.code == 0, again
    assert (out / "checkpoint.pt").is_file()
