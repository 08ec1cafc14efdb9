"""audiogen.runtime: atomic files, devices, seeding, model files, checkpoints, progress, assets."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import audiogen
from audiogen.errors import AudiogenError, BadInputError
from audiogen.runtime.assets import bundled_model_path, bundled_models, models_dir
from audiogen.runtime.atomic import atomic_output, atomic_write_bytes, atomic_write_text
from audiogen.runtime.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from audiogen.runtime.device import describe_devices, resolve_device
from audiogen.runtime.modelfile import FORMAT_VERSION, file_sha256, load_model, save_model
from audiogen.runtime.progress import make_progress, stderr_console
from audiogen.runtime.seeding import make_generator, seed_everything

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
    yield
    torch.set_flush_denormal(False)  # resolve_device("cpu") sets it process-wide


class Boom(Exception):
    pass


class _Evil:
    """Unpickling this creates a directory: proof that a loader executed pickle code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


# -- atomic ---------------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name)


def test_atomic_output_replaces_on_success(tmp_path):
    target = tmp_path / "sub" / "dir" / "out.png"  # parents are created
    with atomic_output(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp.name.endswith(".png") and tmp.name.startswith(".out.png.tmp-")
        assert not target.exists()
        tmp.write_bytes(b"first")
    assert target.read_bytes() == b"first"
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"second")
    assert target.read_bytes() == b"second"
    assert _leftovers(target.parent) == []


def test_atomic_output_gives_the_umask_mode_even_when_the_writer_recreates_the_file(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "model.bin") as tmp:
            tmp.unlink()  # as safetensors does: a new file, created 0o600
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        assert (tmp_path / "model.bin").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


@pytest.mark.parametrize("exc", [Boom, KeyboardInterrupt])
def test_atomic_output_failure_keeps_old_file(tmp_path, exc):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(exc):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half-writ")
            raise exc()
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_atomic_output_suffix_and_helpers(tmp_path):
    with atomic_output(tmp_path / "a.wav", suffix=".flac") as tmp:
        assert tmp.suffix == ".flac"
        tmp.write_bytes(b"x")
    assert atomic_write_text(tmp_path / "t.txt", "héllo\n").read_text(encoding="utf-8") == "héllo\n"
    assert atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


# -- device ---------------------------------------------------------------------------------


def test_resolve_device_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert resolve_device() == torch.device("cpu")
        assert resolve_device("auto") == torch.device("cpu")


def test_resolve_device_cpu_flushes_denormals():
    resolve_device("cpu")
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    assert (torch.tensor([1e-39]) * 1.0).item() == 0.0


def test_resolve_device_unavailable_cuda():
    if torch.cuda.is_available():
        with pytest.raises(AudiogenError, match=r"only \d+ CUDA device"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
        return
    with pytest.raises(AudiogenError, match=r"^--device cuda: CUDA is not available") as e:
        resolve_device("cuda")
    assert "\n" not in str(e.value) and torch.__version__ in str(e.value)
    with pytest.raises(AudiogenError, match=r"^--device cuda:3: "):
        resolve_device("cuda:3")


def test_resolve_device_mps_unavailable():
    if torch.backends.mps.is_available():
        pytest.skip("MPS present")
    with pytest.raises(AudiogenError, match="MPS is not available"):
        resolve_device("mps")


@pytest.mark.parametrize("spec", ["foo", "", "cuda:", "cuda:x", "cpu:0", "gpu", "cuda:-1"])
def test_resolve_device_malformed(spec):
    with pytest.raises(AudiogenError, match="expected auto, cpu, cuda, cuda:N or mps") as e:
        resolve_device(spec)
    assert str(e.value).startswith(f"--device {spec}:")


def test_describe_devices():
    d = describe_devices()
    assert {"cuda", "cuda_available", "mps_available", "cpu_threads", "cpu_count"} <= set(d)
    assert d["cuda_available"] == torch.cuda.is_available()
    assert len(d["cuda"]) == (torch.cuda.device_count() if d["cuda_available"] else 0)
    assert d["cpu_threads"] == torch.get_num_threads() and d["cpu_count"] == os.cpu_count()
    json.dumps(d)


# -- seeding --------------------------------------------------------------------------------


def _draws():
    return (random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist())


def test_seed_everything_reproduces():
    assert seed_everything(1234) == 1234
    a = _draws()
    seed_everything(1234)
    assert _draws() == a
    seed_everything(1235)
    assert _draws() != a


def test_seed_everything_none_draws_a_reusable_seed():
    s = seed_everything(None)
    assert isinstance(s, int) and 0 <= s <= 2**31 - 1
    a = _draws()
    assert seed_everything(s) == s
    assert _draws() == a
    assert len({seed_everything(None) for _ in range(5)}) > 1


def test_seed_everything_rejects_out_of_range():
    with pytest.raises(AudiogenError, match="--rng-seed -1"):
        seed_everything(-1)


def test_make_generator_is_independent_of_global_rng():
    a = torch.randn(4, generator=make_generator(7))
    torch.manual_seed(0)
    torch.randn(10)
    b = torch.randn(4, generator=make_generator(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, torch.randn(4, generator=make_generator(8)))


# -- model files ----------------------------------------------------------------------------


def _tensors():
    g = make_generator(0)
    return {
        "model.weight": torch.randn(4, 3, generator=g),
        "model.bias": torch.randn(4, generator=g),
        "model.steps": torch.arange(5, dtype=torch.int64),
    }


def test_model_file_round_trip(tmp_path):
    tensors = _tensors()
    path = save_model(
        tmp_path / "m.safetensors", tensors, kind="toy",
        config={"hidden": 4, "sizes": [1, 2]}, extra={"vocab": ["a", "b", "\n"], "sr": 16000},
    )
    assert path == tmp_path / "m.safetensors" and _leftovers(tmp_path) == []
    m = load_model(path, kind="toy")
    assert m.kind == "toy" and m.format_version == FORMAT_VERSION
    assert m.config == {"hidden": 4, "sizes": [1, 2]}
    assert m.extra == {"vocab": ["a", "b", "\n"], "sr": 16000}
    assert m.audiogen_version == audiogen.__version__
    assert m.sha256 == file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(m.tensors) == set(tensors)
    for k, t in tensors.items():
        assert torch.equal(m.tensors[k], t) and m.tensors[k].dtype == t.dtype
    assert set(m.state_dict(prefix="model.")) == {"weight", "bias", "steps"}
    assert load_model(path).kind == "toy"  # kind=None accepts any kind


def test_model_file_float16_export(tmp_path):
    tensors = _tensors()
    path = save_model(tmp_path / "h.safetensors", tensors, kind="toy", config={}, dtype=torch.float16)
    m = load_model(path)
    assert m.tensors["model.weight"].dtype == torch.float16
    assert m.tensors["model.steps"].dtype == torch.int64
    sd = m.state_dict()
    assert sd["model.weight"].dtype == torch.float32 and sd["model.steps"].dtype == torch.int64
    torch.testing.assert_close(sd["model.weight"], tensors["model.weight"], atol=2e-3, rtol=1e-3)
    assert path.stat().st_size < save_model(tmp_path / "f.safetensors", tensors, kind="toy", config={}).stat().st_size


def test_model_file_shared_and_strided_tensors(tmp_path):
    w = torch.randn(6, 4)
    tensors = {"a.weight": w, "b.weight": w, "c": w[:, 1], "d": w.t()}
    m = load_model(save_model(tmp_path / "s.safetensors", tensors, kind="toy", config={}))
    for k, t in tensors.items():
        assert torch.equal(m.tensors[k], t)


def test_model_file_wrong_kind(tmp_path):
    path = save_model(tmp_path / "m.safetensors", _tensors(), kind="abc", config={})
    with pytest.raises(BadInputError) as e:
        load_model(path, kind="gansynth")
    assert str(e.value) == f"{path}: is an abc model, expected gansynth"


def test_model_file_bad_inputs(tmp_path):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(BadInputError, match="no such file") as e:
        load_model(missing)
    assert str(missing) in str(e.value)

    with pytest.raises(BadInputError, match="is a directory"):
        load_model(tmp_path)

    text = tmp_path / "x.safetensors"
    text.write_text("this is not a model\n")
    with pytest.raises(BadInputError, match=r"not an audiogen model file \(.safetensors expected\)") as e:
        load_model(text)
    assert str(e.value).startswith(f"{text}: ") and "\n" not in str(e.value)

    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(BadInputError, match="empty file"):
        load_model(empty)

    good = save_model(tmp_path / "g.safetensors", _tensors(), kind="toy", config={})
    truncated = tmp_path / "trunc.safetensors"
    truncated.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(BadInputError, match=str(truncated.name)):
        load_model(truncated)


def test_model_file_never_unpickles(tmp_path):
    marker = tmp_path / "pwned"
    for i, data in enumerate([pickle.dumps(_Evil(marker)), None]):
        path = tmp_path / f"evil{i}.safetensors"
        if data is None:
            torch.save(_Evil(marker), path)  # torch's zip format, pickle inside
        else:
            path.write_bytes(data)
        with pytest.raises(BadInputError, match="not an audiogen model file") as e:
            load_model(path)
        assert str(path) in str(e.value)
    assert not marker.exists()


def test_model_file_metadata_checks(tmp_path):
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(BadInputError, match="no audiogen metadata"):
        load_model(plain)

    newer = tmp_path / "newer.safetensors"
    save_file({"w": torch.zeros(2)}, str(newer), metadata={
        "audiogen.kind": "toy", "audiogen.format_version": str(FORMAT_VERSION + 1), "audiogen.config": "{}",
    })
    with pytest.raises(BadInputError, match="newer than this audiogen supports"):
        load_model(newer)

    bad_json = tmp_path / "badjson.safetensors"
    save_file({"w": torch.zeros(2)}, str(bad_json), metadata={
        "audiogen.kind": "toy", "audiogen.format_version": "1", "audiogen.config": "{oops",
    })
    with pytest.raises(BadInputError, match="audiogen.config"):
        load_model(bad_json)


def test_save_model_rejects_reserved_extra(tmp_path):
    with pytest.raises(ValueError):
        save_model(tmp_path / "m.safetensors", _tensors(), kind="toy", config={}, extra={"kind": 1})


# -- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_round_trip_with_rng_state(tmp_path):
    seed_everything(3)
    _draws()
    saved = rng_state()
    expected = _draws()
    path = save_checkpoint(tmp_path / "ck.pt", {"step": 4, "rng": saved, "w": torch.ones(2)})
    _draws()
    state = load_checkpoint(path)
    assert state["step"] == 4 and torch.equal(state["w"], torch.ones(2))
    set_rng_state(state["rng"])
    assert _draws() == expected


def test_checkpoint_gauss_state(tmp_path):
    random.seed(1)
    random.gauss(0, 1)  # leaves gauss_next cached
    np.random.seed(1)
    np.random.standard_normal()  # leaves a cached gaussian
    path = save_checkpoint(tmp_path / "ck.pt", {"rng": rng_state()})
    expected = (random.gauss(0, 1), float(np.random.standard_normal()))
    set_rng_state(load_checkpoint(path)["rng"])
    assert (random.gauss(0, 1), float(np.random.standard_normal())) == expected


def test_checkpoint_bad_files(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(os.urandom(300))
    with pytest.raises(BadInputError, match="not a readable checkpoint") as e:
        load_checkpoint(corrupt)
    assert str(e.value).startswith(f"{corrupt}: ") and "\n" not in str(e.value)

    good = save_checkpoint(tmp_path / "good.pt", {"w": torch.randn(100)})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(BadInputError, match="truncated.pt"):
        load_checkpoint(truncated)

    with pytest.raises(BadInputError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"x": _Evil(marker)}, evil)
    with pytest.raises(BadInputError, match="evil.pt"):
        load_checkpoint(evil)
    assert not marker.exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device_rng_and_model_file(tmp_path):
    device = resolve_device("cuda")
    assert device == torch.device("cuda", torch.cuda.current_device())
    assert resolve_device("auto") == device
    assert describe_devices()["cuda"][0]["total_memory_gib"] > 0
    torch.cuda.manual_seed_all(5)
    path = save_checkpoint(tmp_path / "ck.pt", {"rng": rng_state()})
    expected = torch.rand(4, device=device)
    set_rng_state(load_checkpoint(path, map_location=device)["rng"])
    assert torch.equal(torch.rand(4, device=device), expected)
    m = load_model(save_model(tmp_path / "m.safetensors", _tensors(), kind="toy", config={}), device=device)
    assert all(t.device == device for t in m.tensors.values())
    g = make_generator(3, device)
    assert torch.equal(torch.rand(2, device=device, generator=g),
                       torch.rand(2, device=device, generator=make_generator(3, device)))


# -- progress -------------------------------------------------------------------------------


def test_progress_quiet_renders_nothing(capsys):
    with make_progress(quiet=True) as p:
        t = p.add_task("work", total=3)
        for _ in range(3):
            p.advance(t)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_uses_stderr_console(capsys):
    assert stderr_console() is stderr_console()
    assert stderr_console().stderr
    p = make_progress()
    assert p.console is stderr_console()
    with p:
        t = p.add_task("work", total=2)
        p.advance(t, 2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2/2" in captured.err


# -- bundled assets -------------------------------------------------------------------------


def test_bundled_models(tmp_path, monkeypatch):
    pkg = tmp_path / "src" / "audiogen"
    pkg.mkdir(parents=True)
    import audiogen.runtime.assets as assets

    monkeypatch.setattr(assets, "__file__", str(pkg / "runtime" / "assets.py"))  # an installed package's layout
    assert models_dir() is None
    assert bundled_models() == []
    with pytest.raises(AudiogenError, match=r"^no bundled model abc.safetensors; pass --model PATH$"):
        bundled_model_path("abc")

    repo_models = tmp_path / "src" / "assets" / "models"
    repo_models.mkdir(parents=True)
    assert models_dir() == repo_models
    save_model(repo_models / "abc.safetensors", _tensors(), kind="abc", config={})
    (repo_models / "broken.safetensors").write_text("nope")
    (repo_models / "README.md").write_text("cards")
    listed = {m["name"]: m for m in bundled_models()}
    assert set(listed) == {"abc.safetensors", "broken.safetensors"}
    assert listed["abc.safetensors"]["kind"] == "abc"
    assert listed["broken.safetensors"]["kind"] == "unreadable"
    assert listed["abc.safetensors"]["size_bytes"] == (repo_models / "abc.safetensors").stat().st_size
    assert bundled_model_path("abc") == bundled_model_path("abc.safetensors") == repo_models / "abc.safetensors"
    with pytest.raises(AudiogenError, match="no bundled model"):
        bundled_model_path("../assets/models/abc")

    wheel_models = pkg / "_assets" / "models"  # an installed wheel's copy wins
    wheel_models.mkdir(parents=True)
    assert models_dir() == wheel_models


def test_real_models_dir_lists_cheaply():
    for m in bundled_models():
        assert m["kind"] != "unreadable", m


# -- imports --------------------------------------------------------------------------------


def test_runtime_imports_with_torch_alone(tmp_path):
    code = (
        "import sys\n"
        "import audiogen.runtime\n"
        "assert 'torch' not in sys.modules, 'audiogen.runtime must stay light'\n"
        "import audiogen.runtime.atomic\n"
        "assert 'torch' not in sys.modules\n"
        "from audiogen.runtime import assets, atomic, checkpoint, device, modelfile, progress, seeding, training\n"
        "heavy = {'librosa', 'soundfile', 'pretty_midi', 'music21', 'matplotlib', 'torchaudio'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
