"""Judging ABC tunes (abc2midi, music21, headers), copies and histograms, `render abc`, `eval abc`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest

from audiogen.abc.evaluate import copies, evaluate_samples, header_summary, histogram_comparison
from audiogen.notation.tunes import fingerprint
from audiogen.abc.validate import (abc2midi_available, abc2midi_midi, abc2midi_notes, count_midi_notes,
                                   header_checks, is_playable, music21_notes, valid_key, valid_meter, valid_unit)

HAS_ABC2MIDI = shutil.which("abc2midi") is not None
needs_abc2midi = pytest.mark.skipif(not HAS_ABC2MIDI, reason="abc2midi (Debian abcmidi) is not installed")

GOOD = "X:1\nT:Good Jig\nM:6/8\nL:1/8\nK:D\nABc def|gfe dcB|ABc def|gfe d3|\n"  # 22 notes
RESTS = "X:2\nT:Only Rests\nM:6/8\nL:1/8\nK:D\nz6|z6|\n"
SHORT = "X:3\nT:Short\nM:4/4\nL:1/4\nK:G\nGAB2|\n"  # 3 notes
TRAIN_TUNES = [
    "X:1\nT:One\nM:6/8\nL:1/8\nK:D\nABc def|gfe dcB|ABc def|gfe d3|\n",
    "X:2\nT:Two\nM:C|\nL:1/8\nK:G\nGABc dBGB|cBAG FDD2|GABc dBGB|cAFA G4|\n",
    "X:3\nT:Three\nM:3/4\nL:1/8\nK:Am\nA2 B2 c2|d2 e2 f2|e2 d2 c2|B2 A4|\n",
    "X:4\nT:Four\nM:2/4\nL:1/16\nK:G\nG2B2 d2B2|c2A2 F2A2|G2B2 d2g2|f2d2 g4|\n",
    "X:5\nT:Five\nM:6/8\nL:1/8\nK:G\nGBd gdB|cea gfe|dBG AFD|GBd g3|\n",
    "X:6\nT:Six\nM:C|\nL:1/8\nK:D\nDFAd fdAF|GBdB AFED|DFAd fdAF|GEFD D4|\n",
]


def _audiogen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "CI": "1", "OMP_NUM_THREADS": "1"})


def _audiogen_all(*runs: tuple) -> list[subprocess.CompletedProcess]:
    """Several commands at once (most of each run is Python starting up and importing)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(runs)) as pool:
        return list(pool.map(lambda args: _audiogen(*args), runs))


def _one_error_line(result: subprocess.CompletedProcess, *needles: str, alone: bool = True) -> str:
    """Exit 2 with one error line naming the problem, last on stderr; `alone`: nothing else there
    (a run stopped midway by --strict leaves its progress line above it)."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert result.stderr.count("audiogen: error: ") == 1 and lines[-1].startswith("audiogen: error: "), result.stderr
    assert len(lines) == 1 or not alone, result.stderr
    for needle in needles:
        assert needle in lines[-1]
    return lines[-1]


# --- the judges ------------------------------------------------------------------------------


@needs_abc2midi
def test_abc2midi_counts_notes_and_refuses_what_is_not_a_tune(tmp_path):
    assert abc2midi_available()
    assert abc2midi_notes(GOOD) == 22
    assert abc2midi_notes(RESTS) == 0
    ok, message = abc2midi_midi(GOOD, tmp_path / "good.mid")
    assert ok and count_midi_notes(tmp_path / "good.mid") == 22
    ok, message = abc2midi_midi("T:No X line\nK:C\nCDEF|\n", tmp_path / "none.mid")  # abc2midi exits 0 here
    assert not ok and "no MIDI file" in message and not (tmp_path / "none.mid").exists()


def test_our_reader_counts_notes():
    from audiogen.abc.validate import reader_notes

    assert reader_notes(GOOD) == 22
    assert reader_notes(RESTS) == 0
    assert reader_notes("X:1\nT:chord\nL:1/4\nK:C\n\"Am\"[CEG] {d}C|\n") == 4  # chord notes count; symbols, graces not


def test_music21_counts_notes():
    assert music21_notes(GOOD) == 22
    assert music21_notes(RESTS) == 0
    assert music21_notes("X:1\nT:chord\nL:1/4\nK:C\n\"Am\"[CEG] C|\n") == 4  # chord notes count, symbols not


def test_is_playable_needs_enough_notes():
    assert is_playable(GOOD)
    assert not is_playable(RESTS)
    assert not is_playable(SHORT)
    assert is_playable(SHORT, min_notes=3)


@pytest.mark.parametrize("value, valid", [
    ("6/8", True), ("C|", True), ("C", True), ("none", True), ("2+3/8", True), ("9/8 % comment", True),
    ("", False), (None, False), ("6/0", False), ("61", False), ("C5K", False), ("six-eight", False)])
def test_meter_syntax(value, valid):
    assert valid_meter(value) is valid


@pytest.mark.parametrize("value, valid", [
    ("1/8", True), ("1/16", True), ("1/4 % x", True), ("2/8", False), ("1/0", False), ("8", False), (None, False)])
def test_unit_syntax(value, valid):
    assert valid_unit(value) is valid


@pytest.mark.parametrize("value, valid", [
    ("G", True), ("Bb", True), ("F#m", True), ("Am", True), ("E Minor", True), ("A Mixolydian", True),
    ("Dmix", True), ("ADor", True), ("EM", True), ("Hp", True), ("HP", True), ("none", True),
    ("D ^c _B", True), ("G clef=bass", True), ("C treble", True), ("Dmix % a comment", True),
    ("Bn", False), ("H", False), ("G4G", False), ("|", False), ("", False), (None, False), ("D major7", False),
    ("Dfoo", False), ("G clef", False)])
def test_key_syntax(value, valid):
    assert valid_key(value) is valid


def test_header_checks_and_shares():
    assert header_checks(GOOD) == {"M": True, "L": True, "K": True, "all": True}
    no_unit = "X:1\nM:6/8\nK:D\nABc|\n"
    assert header_checks(no_unit) == {"M": True, "L": False, "K": True, "all": False}
    # only the header counts: an L: in the body is not a header field
    assert header_checks("X:1\nM:6/8\nK:D\nL:1/8\nABc|\n")["L"] is False
    assert header_summary([GOOD, no_unit]) == {"valid": 0.5, "M": 1.0, "L": 0.5, "K": 1.0}


# --- copies and histograms -------------------------------------------------------------------


def test_copies_are_found_by_body_whatever_the_number_title_or_spacing():
    trained = [fingerprint(t) for t in TRAIN_TUNES]
    copy = "X:99\nT:Another name\nM:6/8\nL:1/8\nK:D\nABc  def | gfe dcB|\nABc def|gfe d3|  % my copy\n"
    changed = copy.replace("d3|", "d2e|")
    result = copies([copy, changed, changed, "X:1\nT:no body\n"], trained)
    assert result["count"] == 1 and result["share"] == 0.25
    assert result["distinct"] == 2 / 3  # three bodies, two different ones
    assert copies([copy], None)["share"] is None  # a model file without fingerprints


def test_histogram_comparison_top_values_other_and_distance():
    samples = {"6/8": 6, "C|": 2, "3/4": 1, "(none)": 1}
    training = {"6/8": 50, "C|": 30, "2/4": 20}
    table = histogram_comparison(samples, training, top=2)
    assert [r["value"] for r in table["rows"]] == ["6/8", "C|", "(other)"]
    assert table["rows"][0] == {"value": "6/8", "samples": 0.6, "training": 0.5}
    assert table["rows"][2]["samples"] == pytest.approx(0.2) and table["rows"][2]["training"] == pytest.approx(0.2)
    # |0.6-0.5| + |0.2-0.3| + |0.1-0| + |0.1-0| + |0-0.2| = 0.6, halved
    assert table["tv_distance"] == pytest.approx(0.3)
    assert histogram_comparison({"a": 1}, {"a": 3})["tv_distance"] == 0
    assert histogram_comparison({"a": 1}, {})["tv_distance"] is None


def test_evaluate_samples_with_our_reader_as_the_judge():
    extra = {"train_fingerprints": [fingerprint(TRAIN_TUNES[0])], "meter_histogram": {"6/8": 3, "C|": 1},
             "key_histogram": {"D": 4}}
    result = evaluate_samples([TRAIN_TUNES[0], RESTS, SHORT, "X:4\nT:junk\n"], extra, converter="audiogen")
    assert result["converter"] == "audiogen" and result["n"] == 4
    assert result["playable"] == 0.25 and result["playable_count"] == 1
    assert result["audiogen"]["playable_count"] == 1
    assert result["music21"]["parsed"] >= 0.75  # the second opinion
    assert result["copies"]["count"] == 1
    assert result["headers"]["valid"] == 0.75
    assert result["meter"]["samples"] == {"6/8": 2, "4/4": 1, "(none)": 1}
    assert result["key"]["training"] == {"D": 4}
    assert (result["abc2midi"] is not None) is HAS_ABC2MIDI
    if HAS_ABC2MIDI:
        assert result["abc2midi"]["playable"] == 0.25 and result["abc2midi"]["converted"] >= 0.75


# --- render abc ------------------------------------------------------------------------------


def test_render_midi_and_wav(tmp_path):
    from audiogen.data.soundfonts import fluidsynth_available, small_soundfont

    tunes = tmp_path / "tunes.abc"
    tunes.write_text(GOOD + "\n" + RESTS + "\n" + TRAIN_TUNES[1])
    soundfont = small_soundfont()
    wav = fluidsynth_available()[0] and soundfont is not None
    extra = ["--wav", "--soundfont", str(soundfont)] if wav else []
    result, strict = _audiogen_all(
        ("render", "abc", tunes, "--out-dir", tmp_path / "out", "--json", *extra),
        ("render", "abc", tunes, "--out-dir", tmp_path / "strict", "--strict"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["tunes"] == 3 and summary["midi"] == 2 and summary["failed"] == 1
    assert summary["converter"] == ("abc2midi" if HAS_ABC2MIDI else "audiogen")
    assert summary["skipped"]["count"] == 1 and "tune 2" in summary["skipped"]["files"][0]["path"]
    assert "tune 2 (X:2, line 8)" in result.stderr and str(tunes) in result.stderr  # the warning
    names = sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith("."))
    assert names == (["001-Good_Jig.mid", "001-Good_Jig.wav", "003-Two.mid", "003-Two.wav"] if wav else
                     ["001-Good_Jig.mid", "003-Two.mid"])
    assert count_midi_notes(tmp_path / "out" / "001-Good_Jig.mid") == 22
    if wav:
        import soundfile as sf

        info = sf.info(str(tmp_path / "out" / "001-Good_Jig.wav"))
        assert info.samplerate == 22050 and info.subtype == "PCM_16" and info.duration > 2

    _one_error_line(strict, str(tunes), "tune 2", "--strict", alone=False)


def test_our_reader_writes_the_midi_abc2midi_would_where_abc2midi_is_missing(tmp_path):
    from audiogen.abc.render import tune_to_midi

    overlong = "X:1\nT:Overlong\nM:2/4\nL:1/8\nK:G\nGABc|defga|gfed|cBAG|\n"
    # "::" with no opening repeat: played from the start again, as abc2midi plays it
    open_repeat = "X:1\nT:Open repeat\nM:2/4\nL:1/16\nK:G\ndBB2 ABdB|GBdf g2fg::\ndggg g2af|gbaf gfed|]\n"
    for text, notes in ((GOOD, 22), (overlong, 17), (open_repeat, 43)):  # abc2midi's counts
        assert tune_to_midi(text, tmp_path / "t.mid", "audiogen") == (True, "converted")
        assert count_midi_notes(tmp_path / "t.mid") == notes
    ok, message = tune_to_midi("X:1\nT:no unit, no meter\nK:C\nzzz|\n", tmp_path / "bad.mid", "audiogen")
    assert not ok and message == "no notes" and not (tmp_path / "bad.mid").exists()


# --- eval abc --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A char-LSTM trained for a few steps on TRAIN_TUNES (seconds): the figures mean nothing,
    the plumbing is what is tested."""
    from audiogen.abc.train import CONFIGS, train_abc

    root = tmp_path_factory.mktemp("abc-model")
    (root / "train.abc").write_text("\n".join(TRAIN_TUNES))
    config = replace(CONFIGS["small"], embed=16, hidden=32, layers=1, batch_size=4, seq_len=32,
                     val_every=1000, log_every=1000)
    train_abc([root / "train.abc"], root / "run", config=config, steps=3, checkpoint_every=0, device="cpu",
              quiet=True)
    return root / "run" / "model.safetensors"


def test_eval_cli_reports_every_figure(tiny_model, tmp_path):
    held_out = tmp_path / "held.abc"
    # two training tunes (at least one not in the model's validation split: flagged), a new tune,
    # and one with a character the model never saw (left out)
    held_out.write_text(TRAIN_TUNES[2] + "\n" + TRAIN_TUNES[3] +
                        "\nX:5\nT:One Two\nM:6/8\nL:1/8\nK:G\nGAB cde|dcB A3|\n\n"
                        "X:8\nT:Tilde\nM:6/8\nL:1/8\nK:G\n~G3 ABc|\n")
    kept = tmp_path / "samples.abc"
    result = _audiogen("eval", "abc", "--model", str(tiny_model), "--data", str(held_out), "-n", "6",
                       "--max-chars", "120", "--rng-seed", "3", "--keep-samples", str(kept), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)  # exactly one JSON document
    held = out["heldout"]
    assert held["tunes"] == 4 and held["used"] == 3 and held["left_out"] == 1 and held["in_training"] >= 1
    assert held["bpc"] > 0 and held["headers"]["valid"] == 1.0
    samples = out["samples"]
    assert samples["n"] == 6 and samples["converter"] == ("abc2midi" if HAS_ABC2MIDI else "audiogen")
    for share in (samples["playable"], samples["music21"]["parsed"], samples["headers"]["valid"],
                  samples["copies"]["share"], samples["ended"]):
        assert 0 <= share <= 1
    training = samples["meter"]["training"]  # the 5 training tunes' (one went to validation)
    assert sum(training.values()) == 5 and set(training) <= {"6/8", "C|", "3/4", "2/4"}
    assert out["rng_seed"] == 3 and len(out["model_sha256"]) == 64 and out["args"]["num"] == 6
    scans = out["scans"]  # samples, held-out and training tunes side by side
    assert scans["heldout"]["n"] == 4 and scans["samples"]["n"] == 6
    assert 0 <= scans["samples"]["scans"] <= 1 and scans["heldout"]["count"] == 4  # the four held-out tunes scan
    assert scans["training"]["source"] == "model file" and 0 <= scans["training"]["scans"] <= 1
    assert (scans["samples"]["abc2midi"] is not None) == HAS_ABC2MIDI
    assert "outside the model's vocabulary" in result.stderr and "among the model's training tunes" in result.stderr
    text = kept.read_text()
    assert text.startswith("% 6 tunes sampled") and [ln for ln in text.splitlines() if ln.startswith("X:")][-1] == "X:6"


def test_eval_cli_bad_input_is_one_line(tiny_model, tmp_path):
    import torch

    from audiogen.runtime.modelfile import save_model

    empty, prose, held_out = tmp_path / "empty.abc", tmp_path / "prose.abc", tmp_path / "held.abc"
    empty.write_text("")
    prose.write_text("no tunes in here\n")
    held_out.write_text(GOOD)
    other = save_model(tmp_path / "other.safetensors", {"w": torch.zeros(2)}, kind="gansynth", config={})
    runs = _audiogen_all(("eval", "abc", "--model", tiny_model, "--data", empty),
                         ("eval", "abc", "--model", tiny_model, "--data", prose),
                         ("eval", "abc", "--model", other, "--data", held_out))
    _one_error_line(runs[0], str(empty), "empty file")
    _one_error_line(runs[1], str(prose), "no ABC tunes")
    _one_error_line(runs[2], str(other), "gansynth model, expected abc")
