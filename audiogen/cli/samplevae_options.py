"""Options shared by the SampleVAE commands (train/sample/interpolate samplevae, classify, index, similar, map)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

SampleVAEModelOpt = Annotated[Optional[Path], typer.Option(
    "--model", help="SampleVAE model file or bundled name (default: samplevae-drums, or the model an index was made with).",
    show_default=False)]
IndexOpt = Annotated[Optional[Path], typer.Option(
    "--index", help="Index folder (default: audiogen/index in the user's data directory, $XDG_DATA_HOME or "
    "~/.local/share).", show_default=False, metavar="DIR")]

OutRateOpt = Annotated[Optional[int], typer.Option("--sample-rate", min=1000, max=384000,
                                                   help="Output sample rate in Hz (default: the model's; 32000 for the bundled one).",
                                                   show_default=False)]

WeightsOpt = Annotated[Optional[str], typer.Option(
    "--weights", help="Comma-separated weight per --from file (e.g. 1,2 or 1,1,-1); the latent mix is "
    "sum(w*z)/sum(w). Default: equal.", show_default=False)]


def parse_weights(text: str | None, count: int) -> list[float]:
    """`--weights 1,2,-0.5` -> floats, one per --from file; typer.BadParameter when malformed."""
    if text is None:
        return [1.0] * count
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected numbers separated by commas, e.g. 1,2", param_hint="--weights") from None
    if not all(math.isfinite(w) for w in weights):
        raise typer.BadParameter(f"{text!r}: weights must be finite numbers", param_hint="--weights")
    if len(weights) != count:
        raise typer.BadParameter(f"{len(weights)} weights for {count} --from files", param_hint="--weights")
    if not math.isfinite(sum(weights)):
        raise typer.BadParameter(f"{text!r}: weights this large overflow their sum; the mix divides by it",
                                 param_hint="--weights")
    if abs(sum(weights)) < 1e-9:
        raise typer.BadParameter(f"{text!r}: the weights sum to 0; the mix divides by their sum", param_hint="--weights")
    return weights


SplitOnsetsOpt = Annotated[bool, typer.Option("--split-onsets", help="Cut files longer than --max-seconds at their "
                                              "onsets and index each hit (default: such files are skipped).")]
MaxSecondsOpt = Annotated[float, typer.Option("--max-seconds", min=0.01, help="Longest file taken as one sound.")]


def progress_hooks(progress, label: str):
    """(on_start(total), on_file()) callbacks that drive one progress bar, added once the total is known."""
    tasks: list = []
    return (lambda total: tasks.append(progress.add_task(label, total=total)),
            lambda: progress.advance(tasks[0]) if tasks else None)
