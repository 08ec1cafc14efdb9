"""NSynth: the SoundFont builder, the reader and its filters, the cache, bad input, the two commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")

from audiogen.data.gm import FAMILIES, GM_PROGRAMS, PITCHED_PROGRAMS, SOURCES  # noqa: E402
from audiogen.data.nsynth import (NSYNTH_SAMPLES, QUALITIES, NSynthFilter, iter_notes,  # noqa: E402
                                  read_examples)
from audiogen.data.nsynth_cache import build_cache  # noqa: E402
from audiogen.data.skips import SkipLog  # noqa: E402
from audiogen.errors import AudiogenError, BadInputError  # noqa: E402

NSYNTH_KEYS = {"note", "note_str", "instrument", "instrument_str", "pitch", "velocity", "sample_rate",
               "instrument_family", "instrument_family_str", "instrument_source", "instrument_source_str",
               "qualities", "qualities_str"}
# keyboard acoustic, keyboard electronic, bass electronic, flute acoustic, synth_lead synthetic
PROGRAMS = [0, 4, 33, 73, 81]
PITCHES = [22, 24, 60, 84, 120]  # 120 is above every TimGM6mb preset: rendered silent, dropped
VELOCITIES = [50, 100]


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1"}
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def _small_soundfont() -> Path:
    from audiogen.data.soundfonts import fluidsynth_available, small_soundfont

    if not fluidsynth_available()[0] or small_soundfont() is None:
        pytest.skip("FluidSynth or pretty_midi's SoundFont unavailable")
    return small_soundfont()


@pytest.fixture(scope="module")
def rendered_set(tmp_path_factory) -> tuple[Path, dict]:
    """An NSynth-format set rendered with pretty_midi's small SoundFont: (folder, render summary)."""
    from audiogen.data.nsynth_render import render_nsynth

    root = tmp_path_factory.mktemp("nsynth") / "set"
    summary = render_nsynth(root, soundfont=_small_soundfont(), programs=PROGRAMS, pitches=PITCHES,
                            velocities=VELOCITIES)
    return root, summary


@pytest.fixture(scope="module")
def cli_render(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("nsynth-cli") / "set"
    run = _cli("data", "nsynth", "--out", out, "--soundfont", _small_soundfont(), "--programs", "0,24-25",
               "--pitches", "59-61", "--velocities", "100", "--json")
    return out, run


def test_gm_table_covers_every_program_with_nsynth_labels():
    assert len(GM_PROGRAMS) == 128
    assert PITCHED_PROGRAMS == tuple(range(119))
    for gm in GM_PROGRAMS[:119]:
        assert gm.family in FAMILIES and gm.source in SOURCES, gm
    assert {gm.family for gm in GM_PROGRAMS[:119]} == set(FAMILIES)  # every NSynth family is reachable
    expected = {0: ("keyboard", "acoustic"), 4: ("keyboard", "electronic"), 19: ("organ", "acoustic"),
                16: ("organ", "electronic"), 33: ("bass", "electronic"), 38: ("bass", "synthetic"),
                40: ("string", "acoustic"), 52: ("vocal", "acoustic"), 56: ("brass", "acoustic"),
                65: ("reed", "acoustic"), 73: ("flute", "acoustic"), 81: ("synth_lead", "synthetic"),
                12: ("mallet", "acoustic"), 24: ("guitar", "acoustic"), 29: ("guitar", "electronic")}
    for program, labels in expected.items():
        assert (GM_PROGRAMS[program].family, GM_PROGRAMS[program].source) == labels, program
    assert GM_PROGRAMS[127].family is None  # gunshot: not an instrument


def test_rendered_set_reads_back_with_every_nsynth_field(rendered_set):
    root, summary = rendered_set
    raw = json.loads((root / "examples.json").read_text())
    assert summary["silent_dropped"] == len(PROGRAMS) * len(VELOCITIES)  # pitch 120, every program
    assert all(pitch == 120 for _, pitch, _ in summary["silent"])
    assert summary["notes"] == len(raw) == len(PROGRAMS) * (len(PITCHES) - 1) * len(VELOCITIES)
    for key, entry in raw.items():
        assert NSYNTH_KEYS <= set(entry), key
        gm = GM_PROGRAMS[entry["program"]]
        assert entry["note_str"] == key == f"{gm.family}_{gm.source}_{entry['program']:03d}-" \
                                           f"{entry['pitch']:03d}-{entry['velocity']:03d}"
        assert entry["instrument_family"] == FAMILIES.index(entry["instrument_family_str"]) \
            and entry["instrument_family_str"] == gm.family
        assert entry["instrument_source"] == SOURCES.index(entry["instrument_source_str"]) \
            and entry["instrument_source_str"] == gm.source
        assert entry["sample_rate"] == 16000 and len(entry["qualities"]) == len(QUALITIES)
    notes = read_examples(root)
    assert len(notes) == len(raw)
    waves = list(iter_notes(root))
    assert len(waves) == len(raw)
    for wave, labels in waves:
        assert wave.shape == (NSYNTH_SAMPLES,) and wave.dtype == np.float32
        assert np.abs(wave).max() > 1e-3, labels["note_str"]
        info_ = sf.info(labels["path"])
        assert (info_.samplerate, info_.channels, info_.frames, info_.subtype) == (16000, 1, NSYNTH_SAMPLES, "PCM_16")
        assert set(labels) >= NSYNTH_KEYS


def test_cli_render_reports_counts_and_refuses_to_overwrite(cli_render):
    out, run = cli_render
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["notes"] == 3 * 3 == len(json.loads((out / "examples.json").read_text()))
    assert result["silent_dropped"] == 0 and result["notes_per_second"] > 0 and result["command"] == "data nsynth"
    assert result["families"] == {"keyboard": 3, "guitar": 6} and result["sources"] == {"acoustic": 9}
    assert sorted(p.name for p in (out / "audio").iterdir())[0] == "guitar_acoustic_024-059-100.wav"
    again = _cli("data", "nsynth", "--out", out, "--programs", "0", "--pitches", "60", "--velocities", "100")
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "already holds an NSynth set" in again.stderr
    assert str(out) in again.stderr
    forced = _cli("data", "nsynth", "--out", out, "--soundfont", _small_soundfont(), "--programs", "0",
                  "--pitches", "60", "--velocities", "100", "--force", "--quiet")
    assert forced.returncode == 0, forced.stderr
    assert [p.name for p in (out / "audio").iterdir()] == ["keyboard_acoustic_000-060-100.wav"]


@pytest.mark.parametrize("args, fragment", [
    (["--programs", "120"], "not a pitched GM instrument"),
    (["--pitches", "84-24"], "low end first"),
    (["--velocities", "loud"], "expected a number"),
    (["--soundfont", "/nonexistent/font.sf2"], "no such file"),
])
def test_cli_render_rejects_bad_options(tmp_path, args, fragment):
    run = _cli("data", "nsynth", "--out", tmp_path / "x", *args)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("audiogen: error:") and run.stderr.count("\n") == 1 and fragment in run.stderr
    assert not (tmp_path / "x" / "examples.json").exists()


def test_filters_select_by_name_with_the_right_source_ids(rendered_set):
    root, _ = rendered_set
    notes = read_examples(root)
    gansynth = read_examples(root, NSynthFilter.gansynth())
    # acoustic programs 0 and 73, pitches 24, 60, 84 (22 is below GANSynth's range), both velocities
    assert len(gansynth) == 2 * 3 * 2
    assert {n["instrument_source"] for n in gansynth} == {0}
    assert all(24 <= n["pitch"] <= 84 for n in gansynth)
    electronic = read_examples(root, NSynthFilter.parse(["source=electronic"]))
    assert {n["instrument_source"] for n in electronic} == {1} and len(electronic) == 2 * 4 * 2
    one = read_examples(root, NSynthFilter.parse(["family=flute", "velocity=100", "pitch=60"]))
    assert [n["note_str"] for n in one] == ["flute_acoustic_073-060-100"]
    by_instrument = read_examples(root, NSynthFilter.parse(["instrument=bass_electronic_033"]))
    assert len(by_instrument) == 8 and len(notes) == 40


def test_source_ids_map_to_names_when_only_ids_are_given(tmp_path):
    entries = {}
    for source in range(3):
        key = f"x_{source}-060-100"
        entries[key] = {"note_str": key, "pitch": 60, "velocity": 100, "instrument": source,
                        "instrument_family": 4, "instrument_source": source, "unknown_extra": [1, 2]}
    (tmp_path / "examples.json").write_text(json.dumps(entries))
    acoustic = read_examples(tmp_path, NSynthFilter.parse(["source=acoustic"]))
    assert [n["instrument_source"] for n in acoustic] == [0]
    assert acoustic[0]["instrument_source_str"] == "acoustic" and "unknown_extra" not in acoustic[0]
    assert acoustic[0]["instrument_family_str"] == "keyboard"


def _copy_set(root: Path, dest: Path) -> Path:
    shutil.copytree(root, dest)
    return dest


def test_cache_equals_direct_decoding_and_is_reused(rendered_set, tmp_path):
    root, _ = rendered_set
    filt = NSynthFilter.gansynth()
    cache, summary = build_cache(root, filt, cache_root=tmp_path)
    assert summary["built"] and len(cache) == 12
    direct = {labels["note_str"]: wave for wave, labels in iter_notes(root, filt)}
    assert sorted(direct) == sorted(map(str, cache.labels["note_str"]))
    for row, note_str in enumerate(cache.labels["note_str"]):
        np.testing.assert_array_equal(cache.waves(slice(row, row + 1))[0], direct[str(note_str)])
    by_name = {n["note_str"]: n for n in read_examples(root, filt)}
    for row, note_str in enumerate(cache.labels["note_str"]):
        assert cache.labels["pitch"][row] == by_name[str(note_str)]["pitch"]
        assert cache.labels["instrument_source"][row] == 0
    # one epoch visits every row once, whatever the batch size; another seed, another order
    seen, orders = [], []
    for seed in (0, 1):
        epoch = [labels["note_str"] for _, labels in cache.batches(5, seed=seed)]
        assert [len(b) for b in epoch] == [5, 5, 2]
        orders.append(np.concatenate(epoch))
        seen.append(sorted(orders[-1]))
    assert seen[0] == seen[1] == sorted(cache.labels["note_str"])
    assert cache.pitch_histogram().sum() == 12 and cache.pitch_histogram()[60] == 4
    again, summary2 = build_cache(root, filt, cache_root=tmp_path)
    assert not summary2["built"] and again.path == cache.path
    other, summary3 = build_cache(root, NSynthFilter(), cache_root=tmp_path)
    assert summary3["built"] and other.path != cache.path and len(other) == 40


def _bad_set(root: Path, dest: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the set with one missing, one corrupt, one short 22.05 kHz (2.9 s) and one short WAV,
    and one 4-s 22.05 kHz WAV, which is resampled and kept."""
    dest = _copy_set(root, dest)
    names = sorted(json.loads((dest / "examples.json").read_text()))
    audio = dest / "audio"
    bad = {names[0]: "missing WAV", names[1]: "not a readable WAV", names[2]: "2.90 s at 22050 Hz, expected 4 s",
           names[3]: "samples, expected 64000"}
    (audio / f"{names[0]}.wav").unlink()
    (audio / f"{names[1]}.wav").write_bytes(b"RIFF\x00\x00\x00\x00garbage" * 10)
    data, _ = sf.read(audio / f"{names[2]}.wav", dtype="int16")
    sf.write(audio / f"{names[2]}.wav", data, 22050, subtype="PCM_16")
    sf.write(audio / f"{names[3]}.wav", data[:1000], 16000, subtype="PCM_16")
    data4, _ = sf.read(audio / f"{names[4]}.wav", dtype="float32")
    import torch

    from audiogen.dsp.audio_io import resample
    sf.write(audio / f"{names[4]}.wav", resample(torch.from_numpy(data4), 16000, 22050).numpy(), 22050, subtype="PCM_16")
    return dest, bad


def test_bad_files_are_skipped_counted_and_fatal_with_strict(rendered_set, tmp_path):
    root, _ = rendered_set
    bad_root, bad = _bad_set(root, tmp_path / "bad")
    skips = SkipLog(warn=False)
    cache, summary = build_cache(bad_root, cache_root=tmp_path / "cache", skips=skips)
    assert len(cache) == 40 - 4 and summary["skipped"] == 4
    assert skips.reasons == {"missing WAV": 1, "unreadable WAV": 1, "wrong length": 2}
    assert summary["resampled"] == 1 and summary["resampled_from"] == {"22050": 1}
    names = sorted(json.loads((bad_root / "examples.json").read_text()))
    row = list(cache.labels["note_str"]).index(names[4])
    original = sf.read(root / "audio" / f"{names[4]}.wav", dtype="float32")[0]
    kept = cache.waves(np.array([row]))[0]
    assert kept.shape == (NSYNTH_SAMPLES,) and np.abs(kept - original).max() < 0.05  # resampled there and back
    for path, problem in skips.skipped:
        assert bad[Path(path).stem] in problem, (path, problem)
    with pytest.raises(BadInputError, match="--strict"):
        build_cache(bad_root, cache_root=tmp_path / "cache2", skips=SkipLog(strict=True))
    assert not any((tmp_path / "cache2").glob("*/index.json"))  # nothing half-built is left to be trusted


def test_cli_prepare_json_then_reuse_and_strict(rendered_set, tmp_path):
    root, _ = rendered_set
    bad_root, _ = _bad_set(root, tmp_path / "bad")
    run = _cli("data", "prepare", bad_root, "--filter", "gansynth", "--cache-dir", tmp_path / "c", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["built"] and result["notes"] + result["skipped"] == result["selected"] == 12
    assert result["skipped_files"]["count"] == result["skipped"]
    assert result["pitch_range"][0] >= 24 and result["pitch_range"][1] <= 84
    assert run.stderr.count("audiogen: warning: skipped") == result["skipped"]
    again = _cli("data", "prepare", bad_root, "--filter", "gansynth", "--cache-dir", tmp_path / "c")
    assert again.returncode == 0 and "already built" in again.stdout
    strict = _cli("data", "prepare", bad_root, "--cache-dir", tmp_path / "s", "--strict")
    assert strict.returncode == 2, strict.stderr
    last = strict.stderr.splitlines()[-1]  # the progress bar's last state may precede it
    assert last.startswith("audiogen: error:") and str(bad_root) in last and "--strict" in last


@pytest.mark.parametrize("case", ["missing_dir", "no_examples", "bad_json", "bad_filter", "nothing_matches"])
def test_cli_prepare_bad_input_is_one_line_exit_2(rendered_set, tmp_path, case):
    root, _ = rendered_set
    folder = tmp_path / "set"
    args = []
    if case == "no_examples":
        folder.mkdir()
    elif case == "bad_json":
        folder.mkdir()
        (folder / "examples.json").write_text("{not json")
    elif case == "bad_filter":
        folder = root
        args = ["--filter", "source=acustic"]
    elif case == "nothing_matches":
        folder = root
        args = ["--filter", "family=vocal"]
    run = _cli("data", "prepare", folder, "--cache-dir", tmp_path / "c", *args)
    assert run.returncode == 2, (case, run.stderr)
    assert run.stderr.startswith("audiogen: error:") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr
    if case != "bad_filter":
        assert str(folder) in run.stderr


def test_filter_parse_errors_name_the_word():
    for words, fragment in ((["pitch=90-20"], "low end first"), (["source=acustic"], "unknown source"),
                            (["colour=red"], "unknown key"), (["pitch"], "KEY=VALUE")):
        with pytest.raises(AudiogenError, match=fragment):
            NSynthFilter.parse(words)


def test_ctrl_c_stops_the_workers_cleanly_and_leaves_no_examples_json(tmp_path):
    import signal
    import time

    out = tmp_path / "set"
    proc = subprocess.Popen([sys.executable, "-m", "audiogen", "data", "nsynth", "--out", str(out),
                             "--soundfont", str(_small_soundfont()), "--programs", "0-40", "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "CI": "1"},
                            # as from a terminal: a test run started in the background (SIGINT
                            # ignored, inherited) would otherwise give a child that ignores Ctrl-C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out / "audio").is_dir() or not any((out / "audio").iterdir()):  # workers are rendering
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole process group
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "audiogen: error: interrupted" and "Traceback" not in stderr, stderr
    assert not (out / "examples.json").exists()
    assert not list((out / "audio").glob(".*tmp*"))  # no half-written WAV left behind
