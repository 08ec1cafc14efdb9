"""Writing a multisampled instrument as SFZ: a text file of `<region>`s and the WAVs it names.

The samples go into a folder beside the `.sfz` (named after it), referenced by relative paths, so
the pair can be moved or zipped together. Opcodes used: sample, lokey, hikey, pitch_keycenter,
ampeg_attack, ampeg_release (seconds); velocity follows SFZ's default curve (amp_veltrack 100:
gain (velocity / 127)^2, the same as the renderer's). See docs/design.md §6.
"""

from __future__ import annotations

import os
from pathlib import Path

from audiogen.data.sf2 import SamplerZone


def sample_folder(sfz_path: str | os.PathLike) -> Path:
    """The folder an `.sfz` keeps its samples in: `NAME.sfz` -> `NAME/` beside it."""
    path = Path(sfz_path)
    return path.with_suffix("")


def sfz_text(zones: list[SamplerZone], folder_name: str, *, attack: float = 0.01, release: float = 0.3,
             comment: str = "") -> str:
    """The `.sfz` text for `zones`, whose samples lie in `folder_name/<zone name>.wav`."""
    lines = [f"// {line}" for line in comment.splitlines()] if comment else []
    lines += ["<control>", f"default_path={folder_name}/", "", "<global>", f"ampeg_attack={attack:g}",
              f"ampeg_release={release:g}", "amp_veltrack=100", ""]
    for zone in zones:
        lines += ["<region>", f"sample={zone.name}.wav", f"lokey={zone.low_key}", f"hikey={zone.high_key}",
                  f"pitch_keycenter={zone.root_key}", ""]
    return "\n".join(lines)


def write_sfz(path: str | os.PathLike, folder: str | os.PathLike, zones: list[SamplerZone], *, attack: float = 0.01,
              release: float = 0.3, comment: str = "", folder_name: str | None = None) -> None:
    """Write the `.sfz` text to `path` and one 16-bit WAV per zone into `folder` (which exists).

    `folder_name` is the folder as the text names it (default: `folder`'s own name), so a caller
    can write into a staging folder that is renamed afterwards."""
    from audiogen.dsp.audio_io import save_audio

    folder = Path(folder)
    for zone in zones:
        save_audio(folder / f"{zone.name}.wav", zone.wave, zone.sample_rate, subtype="PCM_16")
    Path(path).write_text(sfz_text(zones, folder_name or folder.name, attack=attack, release=release,
                                   comment=comment) + "\n", encoding="utf-8")
