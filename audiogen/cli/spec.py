"""`audiogen spec`: pictures of a sound's spectral representations."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from audiogen.cli.options import InputFile, OutFile, SampleRateOpt, shared_options
from audiogen.cli.output import emit_json, note, provenance


class SpecRepr(str, Enum):
    IF = "if"
    IF_MEL = "if-mel"
    MEL = "mel"


@shared_options("device", "json_out", "quiet")
def spec(
    file: InputFile,
    out: OutFile,
    representation: Annotated[SpecRepr, typer.Option("--repr", help="if: log-magnitude + IF; if-mel: GANSynth's IF-Mel; mel: log-mel dB (SampleVAE features).")] = SpecRepr.IF,
    sample_rate: SampleRateOpt = 16000,
    *, device, json_out, quiet,
) -> None:
    """Draw a sound's spectrogram: log-magnitude and instantaneous frequency, axes in s and Hz.

    The picture format follows --out's extension (png, pdf, svg).

    Example: audiogen spec note.wav --out note.png --repr if-mel
    """
    from audiogen.dsp import MAX_INPUT_SECONDS, load_audio
    from audiogen.plotting import check_picture_path, plot_panels, spectrogram_panels
    from audiogen.runtime.device import resolve_device

    check_picture_path(out)
    torch_device = resolve_device(device)
    wave = load_audio(file, sample_rate, max_seconds=MAX_INPUT_SECONDS).to(torch_device)
    panels = spectrogram_panels(wave, representation.value, sample_rate)
    seconds = wave.shape[-1] / sample_rate
    plot_panels(out, panels, title=f"{file.name} ({seconds:.2f} s at {sample_rate} Hz)")
    if json_out:
        emit_json({"input": file, "output": out, "repr": representation.value, "sample_rate": sample_rate,
                   "seconds": round(seconds, 4), "shape": list(panels[0]["image"].shape),
                   **provenance("spec", {"file": file, "out": out, "repr": representation,
                                         "sample_rate": sample_rate, "device": str(torch_device)})})
    note(f"wrote {out}", quiet=quiet or json_out)
