"""Options every command shares, with the same names and help everywhere (docs/design.md §2)."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class AudioFormat(str, Enum):
    wav = "wav"
    flac = "flac"


class Subtype(str, Enum):
    PCM_16 = "PCM_16"
    PCM_24 = "PCM_24"
    FLOAT = "FLOAT"


def writable_file(value: Path | None) -> Path | None:
    """Option callback: an output file whose destination cannot be written fails before any work."""
    if value is not None:
        from audiogen.runtime.atomic import check_writable

        check_writable(value)
    return value


def writable_dir(value: Path | None) -> Path | None:
    """Option callback: an output folder that cannot be written fails before any work."""
    if value is not None:
        from audiogen.runtime.atomic import check_writable_dir

        check_writable_dir(value)
    return value


InputFile = Annotated[Path, typer.Argument(help="Input audio file (WAV, FLAC, OGG, MP3, ...).",
                                           show_default=False, metavar="FILE")]
OutFile = Annotated[Path, typer.Option("--out", "-o", help="Output file.", show_default=False, callback=writable_file)]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto|cpu|cuda|cuda:N|mps (auto: CUDA, then MPS, then CPU).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable result on stdout; human text goes to stderr.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or notes on stderr.")]
RngSeedOpt = Annotated[Optional[int], typer.Option("--rng-seed", help="Seed for reproducible runs (default: a fresh one, reported).")]
SampleRateOpt = Annotated[int, typer.Option("--sample-rate", min=1000, max=384000, help="Sample rate in Hz.")]
FormatOpt = Annotated[Optional[AudioFormat], typer.Option("--format", help="Audio container (default: from the --out extension, else wav).")]
GainOpt = Annotated[float, typer.Option(
    "--gain", min=-60.0, max=1.0, metavar="DB",
    help="Output level: every audio file is written with its peak at -1 dBFS plus this many dB (-6: peak -7 dBFS).")]
SubtypeOpt = Annotated[Subtype, typer.Option("--subtype", help="Sample format.")]
CheckpointEveryOpt = Annotated[int, typer.Option("--checkpoint-every", min=0, help="Steps between checkpoints (0: only at the end).")]
TimeLimitOpt = Annotated[Optional[float], typer.Option("--time-limit", min=0.0, help="Stop after this many minutes (checkpoint + model written; --resume continues).", show_default=False)]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Stop at the first bad file instead of skipping it.")]
NSynthFilterOpt = Annotated[Optional[list[str]], typer.Option(
    "--filter", help="Repeatable: gansynth | source=acoustic | family=keyboard,guitar | pitch=24-84 | velocity=100 | "
                     "instrument=NAME.", show_default=False)]
NSynthCacheDirOpt = Annotated[Optional[Path], typer.Option(
    "--cache-dir", help="Where NSynth note caches live (default: ~/.cache/audiogen/nsynth).", show_default=False)]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue the run in --out from its checkpoint.")]


MAX_SHIFT = 24


def given_on_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` (its parameter name) was typed (or set from the environment), not defaulted."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def requested_fields(config, ctx: typer.Context, changed, shape_fields) -> dict:
    """The config fields this command line asks for: those `changed` by options the user typed
    (--lr, --set, --filter, ...) and, when --config was typed, the named config's `shape_fields`
    (what makes it that model: sizes, layout, conditioning)."""
    names = set(changed)
    if given_on_command_line(ctx, "config"):
        names |= set(shape_fields)
    return {k: getattr(config, k) for k in sorted(names) if hasattr(config, k)}


def parse_transpose(value: str) -> tuple[int, int] | None:
    """`--transpose LOW..HIGH` semitones -> (low, high); "none" -> None; typer.BadParameter if malformed."""
    if value.strip().lower() == "none":
        return None
    match = re.fullmatch(r"\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*", value)
    if not match:
        raise typer.BadParameter(f"{value!r}: expected LOW..HIGH semitones (e.g. -5..6) or none")
    low, high = int(match.group(1)), int(match.group(2))
    if low > high or max(abs(low), abs(high)) > MAX_SHIFT:
        raise typer.BadParameter(f"{value!r}: need LOW <= HIGH, both within -{MAX_SHIFT}..{MAX_SHIFT}")
    return low, high


ForceOutputsOpt = Annotated[bool, typer.Option(
    "--force", help="Replace files in --out-dir that another command (or you) wrote; a command's own earlier "
    "outputs are always replaced.")]


def not_an_input(output: Path | None, *inputs: Path | None) -> None:
    """BadInputError naming `output` when it is one of the command's input files (a command never
    writes over what it reads)."""
    import os

    if output is None:
        return
    for source in inputs:
        if source is not None and Path(source).is_file() and Path(output).exists() \
                and os.path.samefile(source, output):
            from audiogen.errors import BadInputError

            raise BadInputError(output, "is also the input; write the output to another file")


DirectionOpt = Annotated[Optional[list[str]], typer.Option(
    "--direction", help="NAME=AMOUNT: move the timbre AMOUNT unit steps along one of the model's latent directions "
    "(`audiogen directions ...` lists them, e.g. brightness=2); repeatable.", show_default=False, metavar="NAME=AMOUNT")]


# The options many commands end with, declared once: `@shared_options("device", "json_out", "quiet")`
# on a command whose signature ends `*, device, json_out, quiet` gives it these exact options.
SHARED_OPTIONS = {
    "audio_format": (FormatOpt, None),
    "subtype": (SubtypeOpt, Subtype.PCM_16),
    "gain": (GainOpt, 0.0),
    "rng_seed": (RngSeedOpt, None),
    "strict": (StrictOpt, False),
    "device": (DeviceOpt, "auto"),
    "json_out": (JsonOpt, False),
    "quiet": (QuietOpt, False),
    "force": (ForceOutputsOpt, False),
}


def shared_options(*names: str):
    """Give a command the shared options `names` (keys of SHARED_OPTIONS), in that order after its
    own: its signature names them as bare keyword-only parameters, and Typer sees the annotation
    and default declared here."""
    import inspect

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)  # the own options: real Annotated, not strings
        own = [p for p in signature.parameters.values() if p.name not in names]
        missing = [n for n in names if n not in signature.parameters]
        if missing:
            raise TypeError(f"{command.__name__} does not take the shared options {missing}")
        shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=SHARED_OPTIONS[n][1],
                                    annotation=SHARED_OPTIONS[n][0]) for n in names]
        command.__signature__ = signature.replace(parameters=own + shared)
        command.__annotations__ = {**command.__annotations__, **{n: SHARED_OPTIONS[n][0] for n in names}}
        return command

    return decorate
