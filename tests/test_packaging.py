"""The bundled-assets contract: a built wheel carries assets/models as audiogen/_assets/models,
and an installed copy finds its models there (audiogen.runtime.assets.models_dir)."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 540

_PROBE = textwrap.dedent("""
    import json
    import audiogen
    from audiogen.runtime.assets import models_dir
    print(json.dumps({"file": audiogen.__file__, "models_dir": str(models_dir())}))
""")


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S, **kwargs)
    assert proc.returncode == 0, f"{' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _inside(path: str | os.PathLike, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


@pytest.mark.slow
def test_wheel_carries_the_bundled_models_and_an_installed_copy_finds_them(tmp_path):
    # Build. Without hatchling in this environment pip fetches it into an isolated build env.
    dist = tmp_path / "dist"
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(dist), str(REPO)])
    wheels = list(dist.glob("audiogen-*.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    wheel = wheels[0]

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for required in ("audiogen/_assets/models/README.md", "audiogen/cli/main.py", "audiogen/dsp/__init__.py"):
            assert required in names, f"{required} missing from {wheel.name}"
        entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert len(entry_points) == 1, entry_points
        parser = configparser.ConfigParser()
        parser.read_string(zf.read(entry_points[0]).decode())
    assert parser.has_section("console_scripts"), parser.sections()
    assert parser.get("console_scripts", "audiogen", fallback=None) == "audiogen.cli.main:main"
    # Every bundled model in the checkout travels with the wheel.
    for model in (REPO / "assets" / "models").glob("*.safetensors"):
        assert f"audiogen/_assets/models/{model.name}" in names, model.name

    # Install into a plain folder and put it first on PYTHONPATH, ahead of the editable install.
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)])
    elsewhere = tmp_path / "elsewhere"  # not the repository: no `audiogen/` in the cwd
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "CI": "1"}

    probe = json.loads(_run([sys.executable, "-c", _PROBE], cwd=elsewhere, env=env).stdout)
    assert _inside(probe["file"], site), f"imported {probe['file']}, not the installed copy"
    assert _inside(probe["models_dir"], site), probe
    assert Path(probe["models_dir"]).resolve() == (site / "audiogen" / "_assets" / "models").resolve()

    info = json.loads(_run([sys.executable, "-m", "audiogen", "info", "--json"], cwd=elsewhere, env=env).stdout)
    assert info["models_dir"] is not None and _inside(info["models_dir"], site), info["models_dir"]
    assert all(_inside(m["path"], site) for m in info["bundled_models"]), info["bundled_models"]
