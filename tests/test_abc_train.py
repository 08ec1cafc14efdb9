"""ABC char-LSTM training: vocabulary, data stream, learning, resume, fine-tuning, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from audiogen.abc.data import EpochStream, split_by_tune, training_text
from audiogen.notation.tunes import fingerprint, header_field, tune_body
from audiogen.abc.vocab import CharVocab

TUNES = [
    "X:1\nT:First\nM:6/8\nL:1/8\nK:G\nGAB cBA|GAB d2e|dBG AFD|GBA G3:|\n",
    "X:2\nT:Second\nM:3/4\nL:1/8\nK:D\nd2 fe dc|B2 A2 F2|G2 E2 C2|D6:|\n",
    "X:3\nT:Third\nM:4/4\nL:1/8\nK:Ador\nEAAB c2BA|GEDE G2AB|c2BA GEDE|1 EAAG A4:|\n",
]
# small enough to train in seconds on 2 cores, big enough to memorise three tunes
TINY = dict(embed=32, hidden=96, layers=1, dropout=0.0, seq_len=32, batch_size=4, lr=1e-2, lr_final=1e-3,
            val_fraction=0.0, log_every=10, val_every=1000)


def _write_tunes(path: Path, tunes=TUNES, copies: int = 1) -> Path:
    path.write_text("\n".join(tunes * copies))
    return path


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiogen", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "CI": "1", "OMP_NUM_THREADS": "1"}, timeout=300)


def test_vocab_round_trip_and_unknown_characters():
    vocab = CharVocab.from_texts(TUNES)
    for tune in TUNES:
        assert vocab.decode(vocab.encode(tune)) == tune
    assert vocab.unknown("X:1\nK:G\n€ü") == ["ü", "€"]
    assert CharVocab.from_json(vocab.to_json()) == vocab
    with pytest.raises(KeyError):
        vocab.encode("€")


def test_training_text_and_split_by_tune():
    assert training_text("X:1\nK:G\nGAB|\n\n\n") == "X:1\nK:G\nGAB|\n\n"
    credited = "X:1\nT:Jig\nC:O'Carolan\nZ:someone\nB:O'Neill's 687\nN:lively\nM:6/8\nK:G\nGAB|\nN:kept\n"
    assert training_text(credited) == "X:1\nT:Jig\nM:6/8\nK:G\nGAB|\nN:kept\n\n"  # credits go, the body stays
    texts = [f"X:{i}\nK:G\nG|\n\n" for i in range(20)]
    train, val = split_by_tune(texts, 0.1, seed=3)
    assert len(val) == 2 and len(train) == 18 and not set(train) & set(val)
    assert split_by_tune(texts, 0.1, seed=3) == (train, val)  # seeded
    assert split_by_tune(texts[:2], 0.01, seed=0)[1]  # at least one validation tune when asked


def test_epoch_stream_replays_from_a_saved_position():
    texts = [training_text(t) for t in TUNES * 4]
    vocab = CharVocab.from_texts(texts)
    stream = EpochStream(texts, vocab, batch=2, seq_len=16, seed=5)
    for _ in range(7):
        stream.next()
    saved = stream.position()
    ahead = [stream.next() for _ in range(30)]  # crosses an epoch boundary
    assert any(new_epoch for _, _, new_epoch in ahead)
    again = EpochStream(texts, vocab, batch=2, seq_len=16, seed=5)
    again.restore(saved)
    for (x1, y1, e1), (x2, y2, e2) in zip(ahead, (again.next() for _ in range(30))):
        assert torch.equal(x1, x2) and torch.equal(y1, y2) and e1 == e2
    x, y, _ = ahead[0]
    assert x.shape == y.shape == (2, 16) and torch.equal(x[:, 1:], y[:, :-1])
    with pytest.raises(ValueError, match="cannot fill one batch"):
        EpochStream(texts[:1], vocab, batch=64, seq_len=128, seed=0)


def test_tune_facts_ignore_numbers_titles_and_spacing():
    a = "X:1\nT:One\nM:6/8\nK:G\nGAB cBA|%comment\n GAB d2e|\n"
    b = "X:7\nT:Renamed\nM:6/8\nK:G\nGABcBA|GABd2e|\n"
    assert fingerprint(a) == fingerprint(b) and tune_body(a) == "GABcBA|GABd2e|"
    assert fingerprint("X:1\nT:no body\n") == ""
    assert (header_field(a, "M"), header_field(a, "K"), header_field(a, "L")) == ("6/8", "G", None)


def test_tiny_model_learns_three_tunes_and_resume_continues_the_run(tmp_path):
    from audiogen.abc.train import AbcTrainConfig, train_abc

    data = _write_tunes(tmp_path / "three.abc", copies=4)
    config = AbcTrainConfig(**TINY)
    torch.set_num_threads(1)
    full = train_abc([data], tmp_path / "full", config=config, steps=240, checkpoint_every=120, quiet=True,
                     device="cpu")
    metrics = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    bpc = [m["train_bpc"] for m in metrics if "train_bpc" in m]
    assert bpc[0] > 3.0 and bpc[-1] < 0.5, bpc  # from ~log2(vocab) to nearly memorised
    assert full["steps"] == 240 and full["train_tunes"] == 12

    # the same run stopped after 120 steps and resumed ends with the same weights
    half = train_abc([data], tmp_path / "half", config=config, steps=240, checkpoint_every=60, quiet=True,
                     device="cpu", stop=lambda step: step >= 120)
    assert half["steps"] == 120 and half["stopped_early"]
    resumed = train_abc([data], tmp_path / "half", config=config, steps=240, checkpoint_every=120, quiet=True,
                        device="cpu", resume=True)
    assert resumed["steps"] == 240
    from audiogen.runtime.modelfile import load_model

    a = load_model(tmp_path / "full" / "model.safetensors", kind="abc")
    b = load_model(tmp_path / "half" / "model.safetensors", kind="abc")
    assert a.extra["vocab"] == b.extra["vocab"] and a.extra["trained_steps"] == b.extra["trained_steps"] == 240
    for name, tensor in a.tensors.items():
        assert torch.equal(tensor, b.tensors[name]), name
    assert len(a.extra["train_fingerprints"]) == 3
    assert a.extra["meter_histogram"] == {"6/8": 4, "3/4": 4, "4/4": 4}


def test_time_limit_stops_with_a_checkpoint_that_resumes(tmp_path):
    from audiogen.abc.train import AbcTrainConfig, train_abc

    data = _write_tunes(tmp_path / "three.abc", copies=4)
    config = AbcTrainConfig(**TINY)
    stopped = train_abc([data], tmp_path / "run", config=config, steps=100000, quiet=True, device="cpu",
                        time_limit=0.0)
    assert stopped["stopped_early"] and stopped["steps"] == 0
    assert (tmp_path / "run" / "checkpoint.pt").is_file() and (tmp_path / "run" / "model.safetensors").is_file()
    more = train_abc([data], tmp_path / "run", config=config, steps=5, quiet=True, device="cpu", resume=True)
    assert more["steps"] == 5 and not more["stopped_early"]


def test_init_from_fine_tunes_a_model_keeping_its_vocabulary(tmp_path):
    from audiogen.abc.train import AbcTrainConfig, train_abc
    from audiogen.runtime.modelfile import load_model

    base_data = _write_tunes(tmp_path / "base.abc", copies=4)
    train_abc([base_data], tmp_path / "base", config=AbcTrainConfig(**TINY), steps=20, quiet=True, device="cpu")
    base = tmp_path / "base" / "model.safetensors"
    user = _write_tunes(tmp_path / "user.abc", [TUNES[0].replace("X:1", "X:3"), "X:2\nT:Ünknown\nK:G\nGAB|\n"])
    tuned = train_abc([user], tmp_path / "tuned", config=AbcTrainConfig(**{**TINY, "batch_size": 1, "seq_len": 16}),
                      steps=10, quiet=True, device="cpu", init_from=base)
    assert tuned["train_tunes"] == 1  # the tune with Ü is outside the vocabulary: left out
    before, after = load_model(base), load_model(tmp_path / "tuned" / "model.safetensors")
    assert after.extra["vocab"] == before.extra["vocab"]
    assert any(not torch.equal(before.tensors[n], after.tensors[n]) for n in before.tensors)


@pytest.mark.skipif(not (Path(__file__).parent.parent / "assets" / "models" / "abc.safetensors").is_file(),
                    reason="no bundled ABC model in this checkout")
def test_init_from_the_bundled_model(tmp_path):
    from audiogen.abc.load import load_abc_model
    from audiogen.abc.train import CONFIGS, train_abc

    bundled = load_abc_model()
    user = _write_tunes(tmp_path / "user.abc", copies=2)
    summary = train_abc([user], tmp_path / "tuned", config=replace(CONFIGS["default"], batch_size=2, seq_len=32),
                        steps=3, quiet=True, device="cpu", init_from=bundled.path)
    tuned = load_abc_model(summary["model"])
    assert tuned.vocab == bundled.vocab and tuned.config["hidden"] == bundled.config["hidden"]


@pytest.mark.parametrize("case", ["no_tunes", "empty", "missing", "other_family", "too_little_data"])
def test_train_cli_bad_input_is_one_line_exit_2(tmp_path, case):
    args = ["train", "abc", "--out", tmp_path / "run", "--config", "small", "--steps", "2"]
    if case == "no_tunes":
        (tmp_path / "prose.abc").write_text("% only a comment\n")
        args += ["--data", tmp_path / "prose.abc"]
    elif case == "empty":
        (tmp_path / "empty.abc").write_text("")
        args += ["--data", tmp_path / "empty.abc"]
    elif case == "missing":
        args += ["--data", tmp_path / "nope.abc"]
    elif case == "other_family":
        from audiogen.runtime.modelfile import save_model

        save_model(tmp_path / "gan.safetensors", {"w": torch.zeros(2)}, kind="gansynth", config={})
        args += ["--data", _write_tunes(tmp_path / "t.abc"), "--init-from", tmp_path / "gan.safetensors"]
    elif case == "too_little_data":
        args += ["--data", _write_tunes(tmp_path / "t.abc"), "--batch-size", "64"]
    run = _cli(*args)
    assert run.returncode == 2, (case, run.stderr)
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("audiogen: error:") and "Traceback" not in run.stderr, run.stderr
    if case in ("no_tunes", "empty", "missing"):
        assert str(tmp_path) in last
    if case == "other_family":
        assert "is a gansynth model, expected abc" in last
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
