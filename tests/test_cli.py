"""The `audiogen` command as a user runs it: real processes, real exit codes, real stderr.

Every process imports torch (2-4 s on a small machine), so runs are batched: module-scoped
fixtures start the processes once (several at a time) and the tests read their results. The
many bad-input cases go through one Python process that calls `audiogen.cli.main.main(argv)`
once per case with file descriptors 1 and 2 redirected, which sees exactly what a console-script
run writes (the entry point is `sys.exit(main())`); `test_real_process_matches_in_process_run`
checks that claim against real `audiogen` processes for some of the cases.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import audiogen
from clitools import DRIVER as _DRIVER
from clitools import PNG_MAGIC, TIMEOUT_S, Run, assert_one_line_error, listing, run_cli, run_cli_many

sf = pytest.importorskip("soundfile")  # the CLI needs it too; the GPU machine may lack it

@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, _shared_tool_caches) -> dict[str, str]:
    """os.environ with HOME / XDG_* in a temp dir (module fixtures run outside the per-test one)."""
    home = tmp_path_factory.mktemp("cli-home")
    env = dict(os.environ)
    for name, relative in (("HOME", ""), ("XDG_CACHE_HOME", ".cache"), ("XDG_DATA_HOME", ".local/share"),
                           ("XDG_CONFIG_HOME", ".config")):
        (home / relative).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / relative)
    env.update(_shared_tool_caches)
    env.pop("AUDIOGEN_SOUNDFONT", None)
    env["CI"] = "1"  # pyfluidsynth prints to stdout on import when CI is set; stdout must stay clean
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The cwd of every process: outside the repository, so nothing lands in the checkout."""
    return tmp_path_factory.mktemp("cli-cwd")


# ---------- version, help, info ----------

def test_version(cli_env, workdir):
    run = run_cli(["--version"], cli_env, workdir)
    assert run.code == 0, run
    assert run.stdout.strip() == f"audiogen {audiogen.__version__}", run


def test_top_level_help_lists_commands_and_an_example(cli_env, workdir):
    run = run_cli(["--help"], cli_env, workdir)
    assert run.code == 0, run
    for command in ("info", "spec", "resynth", "data", "train", "sample", "interpolate", "render", "eval"):
        assert command in run.stdout, run
    assert "Example:" in run.stdout, run


@pytest.mark.parametrize("command", ["info", "spec", "resynth", "data", "data nsynth", "data prepare",
                                     "data abc", "data drums", "data melodies", "train", "train abc",
                                     "sample", "sample abc", "render", "render abc", "eval", "eval abc",
                                     "train musicvae", "sample musicvae", "interpolate", "interpolate musicvae",
                                     "eval musicvae"])
def test_command_help_shows_an_example(command, cli_env, workdir):
    run = run_cli([*command.split(), "--help"], cli_env, workdir)
    assert run.code == 0, run
    assert "Example:" in run.stdout, run
    assert f"audiogen {command}" in run.stdout, run


def _commands(group, prefix=()):
    """(words, callback) of every command the app registers."""
    for info in group.registered_commands:
        yield (*prefix, info.name), info.callback
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, (*prefix, sub.name or sub.typer_instance.info.name))


def test_every_option_is_declared_and_help_ends_with_the_example():
    """Each command's parameters reach Typer as declared (Annotated options, shared ones from
    SHARED_OPTIONS): a parameter Typer would invent from a bare name or type is a bug, and so is a
    help text whose example is not last."""
    import inspect
    import typing

    from audiogen.cli.main import app
    from audiogen.cli.options import SHARED_OPTIONS

    commands = list(_commands(app))
    assert len(commands) >= 35
    for words, callback in commands:
        for name, param in inspect.signature(callback, eval_str=True).parameters.items():
            if param.annotation is typer_context():
                continue
            declared = typing.get_origin(param.annotation) is typing.Annotated
            assert declared, f"audiogen {' '.join(words)}: parameter {name} has no option declaration"
            if param.kind is param.KEYWORD_ONLY:
                assert name in SHARED_OPTIONS and param.default == SHARED_OPTIONS[name][1], (words, name)
    run = run_cli(["spec", "--help"], {**os.environ}, Path.cwd())
    assert "--repr" in run.stdout and "-o" in run.stdout, run
    assert run.stdout.rstrip().splitlines()[-1].strip().startswith("Example:"), run


def typer_context():
    import typer

    return typer.Context


@pytest.fixture(scope="module")
def info_runs(cli_env, workdir) -> dict[str, Run]:
    json_run, human_run = run_cli_many([["info", "--json"], ["info"]], cli_env, workdir)
    return {"json": json_run, "human": human_run}


def test_info_json(info_runs):
    run = info_runs["json"]
    assert run.code == 0, run
    data = run.json()
    for key in ("audiogen", "python", "packages", "devices", "bundled_models", "soundfonts", "drum_kits",
                "fluidsynth"):
        assert key in data, key
    assert data["audiogen"] == audiogen.__version__
    assert data["python"] == sys.version.split()[0]
    assert data["packages"]["torch"], data["packages"]
    assert data["devices"]["cpu_count"] == os.cpu_count()
    assert isinstance(data["bundled_models"], list)
    assert isinstance(data["soundfonts"], list)
    assert isinstance(data["drum_kits"], list)
    assert isinstance(data["fluidsynth"]["available"], bool)


def test_info_human(info_runs):
    run = info_runs["human"]
    assert run.code == 0, run
    assert f"audiogen {audiogen.__version__}" in run.stdout, run
    assert "Traceback" not in run.stderr, run


# ---------- spec ----------

SPEC_REPRS = ["if", "if-mel", "mel"]


@pytest.fixture(scope="module")
def spec_runs(note_wav, cli_env, workdir, tmp_path_factory) -> dict[str, tuple[Run, Path]]:
    out_dir = tmp_path_factory.mktemp("spec-out")
    outs = {r: out_dir / f"note-{r}.png" for r in SPEC_REPRS}
    runs = run_cli_many([["spec", note_wav, "--out", outs[r], "--repr", r, "--json"] for r in SPEC_REPRS],
                        cli_env, workdir)
    return {r: (run, outs[r]) for r, run in zip(SPEC_REPRS, runs)}


@pytest.mark.parametrize("representation", SPEC_REPRS)
def test_spec_writes_a_png_and_reports_json(representation, spec_runs, note_wav):
    run, out = spec_runs[representation]
    assert run.code == 0, run
    data = run.json()  # nothing but JSON on stdout
    assert data["output"] == str(out)
    assert data["repr"] == representation
    assert data["input"] == str(note_wav)
    png = out.read_bytes()
    assert png[:8] == PNG_MAGIC
    assert png[12:16] == b"IHDR"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 200 and height >= 200, (width, height)
    assert len(png) > 20_000, len(png)  # a real picture, not an empty canvas
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # no temp files left


# ---------- resynth ----------

@pytest.fixture(scope="module")
def stereo_44k_wav(tmp_path_factory) -> Path:
    """2 s of a decaying two-channel chord at 44.1 kHz."""
    sr = 44100
    t = np.arange(2 * sr) / sr
    decay = np.exp(-t / 0.7)
    left = 0.4 * np.sin(2 * np.pi * 440.0 * t) * decay
    right = 0.3 * np.sin(2 * np.pi * 659.25 * t + 0.5) * decay
    path = tmp_path_factory.mktemp("stereo") / "chord-44k-stereo.wav"
    sf.write(path, np.stack([left, right], axis=1).astype(np.float32), sr, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def resynth_runs(note_wav, stereo_44k_wav, cli_env, workdir, tmp_path_factory) -> dict[str, tuple[Run, Path]]:
    out_dir = tmp_path_factory.mktemp("resynth-out")
    jobs = {
        "if": (note_wav, out_dir / "if.wav", ["--repr", "if"]),
        "if-mel-flac": (note_wav, out_dir / "if-mel.flac", ["--repr", "if-mel", "--format", "flac"]),
        "gl-1": (note_wav, out_dir / "gl-1.wav", ["--repr", "griffin-lim", "--rng-seed", "1"]),
        "gl-2": (note_wav, out_dir / "gl-2.wav", ["--repr", "griffin-lim", "--rng-seed", "1"]),
        "stereo": (stereo_44k_wav, out_dir / "stereo.wav", ["--repr", "if"]),
    }
    runs = run_cli_many([["resynth", src, "--out", out, *extra, "--json"] for src, out, extra in jobs.values()],
                        cli_env, workdir)
    return {name: (run, jobs[name][1]) for name, run in zip(jobs, runs)}


def test_resynth_if_is_near_lossless(resynth_runs, note_wav):
    run, out = resynth_runs["if"]
    assert run.code == 0, run
    data = run.json()
    assert data["repr"] == "if" and data["output"] == str(out)
    assert data["snr_db"] > 35.0, data  # GANSynth layout (DC bin dropped) + PCM_16 in and out
    assert data["spectral_convergence"] < 0.02, data
    source, written = sf.info(note_wav), sf.info(out)
    assert out.read_bytes()[:4] == b"RIFF"
    assert (written.samplerate, written.channels, written.frames) == (16000, 1, source.frames)
    assert data["samples"] == source.frames


def test_resynth_if_mel_as_flac(resynth_runs, note_wav):
    run, out = resynth_runs["if-mel-flac"]
    assert run.code == 0, run
    data = run.json()
    assert isinstance(data["snr_db"], (int, float)) and math.isfinite(data["snr_db"]), data
    assert data["spectral_convergence"] < 0.5, data
    assert out.read_bytes()[:4] == b"fLaC"
    written = sf.info(out)
    assert (written.samplerate, written.channels, written.frames) == (16000, 1, sf.info(note_wav).frames)


def test_resynth_griffin_lim_is_reproducible_with_a_seed(resynth_runs):
    (run1, out1), (run2, out2) = resynth_runs["gl-1"], resynth_runs["gl-2"]
    for run in (run1, run2):
        assert run.code == 0, run
        data = run.json()
        assert data["snr_db"] is None, data  # the phase is new: SNR means nothing
        assert data["spectral_convergence"] < 0.3, data
        assert data["rng_seed"] == 1, data
    assert out1.read_bytes() == out2.read_bytes()
    audio, sr = sf.read(out1, dtype="float32")
    assert sr == 16000 and np.sqrt(np.mean(audio ** 2)) > 1e-4  # not silence


def test_resynth_downmixes_and_resamples_stereo_44k(resynth_runs, stereo_44k_wav):
    run, out = resynth_runs["stereo"]
    assert run.code == 0, run
    data = run.json()
    assert sf.info(stereo_44k_wav).samplerate == 44100 and sf.info(stereo_44k_wav).channels == 2
    written = sf.info(out)
    assert (written.samplerate, written.channels, written.frames) == (16000, 1, 32000)
    assert data["samples"] == 32000
    assert data["snr_db"] > 35.0, data


# ---------- bad input, bad options: one clean line and exit 2, nothing written ----------

BAD_INPUTS = ["missing", "empty", "text", "truncated", "zero_length", "nonfinite", "directory"]
COMMANDS = {"spec": "out.png", "resynth": "out.wav"}


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, note_wav) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad-inputs")
    paths = {name: d / f"{name}.wav" for name in BAD_INPUTS}
    paths["directory"] = d / "a-folder"
    paths["empty"].write_bytes(b"")
    paths["text"].write_text("this is not audio\n" * 20)
    data = note_wav.read_bytes()
    paths["truncated"].write_bytes(data[: len(data) // 2])  # the header still declares the full data
    sf.write(paths["zero_length"], np.zeros(0, np.float32), 16000, subtype="PCM_16")
    samples = np.full(16000, 0.1, np.float32)
    samples[[100, 5000]] = np.nan
    samples[9000] = np.inf
    sf.write(paths["nonfinite"], samples, 16000, subtype="FLOAT")
    paths["directory"].mkdir()
    (paths["directory"] / "note.wav").write_bytes(data)
    assert not paths["missing"].exists()
    assert sf.info(paths["zero_length"]).frames == 0
    assert not np.isfinite(sf.read(paths["nonfinite"])[0]).all()
    return paths




@pytest.fixture(scope="module")
def error_cases(bad_inputs, note_wav, tmp_path_factory) -> dict[str, dict]:
    """case id -> {argv, out (the --out path), dir (its folder), before (listing), existing (bytes or None)}.

    Every case writes into its own folder, which holds a bystander file, so a leftover temp
    file or a half-written output shows in the listing.
    """
    root = tmp_path_factory.mktemp("error-cases")
    cases: dict[str, dict] = {}

    def add(case_id: str, argv_before_out: list, out_name: str, extra: tuple = (), existing: bytes | None = None,
            out_is_dir: bool = False):
        folder = root / case_id
        folder.mkdir()
        (folder / "bystander.txt").write_text("untouched\n")
        out = folder / out_name
        if out_is_dir:
            out.mkdir()
            (out / "inside.txt").write_text("untouched\n")
        elif existing is not None:
            out.write_bytes(existing)
        cases[case_id] = {"argv": [str(a) for a in [*argv_before_out, "--out", out, *extra]], "out": out,
                          "dir": folder, "before": listing(folder),
                          "inside_before": listing(out) if out_is_dir else None, "existing": existing}

    for command, out_name in COMMANDS.items():
        for bad in BAD_INPUTS:
            add(f"{command}-{bad}", [command, bad_inputs[bad]], out_name)
        add(f"{command}-out-is-dir", [command, note_wav], "existing-folder", out_is_dir=True)
        add(f"{command}-device-cuda", [command, note_wav], out_name, ("--device", "cuda"))
        add(f"{command}-device-bogus", [command, note_wav], out_name, ("--device", "bogus"))
        add(f"{command}-unknown-option", [command, note_wav], out_name, ("--no-such-option",))
        add(f"{command}-over-existing", [command, bad_inputs["truncated"]], out_name,
            existing=b"precious earlier output\n" + os.urandom(64))
    # A picture format matplotlib cannot write is refused before any work.
    add("spec-writer-fails-over-existing", ["spec", note_wav], "picture.xyz", existing=b"precious picture\n")
    return cases


@pytest.fixture(scope="module")
def in_process(error_cases, cli_env, workdir, tmp_path_factory) -> dict[str, Run]:
    """Run every error case in one Python process (see the module docstring)."""
    d = tmp_path_factory.mktemp("driver")
    (d / "driver.py").write_text(_DRIVER)
    (d / "cases.json").write_text(json.dumps({k: c["argv"] for k, c in error_cases.items()}))
    proc = subprocess.run([sys.executable, str(d / "driver.py"), str(d / "cases.json"), str(d / "results.json")],
                          env=cli_env, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((d / "results.json").read_text())
    return {k: Run(r["argv"], r["code"], r["stdout"], r["stderr"]) for k, r in results.items()}


def assert_nothing_written(case: dict) -> None:
    assert listing(case["dir"]) == case["before"], "the output folder changed"
    if case["existing"] is not None:
        assert case["out"].read_bytes() == case["existing"], "the existing output was changed"
    elif case["inside_before"] is not None:
        assert listing(case["out"]) == case["inside_before"], "the --out folder changed"
    else:
        assert not case["out"].exists()


@pytest.mark.parametrize("bad", BAD_INPUTS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(command, bad, in_process, error_cases, bad_inputs):
    case_id = f"{command}-{bad}"
    assert_one_line_error(in_process[case_id], str(bad_inputs[bad]))
    assert_nothing_written(error_cases[case_id])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_is_an_existing_directory(command, in_process, error_cases):
    case = error_cases[f"{command}-out-is-dir"]
    assert_one_line_error(in_process[f"{command}-out-is-dir"], str(case["out"]))
    assert_nothing_written(case)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("command", list(COMMANDS))
def test_device_cuda_without_cuda(command, in_process, error_cases):
    assert_one_line_error(in_process[f"{command}-device-cuda"], "--device cuda", "CUDA")
    assert_nothing_written(error_cases[f"{command}-device-cuda"])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_device_bogus(command, in_process, error_cases):
    assert_one_line_error(in_process[f"{command}-device-bogus"], "--device bogus")
    assert_nothing_written(error_cases[f"{command}-device-bogus"])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unknown_option_is_a_usage_error(command, in_process, error_cases):
    run = in_process[f"{command}-unknown-option"]
    assert run.code == 2, run
    assert "Traceback" not in run.stdout + run.stderr, run
    assert "--no-such-option" in run.stderr, run
    assert run.stdout == "", run
    assert_nothing_written(error_cases[f"{command}-unknown-option"])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_failed_run_leaves_an_existing_output_byte_identical(command, in_process, error_cases, bad_inputs):
    assert_one_line_error(in_process[f"{command}-over-existing"], str(bad_inputs["truncated"]))
    assert_nothing_written(error_cases[f"{command}-over-existing"])


def test_unwritable_picture_format_leaves_an_existing_output_and_no_temp_file(in_process, error_cases):
    case = error_cases["spec-writer-fails-over-existing"]
    assert_one_line_error(in_process["spec-writer-fails-over-existing"], str(case["out"]), "picture format")
    assert_nothing_written(case)


def _main_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    from audiogen.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def test_out_in_a_folder_that_cannot_be_created_is_exit_2(note_wav, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    code, out, err = _main_in_process(["resynth", str(note_wav), "--out", str(blocker / "sub" / "x.wav")], capsys)
    assert code == 2 and err.startswith("audiogen: error:") and len(err.splitlines()) == 1, err
    assert str(blocker / "sub" / "x.wav") in err


def test_very_short_and_silent_inputs(tmp_path, capsys):
    sf = pytest.importorskip("soundfile")
    import numpy as np

    sf.write(tmp_path / "short.wav", np.full(10, 0.1, np.float32), 16000)
    sf.write(tmp_path / "silent.wav", np.zeros(16000, np.float32), 16000)
    for name in ("short", "silent"):
        for representation in ("if", "if-mel", "griffin-lim"):
            out = tmp_path / f"{name}-{representation}.wav"
            code, stdout, err = _main_in_process(["resynth", str(tmp_path / f"{name}.wav"), "--out", str(out),
                                                  "--repr", representation, "--json", "--rng-seed", "0"], capsys)
            assert code == 0, err
            result = json.loads(stdout, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
            assert sf.info(out).frames == (10 if name == "short" else 16000)
            if name == "silent":
                assert result["snr_db"] is None and result["spectral_convergence"] is None
    code, _, err = _main_in_process(["spec", str(tmp_path / "short.wav"), "--out", str(tmp_path / "s.png")], capsys)
    assert code == 0, err


# ---------- the same cases as real processes of the console script ----------

REAL_CASES = ["spec-truncated", "resynth-nonfinite", "resynth-over-existing"]


@pytest.fixture(scope="module")
def real_runs(error_cases, cli_env, workdir, tmp_path_factory) -> dict[str, tuple[Run, dict]]:
    """REAL_CASES again, each in a fresh copy of its folder, as real `audiogen` processes."""
    root = tmp_path_factory.mktemp("real-error-cases")
    copies = {}
    for case_id in REAL_CASES:
        case = error_cases[case_id]
        folder = root / case_id
        folder.mkdir()
        (folder / "bystander.txt").write_text("untouched\n")
        out = folder / case["out"].name
        if case["existing"] is not None:
            out.write_bytes(case["existing"])
        argv = [str(out) if a == str(case["out"]) else a for a in case["argv"]]
        copies[case_id] = {**case, "argv": argv, "out": out, "dir": folder, "before": listing(folder)}
    runs = run_cli_many([c["argv"] for c in copies.values()], cli_env, workdir)
    return {case_id: (run, copies[case_id]) for case_id, run in zip(copies, runs)}


@pytest.mark.parametrize("case_id", REAL_CASES)
def test_real_process_matches_in_process_run(case_id, real_runs, in_process):
    run, case = real_runs[case_id]
    assert_one_line_error(run)
    assert_nothing_written(case)
    # Same exit status and the same line as the in-process run: the shortcut proves the same things.
    assert run.code == in_process[case_id].code
    assert run.stderr == in_process[case_id].stderr
