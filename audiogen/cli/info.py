"""`audiogen info`: versions, devices, bundled models, SoundFonts and drum kits."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import audiogen
from audiogen.cli.options import JsonOpt
from audiogen.cli.output import emit_json

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
    from audiogen.data.drums import distinct_soundfonts
    from audiogen.data.soundfonts import find_drum_kits, find_soundfonts, fluidsynth_available, has_drum_kit
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
        # what `data drums` renders: sample kits, and the GM drum kit of each SoundFont that has one
        "drum_kits": find_drum_kits() + [{"source": "soundfont", "name": p.stem, "path": str(p), "files": None}
                                         for p in distinct_soundfonts(find_soundfonts()) if has_drum_kit(p)],
    }


def info(json_out: JsonOpt = False) -> None:
    """Show versions, compute devices, bundled models, SoundFonts and drum kits found.

    Example: audiogen info --json
    """
    data = system_info()
    if json_out:
        emit_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True, highlight=False)
    console.print(f"[bold]audiogen {data['audiogen']}[/bold]  Python {data['python']}  {data['platform']}")
    packages = "  ".join(f"{k} {v or '[red]missing[/red]'}" for k, v in data["packages"].items())
    console.print(packages)

    devices = data["devices"]
    table = Table(title="devices", title_justify="left")
    table.add_column("device")
    table.add_column("details")
    for gpu in devices["cuda"]:
        table.add_row(f"cuda:{gpu['index']}", f"{gpu['name']}, {gpu['total_memory_gib']} GiB, sm {gpu['capability']}")
    if not devices["cuda"]:
        table.add_row("cuda", "not available")
    table.add_row("mps", "available" if devices["mps_available"] else "not available")
    table.add_row("cpu", f"{devices['cpu_count']} cores, torch uses {devices['cpu_threads']} threads")
    console.print(table)

    models = Table(title=f"bundled models ({data['models_dir'] or 'no models folder found'})", title_justify="left")
    for col in ("file", "kind", "size"):
        models.add_column(col)
    for m in data["bundled_models"]:
        models.add_row(m["name"], m["kind"], f"{m['size_bytes'] / 1e6:.1f} MB")
    if not data["bundled_models"]:
        models.add_row("(none yet)", "", "")
    console.print(models)

    fluid = data["fluidsynth"]
    console.print(f"FluidSynth: {'libfluidsynth ' + fluid['detail'] if fluid['available'] else '[red]not available[/red] (' + fluid['detail'] + '; apt-get install libfluidsynth3)'}")
    console.print("SoundFonts: " + (", ".join(data["soundfonts"]) or "none found"))
    kits = data["drum_kits"]
    console.print("drum kits: " + (", ".join(f"{k['name']} ({k['source']}"
                                             + (f", {k['files']} files)" if k["files"] is not None else " GM kit)")
                                             for k in kits)
                                   or "none found (apt-get install hydrogen-drumkits sonic-pi-samples)"))
