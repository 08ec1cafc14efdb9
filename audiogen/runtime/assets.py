"""The bundled default models.

They live in ``assets/models/`` in a checkout and in ``audiogen/_assets/models/`` in a wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

from audiogen.errors import AudiogenError

MODEL_SUFFIX = ".safetensors"


def models_dir() -> Path | None:
    """Where the bundled models are: the installed package first, then the repository root."""
    package = Path(__file__).resolve().parents[1]  # audiogen/ (runtime/ sits inside it)
    for candidate in (package / "_assets" / "models", package.parent / "assets" / "models"):
        if candidate.is_dir():
            return candidate
    return None


def model_kind(path: str | os.PathLike) -> str:
    """The ``audiogen.kind`` of a model file from its header alone; "unreadable" when it has none."""
    return _read_kind(Path(path))


def _read_kind(path: Path) -> str:
    """The ``audiogen.kind`` of a model file, reading only its header; "unreadable" on failure."""
    from safetensors import safe_open

    try:
        with safe_open(os.fspath(path), framework="pt") as f:
            return (f.metadata() or {}).get("audiogen.kind", "unreadable")
    except Exception:
        return "unreadable"


def bundled_metadata(filename: str, key: str):
    """The JSON value of ``audiogen.<key>`` in a bundled model's header (e.g. its held-out
    figures), or None when the file or the key is missing."""
    import json

    from safetensors import safe_open

    directory = models_dir()
    if directory is None or not (directory / filename).is_file():
        return None
    try:
        with safe_open(os.fspath(directory / filename), framework="pt") as f:
            value = (f.metadata() or {}).get("audiogen." + key)
        return None if value is None else json.loads(value)
    except Exception:
        return None


def bundled_models() -> list[dict]:
    """One dict per bundled ``*.safetensors``: name (file name), path, size_bytes, kind."""
    directory = models_dir()
    if directory is None:
        return []
    return [
        {"name": p.name, "path": p, "size_bytes": p.stat().st_size, "kind": _read_kind(p)}
        for p in sorted(directory.glob("*" + MODEL_SUFFIX))
        if p.is_file()
    ]


def bundled_model_path(filename: str) -> Path:
    """Path of a bundled model by file name (``.safetensors`` may be left off)."""
    name = filename if filename.endswith(MODEL_SUFFIX) else filename + MODEL_SUFFIX
    directory = models_dir()
    if directory is not None and Path(name).name == name and (directory / name).is_file():
        return directory / name
    raise AudiogenError(f"no bundled model {name}; pass --model PATH")


def bundled_names() -> list[str]:
    """The bundled models' names: their file stems (`abc`, `gansynth`, `musicvae-16bar`, ...)."""
    return [Path(m["name"]).stem for m in bundled_models()]


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """A model file's path from a path, or from a bundled model's name (its file stem, as
    `--model musicvae-16bar` gives it) when no such file exists. An existing file always wins.
    BadInputError naming the input and listing the bundled names when it is neither."""
    from audiogen.errors import BadInputError

    path = Path(name_or_path)
    if path.is_file():
        return path
    text = os.fspath(name_or_path)
    stem = text[: -len(MODEL_SUFFIX)] if text.endswith(MODEL_SUFFIX) else text
    directory = models_dir()
    if directory is not None and Path(stem).name == stem and (directory / (stem + MODEL_SUFFIX)).is_file():
        return directory / (stem + MODEL_SUFFIX)  # a bundled name, even beside a folder of that name
    if path.exists():
        return path  # a folder or a special file: the loader says what is wrong with it
    names = ", ".join(bundled_names()) or "none are installed"
    raise BadInputError(text, f"no such file, and not a bundled model name (bundled: {names})")
