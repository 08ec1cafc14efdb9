"""`audiogen resynth`: audio -> representation -> audio, with what was lost measured."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from audiogen.cli.options import InputFile, OutFile, SampleRateOpt, not_an_input, shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


class ResynthRepr(str, Enum):
    IF = "if"
    IF_MEL = "if-mel"
    GRIFFIN_LIM = "griffin-lim"


@shared_options("audio_format", "subtype", "gain", "rng_seed", "device", "json_out", "quiet")
def resynth(
    file: InputFile,
    out: OutFile,
    representation: Annotated[ResynthRepr, typer.Option("--repr", help="if, if-mel (GANSynth's representations, phase kept as IF) or griffin-lim (magnitude only).")] = ResynthRepr.IF,
    iterations: Annotated[int, typer.Option("--iterations", min=1, max=10000, help="Griffin-Lim iterations.")] = 32,
    sample_rate: SampleRateOpt = 16000,
    *, audio_format, subtype, gain, rng_seed, device, json_out, quiet,
) -> None:
    """Resynthesise a sound through a representation and print what it lost (SNR, spectral convergence).

    For griffin-lim the phase is new, so only spectral convergence means anything. The figures
    compare the waves before the output is brought to the tool's level (peak -1 dBFS, --gain).

    Example: audiogen resynth note.wav --out note-ifmel.wav --repr if-mel
    """
    from audiogen.dsp import MAX_INPUT_SECONDS, load_audio, save_audio
    from audiogen.dsp.loudness import output_peak_dbfs
    from audiogen.dsp.resynthesis import resynthesis_report, resynthesize
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.seeding import make_generator, seed_everything

    not_an_input(out, file)
    torch_device = resolve_device(device)
    seed = seed_everything(rng_seed)
    wave = load_audio(file, sample_rate, max_seconds=MAX_INPUT_SECONDS).to(torch_device)
    generator = make_generator(seed, torch_device) if representation is ResynthRepr.GRIFFIN_LIM else None
    resynthesized = resynthesize(wave, representation.value, sample_rate=sample_rate, n_iter=iterations,
                                 generator=generator)
    report = resynthesis_report(wave, resynthesized, representation.value)
    save_audio(out, resynthesized, sample_rate, format=audio_format.value if audio_format else None,
               subtype=subtype.value, peak_dbfs=output_peak_dbfs(gain))
    if json_out:
        extra = {"rng_seed": seed} if representation is ResynthRepr.GRIFFIN_LIM else {}
        emit_json({"input": file, "output": out, "repr": representation.value, "sample_rate": sample_rate,
                   "samples": wave.shape[-1], **report,
                   **provenance("resynth", {"file": file, "out": out, "repr": representation,
                                            "iterations": iterations, "sample_rate": sample_rate,
                                            "format": audio_format, "subtype": subtype, "gain": gain,
                                            "device": str(torch_device)}, **extra)})
    if report["snr_db"] is not None:
        snr = f"{report['snr_db']:.2f} dB"
    else:
        snr = "n/a (new phase)" if representation is ResynthRepr.GRIFFIN_LIM else "n/a (silent input)"
    convergence = report["spectral_convergence"]
    convergence = "n/a (silent input)" if convergence is None else f"{convergence:.4f}"
    result_line(f"{file.name} -> {representation.value} -> {out.name}: SNR {snr}, "
                f"spectral convergence {convergence}", json_mode=json_out)
    note(f"wrote {out}", quiet=quiet or json_out)
