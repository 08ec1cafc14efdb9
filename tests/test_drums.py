"""`audiogen data drums`: the name -> class table, drumkit.xml reading, licences, trimming, and the
whole command on a fake Hydrogen kit folder, a fake sonic-pi folder and pretty_midi's small SoundFont."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audiogen.data.drum_names import (CLASSES, classify_drum_name, classify_sonic_pi_name, gm_drum_class,
                                      gm_drum_name, is_sonic_pi_one_shot, normalise_name)
from audiogen.data.ranges import parse_int_list
from audiogen.data.drums import (debian_licence, read_debian_copyright, read_drumkit_xml,
                                 trim_tail)
from audiogen.errors import AudiogenError, BadInputError

SR = 22050


@pytest.mark.parametrize("name, label", [
    ("Kick", "kick"), ("BassDrum", "kick"), ("c3 - bass drum 1", "kick"), ('Kick (Tama Superstar 22")', "kick"),
    ("bd_808", "kick"), ("Djembe1 Bass", "other"),
    ("Snare Rimshot", "snare"), ("Rim Click", "snare"), ("Pearl Side Stick", "snare"), ("Snare1", "snare"),
    ("redo super opaco", "snare"), ("sn_dub", "snare"),
    ("Closed HH", "hihat"), ("Side OHH", "hihat"), ("Hi-Hat Closed (Paiste Alpha 14\")", "hihat"),
    ("Sabian Hat Swish", "hihat"), ("closehihat3", "hihat"), ("drum_cymbal_pedal", "hihat"),
    ("Tom Low", "tom"), ("tomhi2", "tom"), ("Pearl Tom Floor", "tom"), ("b3 - low tom", "tom"),
    ("crash16inch", "cymbal"), ("Ride Bell", "cymbal"), ("Paiste Bell", "cymbal"), ("China (Paiste 18\")", "cymbal"),
    ("drum_splash_soft", "cymbal"), ("drum_cymbal_hard", "cymbal"),
    ("Hand Clap", "clap"), ("Clap Snare", "clap"),
    ("Cowbell", "other"), ("Sangban1 Bell Hit", "other"), ("Tambourine Pedal", "other"), ("Conga 1", "other"),
    ("", "other"),
    # words are matched whole, never inside another word
    ("whatever", "other"), ("abd", "other"), ("isd", "other"), ("tomato", "other"), ("chat room", "other"),
    ("override", "other"), ("grimshaw", "other"),
])
def test_name_table(name, label):
    assert classify_drum_name(name) == label


def test_normalise_splits_case_digits_and_punctuation():
    assert normalise_name("BassDrum") == "bass drum"
    assert normalise_name("Hi-Hat Closed (Paiste 14\")") == "hi hat closed paiste 14"
    assert normalise_name("Djembe1_Slap") == "djembe 1 slap"


@pytest.mark.parametrize("stem, label", [
    ("drum_bass_hard", "kick"), ("drum_bass_soft", "kick"), ("drum_heavy_kick", "kick"), ("elec_hollow_kick", "kick"),
    ("drum_snare_soft", "snare"), ("elec_filt_snare", "snare"), ("drum_cymbal_closed", "hihat"),
    ("drum_cymbal_open", "hihat"), ("drum_cymbal_soft", "cymbal"), ("elec_cymbal", "cymbal"),
    ("drum_tom_mid_hard", "tom"), ("elec_fuzz_tom", "tom"), ("drum_cowbell", "other"), ("tabla_na", "other"),
])
def test_sonic_pi_names(stem, label):
    assert is_sonic_pi_one_shot(stem)
    assert classify_sonic_pi_name(stem) == label


@pytest.mark.parametrize("stem", ["ambi_choir", "bass_hit_c", "loop_amen", "guit_em9", "misc_burp", "vinyl_hiss",
                                  "glitch_perc1", "drum_roll"])
def test_sonic_pi_non_drums_are_left_out(stem):
    assert not is_sonic_pi_one_shot(stem)


def test_gm_drum_notes():
    expected = {35: "kick", 36: "kick", 37: "snare", 38: "snare", 40: "snare", 39: "clap", 42: "hihat", 44: "hihat",
                46: "hihat", 41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom", 49: "cymbal",
                51: "cymbal", 52: "cymbal", 53: "cymbal", 55: "cymbal", 57: "cymbal", 59: "cymbal", 54: "other",
                56: "other", 60: "other", 81: "other", 27: "other"}
    assert {note: gm_drum_class(note) for note in expected} == expected
    # the name table agrees with the note table on every GM1 drum name
    disagree = {n: gm_drum_name(n) for n in range(35, 82) if classify_drum_name(gm_drum_name(n)) != gm_drum_class(n)}
    assert disagree == {}
    assert set(gm_drum_class(n) for n in range(128)) == set(CLASSES)


NS_KIT = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <name>Fake Kit</name>
 <license>CC0</license>
 <instrumentList>
  <instrument><id>0</id><name>Kick</name>
   <instrumentComponent><component_id>0</component_id>
    <layer><filename>kick_soft.wav</filename><min>0</min><max>0.5</max></layer>
    <layer><filename>kick_hard.wav</filename><min>0.5</min><max>1</max></layer>
   </instrumentComponent></instrument>
  <instrument><id>1</id><name>Closed HH</name><layer><filename>hat.flac</filename></layer></instrument>
  <instrument><id>2</id><name>Cowbell</name><layer><filename>missing.wav</filename></layer></instrument>
  <instrument><id>3</id><name>Snare Rimshot</name><layer><filename>corrupt.wav</filename></layer></instrument>
  <instrument><id>4</id><name>17</name><layer><filename>emptySample.wav</filename></layer></instrument>
  <instrument><id>5</id><name>Kick again</name><layer><filename>kick_hard.wav</filename></layer></instrument>
 </instrumentList>
</drumkit_info>
"""

OLD_KIT = """<drumkit_info>
    <name>OldKit</name>
    <instrumentList>
        <instrument><id>0</id><filename>clap.wav</filename><name>Hand Clap</name></instrument>
        <instrument><id>1</id><filename>crash.wav</filename><name>Crash</name></instrument>
    </instrumentList>
</drumkit_info>
"""


def _hit(seconds: float, silence: float = 0.0, channels: int = 1, freq: float = 180.0) -> np.ndarray:
    """A decaying tone, then `silence` seconds of zeros -> (T, channels)."""
    t = np.arange(int(seconds * SR)) / SR
    hit = 0.6 * np.sin(2 * np.pi * freq * t) * np.exp(-t / (seconds / 8))
    hit = np.concatenate([hit, np.zeros(int(silence * SR))]).astype(np.float32)
    return np.stack([hit * (0.8 + 0.2 * c) for c in range(channels)], axis=1)


@pytest.fixture(scope="module")
def fake_sources(tmp_path_factory) -> dict[str, Path]:
    """A folder of three Hydrogen kits (one with a broken drumkit.xml) and a sonic-pi samples folder."""
    import soundfile as sf

    root = tmp_path_factory.mktemp("drum-sources")
    kits = root / "drumkits"
    fake, old, bad = kits / "FakeKit", kits / "OldKit", kits / "BadKit"
    for folder in (fake, old, bad):
        folder.mkdir(parents=True)
    (fake / "drumkit.xml").write_text(NS_KIT)
    sf.write(fake / "kick_soft.wav", _hit(0.2, channels=2), SR)
    sf.write(fake / "kick_hard.wav", _hit(0.3, channels=2), SR)
    sf.write(fake / "hat.flac", _hit(0.1, freq=3000.0), SR)
    (fake / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    (old / "drumkit.xml").write_text(OLD_KIT)
    sf.write(old / "clap.wav", _hit(0.15, freq=900.0), SR)
    sf.write(old / "crash.wav", _hit(0.5, silence=2.0, freq=5000.0), SR)  # 2 s of trailing silence
    (bad / "drumkit.xml").write_text("<drumkit_info><name>Bad</name><instrumentList>")  # cut short
    sonic = root / "sonic-pi-samples"
    sonic.mkdir()
    (sonic / "README.md").write_text("All samples ... placed in the public domain via the Creative Commons 0 License\n")
    for stem in ("bd_fake", "drum_cymbal_closed", "ambi_pad"):
        sf.write(sonic / f"{stem}.flac", _hit(0.2), SR)
    return {"kits": kits, "sonic": sonic}


def test_read_drumkit_xml_namespaced_layers_and_old_style(fake_sources):
    info = read_drumkit_xml(fake_sources["kits"] / "FakeKit" / "drumkit.xml")
    assert info["name"] == "Fake Kit" and info["licence"] == "CC0"
    assert info["instruments"][0] == ("Kick", ["kick_soft.wav", "kick_hard.wav"])
    assert info["instruments"][1] == ("Closed HH", ["hat.flac"])
    old = read_drumkit_xml(fake_sources["kits"] / "OldKit" / "drumkit.xml")
    assert old["licence"] == "" and old["instruments"] == [("Hand Clap", ["clap.wav"]), ("Crash", ["crash.wav"])]
    with pytest.raises(BadInputError, match="unparsable drumkit.xml"):
        read_drumkit_xml(fake_sources["kits"] / "BadKit" / "drumkit.xml")


def test_debian_copyright_licences(tmp_path):
    path = tmp_path / "copyright"
    path.write_text("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                    "Files: *\nCopyright: someone\nLicense: MIT\n\n"
                    "Files:\n drumkits/Gimme?A?Hand?1.0.h2drumkit\n drumkits/OldKit.h2drumkit\n"
                    "Copyright: Glen\nLicense: GPL-2\n\n"
                    "Files: drumkits/OldKit.h2drumkit\nLicense: CC-BY-3.0\n This text is the licence.\n\n"
                    "License: GPL-2\n Full text.\n")
    stanzas = read_debian_copyright(path)
    assert stanzas[0] == (("*",), "MIT") and len(stanzas) == 3
    assert debian_licence(stanzas, ["Gimme A Hand 1.0"]) == "GPL-2"
    assert debian_licence(stanzas, ["OldKit"]) == "CC-BY-3.0"  # the last matching stanza wins
    assert debian_licence(stanzas, ["Other"]) is None  # a bare * is the package's code, not a kit
    assert read_debian_copyright(tmp_path / "nope") == []


def test_trim_tail_cuts_silence_and_fades():
    wave = _hit(0.3, silence=1.5).T  # (1, T)
    out = trim_tail(wave, SR)
    assert 0.1 * SR < out.shape[1] < 0.32 * SR
    assert out[0, -1] == 0.0
    np.testing.assert_array_equal(out[:, : SR // 20], wave[:, : SR // 20])
    assert trim_tail(np.zeros((2, 100), np.float32), SR).shape == (2, 0)


def test_parse_int_list():
    assert parse_int_list("40,80,120", "--velocities", 1, 127) == [40, 80, 120]
    assert parse_int_list("36,38,42-44", "--notes", 0, 127) == [36, 38, 42, 43, 44]
    for bad in ("0,40", "40,x", "50-40"):
        with pytest.raises(AudiogenError):
            parse_int_list(bad, "--velocities", 1, 127)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "audiogen", "data", "drums", *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"})


def _sources(fake_sources):
    return ["--source", "hydrogen", "--source", "sonic-pi", "--hydrogen-dir", fake_sources["kits"],
            "--sonic-pi-dir", fake_sources["sonic"]]


def test_cli_builds_library_and_refuses_to_overwrite(fake_sources, tmp_path):
    import soundfile as sf

    out = tmp_path / "lib"
    result = _run("--out", out, *_sources(fake_sources), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # exactly one JSON document
    assert summary["classes"] == {"kick": 3, "snare": 0, "hihat": 2, "tom": 0, "cymbal": 1, "clap": 1, "other": 0}
    assert summary["files"] == 7
    assert summary["dropped"] == {"placeholder": 1, "duplicate": 1, "not_one_shot": 1, "silent": 0}
    assert summary["skipped"]["count"] == 3
    skipped = {Path(f["path"]).name for f in summary["skipped"]["files"]}
    assert skipped == {"drumkit.xml", "missing.wav", "corrupt.wav"}
    for name in ("BadKit/drumkit.xml", "missing.wav", "corrupt.wav"):  # a warning line names each
        assert any(name in line and "warning" in line for line in result.stderr.splitlines()), name
    kits = {k["kit"]: k for k in summary["kits"]}
    assert set(kits) == {"FakeKit", "OldKit", "sonic-pi"}
    assert kits["FakeKit"]["licence"] == "CC0" and kits["OldKit"]["licence"] == "unknown"
    assert kits["sonic-pi"]["licence"] == "CC0" and kits["FakeKit"]["classes"]["kick"] == 2
    assert summary["args"]["source"] == ["hydrogen", "sonic-pi"]

    assert sorted(p.name for p in out.iterdir()) == sorted([*CLASSES, "manifest.csv"])
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and {r["file"] for r in rows} == {
        "kick/FakeKit__Kick__l1.wav", "kick/FakeKit__Kick__l2.wav", "hihat/FakeKit__Closed_HH__l1.wav",
        "clap/OldKit__Hand_Clap__l1.wav", "cymbal/OldKit__Crash__l1.wav", "kick/sonic-pi__bd_fake__l1.wav",
        "hihat/sonic-pi__drum_cymbal_closed__l1.wav"}
    for row in rows:
        info = sf.info(out / row["file"])
        assert info.samplerate == SR == int(row["sample_rate"]) and info.channels == int(row["channels"])
        assert row["class"] == row["file"].split("/")[0] and Path(row["source_file"]).is_file()
    by_file = {r["file"]: r for r in rows}
    assert by_file["kick/FakeKit__Kick__l1.wav"]["channels"] == "2"  # stereo kept
    assert by_file["kick/FakeKit__Kick__l2.wav"]["source_file"].endswith("kick_hard.wav")
    assert float(by_file["cymbal/OldKit__Crash__l1.wav"]["seconds"]) < 0.55  # 2 s of silence trimmed
    assert by_file["hihat/sonic-pi__drum_cymbal_closed__l1.wav"]["licence"] == "CC0"

    again = _run("--out", out, *_sources(fake_sources))
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and str(out) in again.stderr and "--force" in again.stderr
    (out / "notes.txt").write_text("mine")
    (out / "other" / "stale.wav").write_bytes(b"old")
    forced = _run("--out", out, "--source", "sonic-pi", "--sonic-pi-dir", fake_sources["sonic"], "--force", "-q")
    assert forced.returncode == 0, forced.stderr
    assert (out / "notes.txt").read_text() == "mine"  # only the class folders and manifest are replaced
    assert not (out / "other" / "stale.wav").exists()
    assert sorted(p.name for p in (out / "kick").iterdir()) == ["sonic-pi__bd_fake__l1.wav"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_cli_strict_stops_at_first_bad_file(fake_sources, tmp_path):
    out = tmp_path / "lib"
    result = _run("--out", out, *_sources(fake_sources), "--strict")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BadKit" in lines[0] and "drumkit.xml" in lines[0] and "--strict" in lines[0]
    assert not out.exists()


def test_cli_asked_source_missing(tmp_path):
    result = _run("--out", tmp_path / "lib", "--source", "hydrogen", "--hydrogen-dir", tmp_path)
    assert result.returncode == 2 and "--source hydrogen: no Hydrogen kits" in result.stderr
    assert result.stderr.strip().count("\n") == 0 and not (tmp_path / "lib").exists()


def test_soundfont_renders(tmp_path):
    import soundfile as sf

    from audiogen.data.drums import build_drum_library, read_manifest
    from audiogen.data.soundfonts import fluidsynth_available, small_soundfont

    ok, why = fluidsynth_available()
    if not ok or small_soundfont() is None:
        pytest.skip(f"no FluidSynth or small SoundFont: {why}")
    summary = build_drum_library(tmp_path / "lib", sources=["soundfont"], soundfonts=[small_soundfont()],
                                 notes=[36, 42, 49, 89], velocities=[40, 120], quiet=True)
    assert summary["classes"] == {"kick": 2, "snare": 0, "hihat": 2, "tom": 0, "cymbal": 2, "clap": 0, "other": 0}
    assert summary["dropped"]["silent"] == 2  # TimGM6mb has no sound on note 89
    assert summary["kits"][0]["licence"] == "GPL-2"
    rows = {r["file"]: r for r in read_manifest(tmp_path / "lib")}
    kick = rows["kick/TimGM6mb__36_Bass_Drum_1__v120.wav"]
    assert kick["velocity"] == "120" and kick["source"] == "soundfont" and kick["sample_rate"] == "44100"
    soft, loud = (sf.read(tmp_path / "lib" / f"kick/TimGM6mb__36_Bass_Drum_1__v{v}.wav")[0] for v in ("040", "120"))
    assert np.abs(loud).max() > np.abs(soft).max() > 1e-3
    assert len(loud) < 1.0 * 44100  # a kick is short once the 4 s render's silence is cut
