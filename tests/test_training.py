"""audiogen.runtime.training: resume is bit-exact, metrics stay unique, fine-tuning, Ctrl-C."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from audiogen.errors import AudiogenError, BadInputError
from audiogen.runtime.checkpoint import load_checkpoint
from audiogen.runtime.modelfile import load_model
from audiogen.runtime.seeding import make_generator, seed_everything
from audiogen.runtime.training import TrainingInterrupted, TrainingRun, read_run_config

REPO = Path(__file__).resolve().parents[1]
CONFIG = {"in_features": 8, "lr": 0.05, "batch": 32}

# A fixed linear-regression problem: y = X w + 0.5 + small noise.
_g = make_generator(1234)
X = torch.randn(256, 8, generator=_g)
Y = X @ torch.randn(8, 1, generator=_g) + 0.5 + 0.01 * torch.randn(256, 1, generator=_g)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _parts(in_features: int = 8):
    torch.manual_seed(0)
    model = nn.Linear(in_features, 1)
    opt = torch.optim.SGD(model.parameters(), lr=CONFIG["lr"], momentum=0.5)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.8)
    return model, opt, sched


def _train(out, total, *, resume=False, init_from=None, stop_after=None, every=5, config=CONFIG):
    """Train the toy model; every RNG (python, numpy, torch) feeds into the updates."""
    seed_everything(0)
    model, opt, sched = _parts()
    run = TrainingRun(
        out, kind="toy", config=config, modules={"model": model}, optimizers={"opt": opt},
        schedulers={"sched": sched}, total_steps=total, checkpoint_every=every,
        resume=resume, init_from=init_from, quiet=True,
    )
    for step in run.steps():
        idx = torch.randint(0, len(X), (CONFIG["batch"],))
        scale = 1.0 + 0.01 * random.random() + 0.01 * float(np.random.rand())
        loss = scale * nn.functional.mse_loss(model(X[idx]), Y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run.state["seen"] = run.state.get("seen", 0) + len(idx)
        run.log(step + 1, loss=loss.detach(), lr=sched.get_last_lr()[0])
        if stop_after is not None and step == stop_after:
            break
    return run, model


def _metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _full_loss(model) -> float:
    with torch.no_grad():
        return nn.functional.mse_loss(model(X), Y).item()


def test_resume_is_bit_exact(tmp_path):
    straight, m_straight = _train(tmp_path / "a", 20)
    assert straight.step == 20

    first, _ = _train(tmp_path / "b", 10)
    assert first.step == 10 and load_checkpoint(tmp_path / "b" / "checkpoint.pt")["step"] == 10
    resumed, m_resumed = _train(tmp_path / "b", 20, resume=True)
    assert resumed.step == 20 and resumed.state["seen"] == 20 * CONFIG["batch"]

    for (name, p), q in zip(m_straight.named_parameters(), m_resumed.parameters()):
        assert torch.equal(p, q), name
    a, b = _metrics(tmp_path / "a"), _metrics(tmp_path / "b")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, 21))
    assert [(r["loss"], r["lr"]) for r in a] == [(r["loss"], r["lr"]) for r in b]
    assert b[10]["time"] >= b[9]["time"]  # time counts on across sessions

    ck_a = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    ck_b = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert ck_a["step"] == ck_b["step"] == 20
    assert ck_a["state"] == ck_b["state"]
    assert torch.equal(ck_a["optimizers"]["opt"]["state"][0]["momentum_buffer"],
                       ck_b["optimizers"]["opt"]["state"][0]["momentum_buffer"])
    assert ck_a["schedulers"] == ck_b["schedulers"]


def test_resume_after_crash_drops_replayed_metrics(tmp_path):
    straight, m_straight = _train(tmp_path / "a", 20)
    # Stop inside step 7: the last checkpoint is from step 5, metrics already hold steps 1..8.
    _train(tmp_path / "b", 20, stop_after=7)
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["step"] == 5
    with open(tmp_path / "b" / "metrics.jsonl", "a") as f:
        f.write('{"step": 9, "lo')  # a line torn by the crash
    _, m_resumed = _train(tmp_path / "b", 20, resume=True)
    assert [r["step"] for r in _metrics(tmp_path / "b")] == list(range(1, 21))
    assert torch.equal(m_straight.weight, m_resumed.weight)


def test_toy_model_learns(tmp_path):
    run, model = _train(tmp_path / "run", 60, every=0)
    losses = [r["loss"] for r in _metrics(tmp_path / "run")]
    assert losses[-1] < losses[0] / 50
    assert _full_loss(model) < 0.01
    assert read_run_config(tmp_path / "run") == CONFIG
    assert ".audiogen.lock" in {p.name for p in (tmp_path / "run").iterdir()}  # held until the trainer is done
    run.close()
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]


def test_refuses_to_start_over_a_checkpoint(tmp_path):
    _train(tmp_path / "run", 5)
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    with pytest.raises(AudiogenError) as e:
        _train(tmp_path / "run", 5)
    assert str(e.value) == (
        f"{tmp_path / 'run'}: already holds a training run (checkpoint.pt); "
        "pass --resume to continue it or choose another --out"
    )
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(BadInputError) as e:
        _train(tmp_path / "empty", 5, resume=True)
    assert str(tmp_path / "empty" / "checkpoint.pt") in str(e.value)


def test_resume_with_other_kind_is_refused(tmp_path):
    _train(tmp_path / "run", 3)
    model, opt, _ = _parts()
    with pytest.raises(BadInputError, match="is a toy training run, expected abc"):
        TrainingRun(tmp_path / "run", kind="abc", config=CONFIG, modules={"model": model},
                    optimizers={"opt": opt}, total_steps=5, checkpoint_every=1, resume=True)


def test_resume_saved_config_wins(tmp_path, capsys):
    _train(tmp_path / "run", 3)
    capsys.readouterr()
    run, _ = _train(tmp_path / "run", 6, resume=True, config={**CONFIG, "lr": 9.0})
    assert run.config == CONFIG
    err = capsys.readouterr().err
    assert "warning:" in err and "(lr)" in err and "saved config" in err
    assert read_run_config(tmp_path / "run") == CONFIG


def test_resume_beyond_total_does_nothing(tmp_path):
    _train(tmp_path / "run", 4)
    run, _ = _train(tmp_path / "run", 4, resume=True)
    assert run.step == 4 and len(_metrics(tmp_path / "run")) == 4


def test_export_and_init_from(tmp_path):
    run, model = _train(tmp_path / "a", 20)
    path = run.export(extra={"note": "toy"})
    assert path == tmp_path / "a" / "model.safetensors"
    loaded = load_model(path, kind="toy")
    assert loaded.config == CONFIG and loaded.extra == {"trained_steps": 20, "note": "toy"}
    assert set(loaded.tensors) == {"model.weight", "model.bias"}

    # Fine-tune from the exported model: the new run starts from its weights.
    seed_everything(1)
    fresh, opt, _ = _parts()
    ft = TrainingRun(tmp_path / "ft", kind="toy", config=CONFIG, modules={"model": fresh},
                     optimizers={"opt": opt}, total_steps=5, checkpoint_every=5, init_from=path, quiet=True)
    assert ft.step == 0
    for p, q in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(p, q)

    half = run.export(dtype=torch.float16)
    assert load_model(half).tensors["model.weight"].dtype == torch.float16


def test_init_from_rejects_mismatches(tmp_path):
    run, _ = _train(tmp_path / "a", 2)
    path = run.export()
    small = nn.Linear(4, 1)
    with pytest.raises(BadInputError) as e:
        TrainingRun(tmp_path / "b", kind="toy", config=CONFIG, modules={"model": small},
                    optimizers={"opt": torch.optim.SGD(small.parameters(), lr=0.1)},
                    total_steps=2, checkpoint_every=1, init_from=path, quiet=True)
    assert str(e.value).startswith(f"{path}: ") and "model.weight" in str(e.value)
    assert "(1, 8)" in str(e.value) and "(1, 4)" in str(e.value)
    assert not (tmp_path / "b").exists()  # nothing created for a run that could not start

    model, opt, _ = _parts()
    with pytest.raises(BadInputError, match="is a toy model, expected abc"):
        TrainingRun(tmp_path / "c", kind="abc", config=CONFIG, modules={"model": model},
                    optimizers={"opt": opt}, total_steps=2, checkpoint_every=1, init_from=path)
    with pytest.raises(BadInputError, match="unexpected tensor model.bias"):
        bare = nn.Linear(8, 1, bias=False)
        TrainingRun(tmp_path / "d", kind="toy", config=CONFIG, modules={"model": bare},
                    optimizers={"opt": torch.optim.SGD(bare.parameters(), lr=0.1)},
                    total_steps=2, checkpoint_every=1, init_from=path)


def test_bad_arguments(tmp_path):
    model, opt, _ = _parts()
    common = dict(kind="toy", config=CONFIG, modules={"model": model}, optimizers={"opt": opt})
    with pytest.raises(AudiogenError, match="--checkpoint-every -1"):
        TrainingRun(tmp_path / "r", total_steps=2, checkpoint_every=-1, **common)
    with pytest.raises(AudiogenError, match="--init-from cannot be combined with --resume"):
        TrainingRun(tmp_path / "r", total_steps=2, checkpoint_every=1, resume=True, init_from="x", **common)
    (tmp_path / "file").write_text("")
    with pytest.raises(BadInputError, match="not a directory"):
        TrainingRun(tmp_path / "file", total_steps=2, checkpoint_every=1, **common)


def test_sigint_handler_is_restored(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    _train(tmp_path / "a", 3)
    assert signal.getsignal(signal.SIGINT) is before
    _train(tmp_path / "b", 10, stop_after=2)  # leaving the loop early restores it too
    assert signal.getsignal(signal.SIGINT) is before


def test_summary_line(tmp_path, capsys):
    seed_everything(0)
    model, opt, _ = _parts()
    run = TrainingRun(tmp_path / "run", kind="toy", config=CONFIG, modules={"model": model},
                      optimizers={"opt": opt}, total_steps=3, checkpoint_every=0)
    for step in run.steps():
        pass
    err = capsys.readouterr().err
    assert "toy: trained steps 0..3 of 3 in" in err and str(tmp_path / "run") in err
    assert capsys.readouterr().out == ""


# -- Ctrl-C in a real process ---------------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import torch
    from audiogen.errors import AudiogenError
    from audiogen.runtime.training import TrainingRun

    out, pause = sys.argv[1], float(sys.argv[2])
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    try:
        run = TrainingRun(out, kind="toy", config={}, modules={"model": model},
                          optimizers={"opt": opt}, total_steps=1000, checkpoint_every=1000)
        for step in run.steps():
            time.sleep(pause if step else 0.05)  # the first step is quick: the test waits for it
            run.log(step + 1, loss=0.0)
    except AudiogenError as e:
        print(e, file=sys.stderr)
        sys.exit(e.exit_code)
    """
)


def _start(tmp_path: Path, pause: float) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "train_toy.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    env = dict(os.environ, HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO))
    err = open(tmp_path / "stderr.txt", "w")
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(pause)],
                            stdout=subprocess.DEVNULL, stderr=err, env=env)
    err.close()
    deadline = time.monotonic() + 60
    metrics = out / "metrics.jsonl"
    while not (metrics.exists() and metrics.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"training script never logged a step:\n{(tmp_path / 'stderr.txt').read_text()}")
        time.sleep(0.02)
    return proc, out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_saves_a_checkpoint(tmp_path):
    proc, out = _start(tmp_path, pause=0.2)
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=60)
    finally:
        proc.kill()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert rc == TrainingInterrupted.exit_code == 130, stderr
    ckpt = load_checkpoint(out / "checkpoint.pt")
    done = len(_metrics(out))
    assert ckpt["step"] == done >= 1
    assert f"interrupted at step {done}; checkpoint saved to {out / 'checkpoint.pt'}; continue with --resume" in stderr
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_second_ctrl_c_aborts_at_once(tmp_path):
    proc, out = _start(tmp_path, pause=3.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=60)
    finally:
        proc.kill()
    assert rc not in (0, 130)  # KeyboardInterrupt, not a clean interrupt
    assert time.monotonic() - t0 < 2.5  # did not wait for the 3 s step to finish
    assert "KeyboardInterrupt" in (tmp_path / "stderr.txt").read_text()
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]
