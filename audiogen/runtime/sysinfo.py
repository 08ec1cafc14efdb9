"""What `audiogen info` reports: versions, devices, bundled models, SoundFonts and drum kits."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import audiogen

PACKAGES = ("torch", "torchaudio", "numpy", "librosa", "soundfile", "pretty_midi", "music21",
            "typer", "rich", "safetensors", "matplotlib", "pyfluidsynth")


def package_versions() -> dict[str, str | None]:
    """Installed versions from package metadata (nothing is imported); None when missing."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def system_info() -> dict:
    """Everything `audiogen info` shows, as JSON-ready data."""
    from audiogen.data.soundfonts import find_drum_kits, find_soundfonts, fluidsynth_available
    from audiogen.runtime.assets import bundled_models, models_dir
    from audiogen.runtime.device import describe_devices

    fluid_ok, fluid_detail = fluidsynth_available()
    directory = models_dir()
    return {
        "audiogen": audiogen.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "devices": describe_devices(),
        "fluidsynth": {"available": fluid_ok, "detail": fluid_detail},
        "models_dir": str(directory) if directory else None,
        "bundled_models": [{**m, "path": str(m["path"])} for m in bundled_models()],
        "soundfonts": [str(p) for p in find_soundfonts()],
        "drum_kits": find_drum_kits(),
    }
