"""`audiogen translate`: a recording played by another instrument."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import not_an_input, shared_options, writable_dir, writable_file
from audiogen.cli.output import emit_json, provenance, result_line

TranslateModelOpt = Annotated[Optional[Path], typer.Option(
    "--model", help="A translate model file or bundled name (default: translate-piano-violin).", show_default=False)]


def _read(path: Path):
    """(the file's wave (T,), its rate); silent files refused."""
    import soundfile as sf

    from audiogen.dsp import MAX_INPUT_SECONDS, load_audio
    from audiogen.errors import BadInputError

    original = load_audio(path, None, max_seconds=MAX_INPUT_SECONDS)
    file_rate = sf.info(str(path)).samplerate
    if float(original.abs().max()) < 1e-4:
        raise BadInputError(path, "silent (peak below -80 dBFS): nothing to translate")
    return original, file_rate


@shared_options("audio_format", "subtype", "gain", "strict", "device", "json_out", "quiet")
def translate_command(
    source: Annotated[Path, typer.Argument(help="Audio file (any rate and channels; downmixed) or a folder of "
                                           "them (searched recursively).", show_default=False, metavar="FILE|DIR")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output file (one input file).",
                                                show_default=False, callback=writable_file)] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out-dir", help="Output folder (a folder input: the same "
                                                    "relative names, as .wav/.flac).", show_default=False,
                                                    callback=writable_dir)] = None,
    model: TranslateModelOpt = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Unpaired models: translate b -> a instead.")] = False,
    picture: Annotated[Optional[Path], typer.Option("--picture", help="One input file: also draw its spectrogram "
                                                    "above the translation's (.png, .pdf, .svg).",
                                                    show_default=False)] = None,
    sample_rate: Annotated[Optional[int], typer.Option("--sample-rate", min=1000, max=384000, help="Output rate "
                                                       "(default: the input's, so the sample count matches).",
                                                       show_default=False)] = None,
    *, audio_format, subtype, gain, strict, device, json_out, quiet,
) -> None:
    """Play a recording with another instrument: the bundled model turns piano into violin.

    The output lasts exactly as long as the input. A folder translates every audio file in it
    into --out-dir; unusable files are skipped and counted (--strict: the first one stops).

    Example: audiogen translate piano.wav --out violin.wav
    """
    import time

    from audiogen.data.audio_folders import list_audio_files
    from audiogen.data.skips import SkipLog
    from audiogen.dsp import save_audio
    from audiogen.dsp.loudness import output_peak_dbfs
    from audiogen.errors import AudiogenError, BadInputError
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.translate.generate import translate_at_rate
    from audiogen.translate.load import load_translate_model

    if not source.exists():
        raise BadInputError(source, "no such file or folder")
    folder = source.is_dir()
    if folder and out_dir is None:
        raise AudiogenError(f"{source} is a folder: give --out-dir DIR for its translations")
    if not folder and out is None:
        raise AudiogenError("give --out FILE for the translation (or a folder and --out-dir)")
    if folder and out is not None:
        raise AudiogenError("--out names one file; a folder input takes --out-dir")
    if not folder and out_dir is not None:
        raise AudiogenError("--out-dir is for a folder input; one input file takes --out only" if out is None
                            else "give --out FILE or --out-dir DIR, not both")
    not_an_input(out, source)
    if picture is not None:
        from audiogen.plotting import check_picture_path

        if folder:
            raise AudiogenError("--picture draws one translation; give one input file")
        check_picture_path(picture)
        writable_file(picture)
    torch_device = resolve_device(device)
    bundle = load_translate_model(model, torch_device)
    if reverse and not bundle.unpaired:
        raise BadInputError(bundle.path, "translates one way only (a paired model); --reverse needs an unpaired one")
    files = list_audio_files(source) if folder else [source]
    if folder and out_dir.resolve().is_relative_to(source.resolve()):
        files = [p for p in files if not p.resolve().is_relative_to(out_dir.resolve())]  # earlier outputs
    if folder and not files:
        raise BadInputError(source, "holds no audio files")
    ext = (audio_format.value if audio_format else None)
    targets = {}
    for path in files:
        target = out if not folder else (out_dir / path.relative_to(source)).with_suffix("." + (ext or "wav"))
        if target in targets.values():
            other = next(p for p, t in targets.items() if t == target)
            raise BadInputError(path, f"and {other} would both be written to {target}; move one, or pick --format")
        targets[path] = target
    skips = SkipLog(strict=strict)
    results = []
    began = time.perf_counter()
    with make_progress(quiet=quiet or json_out or len(files) < 2, unit="file") as progress:
        task = progress.add_task("translate", total=len(files))
        for path in files:
            try:
                original, rate = _read(path)
                samples = original.shape[-1]
            except BadInputError as e:
                if not folder:
                    raise
                skips.skip(e.path, e.problem)
                progress.advance(task)
                continue
            rate_out = sample_rate or rate
            result = translate_at_rate(bundle, original, rate, reverse=reverse, out_rate=rate_out)
            target = targets[path]
            target.parent.mkdir(parents=True, exist_ok=True)
            save_audio(target, result, rate_out, format=ext, subtype=subtype.value, peak_dbfs=output_peak_dbfs(gain))
            if picture is not None:
                from audiogen.dsp.audio_io import resample
                from audiogen.translate.data import encode, peak_normalise
                from audiogen.translate.pictures import draw_spectrograms

                model_rate = bundle.rep.sample_rate
                wave, translated = resample(original, rate, model_rate), resample(result, rate_out, model_rate)

                draw_spectrograms(picture, [(f"input: {path.name}", encode(peak_normalise(wave), bundle.rep)),
                                            (f"translation ({bundle.describe()})", encode(translated.cpu(), bundle.rep))],
                                  bundle.rep, f"audiogen translate {path.name}")
            results.append({"input": str(path), "output": str(target), "seconds": round(samples / rate, 3),
                            "sample_rate": rate_out, "samples": int(result.shape[-1]), "input_samples": samples,
                            "input_sample_rate": rate})
            progress.advance(task)
    seconds = time.perf_counter() - began
    if json_out:
        emit_json({"translated": results, "skipped": skips.to_dict(), "model": bundle.path,
                   "model_sha256": bundle.sha256, "direction": bundle.describe() + (" reversed" if reverse else ""),
                   **provenance("translate", {"source": source, "out": out, "out_dir": out_dir, "model": model,
                                              "reverse": reverse, "picture": picture, "sample_rate": sample_rate, "format": audio_format,
                                              "subtype": subtype, "gain": gain, "strict": strict,
                                              "device": str(torch_device)})})
    audio = sum(r["seconds"] for r in results)
    where = out if not folder else out_dir
    result_line(f"translated {len(results)} file{'s' if len(results) != 1 else ''} ({audio:.1f} s of audio, "
                f"{bundle.describe()}{' reversed' if reverse else ''}) to {where}; {len(skips)} skipped; "
                f"{seconds:.1f} s", json_mode=json_out)
