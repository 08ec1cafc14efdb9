"""Model files: ``.safetensors`` tensors plus audiogen metadata. Loading never unpickles.

Metadata (all values are strings, as safetensors requires):

- ``audiogen.kind``            model family, e.g. ``"abc"``
- ``audiogen.format_version``  this file layout, ``"1"``
- ``audiogen.config``          JSON of the model config
- ``audiogen.version``         the audiogen version that wrote the file
- ``audiogen.<key>``           JSON of each ``extra`` value (vocab, pitch histogram, ...)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from audiogen.errors import BadInputError, require_file
from audiogen.runtime.atomic import atomic_output

FORMAT_VERSION = 1
PREFIX = "audiogen."
_RESERVED = {"kind", "format_version", "config", "version"}


@dataclass
class LoadedModel:
    """A model file's content. ``tensors`` keep the dtype they were stored with."""

    path: Path
    tensors: dict[str, torch.Tensor]
    kind: str
    config: dict
    extra: dict[str, object]
    format_version: int
    sha256: str
    audiogen_version: str | None = field(default=None)

    def state_dict(
        self, dtype: torch.dtype | None = torch.float32, *, prefix: str | None = None
    ) -> dict[str, torch.Tensor]:
        """Tensors ready for ``load_state_dict``: floating ones cast to ``dtype`` (None keeps them).

        With ``prefix`` (e.g. ``"model."``) only names starting with it are kept, prefix removed.
        """
        out = {}
        for name, t in self.tensors.items():
            if prefix is not None:
                if not name.startswith(prefix):
                    continue
                name = name[len(prefix):]
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            out[name] = t
        return out


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def _prepare(
    tensors: dict[str, torch.Tensor], dtype: torch.dtype | None
) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU tensors owning their memory (safetensors refuses shared storage)."""
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"save_model: {name!r} is a {type(t).__name__}, not a tensor")
        t = t.detach().to("cpu")
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        t = t.contiguous()
        storage = t.untyped_storage()
        # Tied weights, or views into a larger buffer: give them their own memory.
        if storage.data_ptr() in seen or storage.nbytes() != t.numel() * t.element_size():
            t = t.clone()
            storage = t.untyped_storage()
        if t.numel():
            seen.add(storage.data_ptr())
        out[name] = t
    return out


class NonFiniteModel(BadInputError):
    """A model whose tensors hold NaN or infinity (a diverged run, or weights beyond float16's range)."""


def non_finite_tensors(tensors: dict[str, torch.Tensor]) -> list[tuple[str, int, int]]:
    """(name, non-finite values, values) of every floating tensor holding NaN or infinity."""
    found = []
    for name, t in tensors.items():
        if t.is_floating_point():
            bad = int((~torch.isfinite(t)).sum())
            if bad:
                found.append((name, bad, t.numel()))
    return found


def save_model(
    path: str | os.PathLike,
    tensors: dict[str, torch.Tensor],
    *,
    kind: str,
    config: dict,
    extra: dict[str, object] | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write a model file atomically and return its path.

    ``config`` must be JSON-serialisable (a dataclass is converted with ``asdict``); so must each
    ``extra`` value. ``dtype`` (e.g. ``torch.float16``) casts floating tensors for compact export;
    integer tensors are left alone.
    """
    from safetensors.torch import save_file

    from audiogen.version import __version__

    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    metadata = {
        PREFIX + "kind": kind,
        PREFIX + "format_version": str(FORMAT_VERSION),
        PREFIX + "config": json.dumps(config),
        PREFIX + "version": __version__,
    }
    for key, value in (extra or {}).items():
        if key in _RESERVED:
            raise ValueError(f"save_model: extra key {key!r} is reserved")
        metadata[PREFIX + key] = json.dumps(value)
    path = Path(path)
    prepared = _prepare(tensors, dtype)
    broken = non_finite_tensors(prepared)
    if broken:
        name, bad, total = broken[0]
        raise NonFiniteModel(path, f"refusing to write a model with non-finite values: {name} holds {bad:,} of "
                                   f"{total:,}" + (f" once cast to {str(dtype).replace('torch.', '')}" if dtype else "")
                                   + (f" (and {len(broken) - 1} more tensors)" if len(broken) > 1 else ""))
    with atomic_output(path) as tmp:
        save_file(prepared, os.fspath(tmp), metadata=metadata)
    return path


def _json_field(path: Path, metadata: dict[str, str], key: str) -> object:
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as e:
        raise BadInputError(path, f"corrupt metadata {key}: {e}") from None


def _a(word: str) -> str:
    """'an abc', 'a gansynth': the article a reader expects before a model kind."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def load_model(
    path: str | os.PathLike, *, kind: str | None = None, device: str | torch.device = "cpu"
) -> LoadedModel:
    """Read a model file written by ``save_model``; tensors land on ``device``.

    With ``kind`` the file must hold that model family. Every problem with the file raises
    BadInputError naming it: missing, a directory, not safetensors, no audiogen metadata,
    another kind, or a format version newer than ``FORMAT_VERSION``.
    """
    from safetensors import safe_open

    from audiogen.runtime.assets import resolve_model

    path = require_file(resolve_model(path), "a model file (.safetensors)")
    try:
        with safe_open(os.fspath(path), framework="pt", device=str(torch.device(device))) as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except OSError as e:
        raise BadInputError(path, f"cannot read: {e.strerror or e}") from None
    except Exception as e:  # safetensors raises its own error type for any malformed file
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise BadInputError(
            path, f"not an audiogen model file (.safetensors expected): {reason}"
        ) from None

    if PREFIX + "kind" not in metadata:
        raise BadInputError(
            path, "not an audiogen model file: no audiogen metadata (audiogen.kind)"
        )
    file_kind = metadata[PREFIX + "kind"]
    try:
        version = int(metadata.get(PREFIX + "format_version", ""))
    except ValueError:
        raise BadInputError(path, "corrupt metadata audiogen.format_version") from None
    if version > FORMAT_VERSION:
        raise BadInputError(
            path,
            f"model format version {version} is newer than this audiogen supports "
            f"({FORMAT_VERSION}); upgrade audiogen",
        )
    if kind is not None and file_kind != kind:
        raise BadInputError(path, f"is {_a(file_kind)} model, expected {kind}")
    config = _json_field(path, metadata, PREFIX + "config") if PREFIX + "config" in metadata else {}
    if not isinstance(config, dict):
        raise BadInputError(path, "corrupt metadata audiogen.config: not a JSON object")
    extra = {
        key[len(PREFIX):]: _json_field(path, metadata, key)
        for key in metadata
        if key.startswith(PREFIX) and key[len(PREFIX):] not in _RESERVED
    }
    return LoadedModel(
        path=path,
        tensors=tensors,
        kind=file_kind,
        config=config,
        extra=extra,
        format_version=version,
        sha256=file_sha256(path),
        audiogen_version=metadata.get(PREFIX + "version"),
    )


def load_family_model(path: str | os.PathLike | None, *, kind: str, bundled_name: str,
                      build: Callable[[LoadedModel], torch.nn.Module],
                      device: str | torch.device = "cpu") -> tuple[torch.nn.Module, LoadedModel]:
    """A model family's module from `path`, or from the bundled file `bundled_name` when None.

    `build(loaded)` makes the empty module from the file's config (raising BadInputError for a
    file it cannot use); its weights are the file's tensors named ``model.*``. Returns the module
    in eval mode on `device`, and the loaded file. BadInputError when the weights do not fit.
    """
    from audiogen.runtime.assets import bundled_model_path

    path = Path(path) if path is not None else bundled_model_path(bundled_name)
    loaded = load_model(path, kind=kind)
    try:
        module = build(loaded)
        module.load_state_dict(loaded.state_dict(prefix="model."))
    except (RuntimeError, TypeError, ValueError) as e:
        raise BadInputError(path, f"weights do not match its config ({str(e).splitlines()[0]})") from None
    return module.to(device).eval(), loaded


def rewrite_model(path: str | os.PathLike, out: str | os.PathLike, *, kind: str,
                  extra: dict[str, object] | None = None, tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Write `out`: the model file `path` (of `kind`) with `extra` metadata entries and `tensors`
    added or replaced; every other tensor, the config and the rest of the record copied unchanged
    (tensors keep the dtype they were stored with). Without `tensors` the weights are the same, so
    the new file lists the sha256 of `path` (and of the files it listed) under "same_weights_as":
    what was computed with those files (a library index's embeddings) still holds. Returns `out`."""
    loaded = load_model(path, kind=kind)
    extra = {**loaded.extra, **(extra or {})}
    if not tensors:
        extra["same_weights_as"] = sorted(set(loaded.extra.get("same_weights_as") or []) | {loaded.sha256})
    else:
        extra.pop("same_weights_as", None)
    return save_model(out, {**loaded.tensors, **(tensors or {})}, kind=kind, config=loaded.config, extra=extra)
