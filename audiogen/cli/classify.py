"""`audiogen classify`: sort one-shots into the SampleVAE model's classes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audiogen.cli.options import shared_options
from audiogen.cli.output import emit_json, note, provenance
from audiogen.cli.samplevae_options import SampleVAEModelOpt


@shared_options("strict", "device", "json_out", "quiet")
def classify_command(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files or folders (searched recursively).",
                                                 show_default=False, metavar="FILE|DIR...")],
    model: SampleVAEModelOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Classes listed per file in the human output.")] = 1,
    *, strict, device, json_out, quiet,
) -> None:
    """Sort samples into the model's classes (bundled model: kick, snare, hihat, tom, cymbal, clap, other).

    Prints one line per file: class, confidence, path. Unusable files are skipped and counted.

    Example: audiogen classify samples/ --json
    """
    from audiogen.data.audio_folders import list_audio_files
    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError, BadInputError, require_file
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.samplevae.generate import class_table
    from audiogen.samplevae.indexing import embed_files
    from audiogen.samplevae.load import load_samplevae_model

    torch_device = resolve_device(device)
    bundle = load_samplevae_model(model, torch_device)
    if not bundle.classes:
        raise AudiogenError(f"{bundle.path}: this model has no class head (it was trained on a folder without "
                            "class subfolders)")
    files: list[Path] = []
    for item in inputs:
        if not item.exists():
            raise BadInputError(item, "no such file or folder")
        if not item.is_dir():
            require_file(item, "an audio file or a folder")
        found = list_audio_files(item) if item.is_dir() else [item]
        if item.is_dir() and not found:
            raise BadInputError(item, "holds no audio files")
        files.extend(found)
    single = len(inputs) == 1 and not inputs[0].is_dir()
    skips = SkipLog(strict=strict or single, asked=strict)
    with make_progress(quiet=quiet or json_out or len(files) < 50, unit="file") as progress:
        task = progress.add_task("classify", total=len(files))
        embedded = embed_files(bundle, files, skips=skips, on_file=lambda: progress.advance(task))
    rows = class_table(embedded.probs, bundle.classes) if embedded.paths else []
    results = [{"path": p, **row} for p, row in zip(embedded.paths, rows)]
    if json_out:
        counts: dict[str, int] = {}
        for r in results:
            counts[r["class"]] = counts.get(r["class"], 0) + 1
        emit_json({"files": results, "counts": counts, "skipped": skips.to_dict(), "model": bundle.path,
                   "model_sha256": bundle.sha256, **provenance("classify", {
                       "inputs": [str(i) for i in inputs], "model": model, "strict": strict,
                       "device": str(torch_device)})})
    else:
        for r in results:
            ranked = sorted(r["probabilities"].items(), key=lambda kv: -kv[1])[:top]
            label = "  ".join(f"{name} {p:.2f}" for name, p in ranked)
            print(f"{label}\t{r['path']}")
    if len(skips):
        note(f"{len(results)} files classified, {len(skips)} skipped", quiet=quiet and not json_out)
    if not results:
        raise AudiogenError("no usable audio files to classify")
