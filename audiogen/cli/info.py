"""`audiogen info`: versions, devices, bundled models, SoundFonts and drum kits."""

from __future__ import annotations

from audiogen.cli.options import JsonOpt
from audiogen.cli.output import emit_json


def info(json_out: JsonOpt = False) -> None:
    """Show versions, compute devices, bundled models, SoundFonts and drum kits found.

    Example: audiogen info --json
    """
    from audiogen.runtime.sysinfo import system_info

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
    console.print("drum kits: " + (", ".join(f"{k['name']} ({k['source']}, {k['files']} files)" for k in kits)
                                   or "none found (apt-get install hydrogen-drumkits sonic-pi-samples)"))
