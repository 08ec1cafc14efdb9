"""How commands talk: results on stdout (JSON with --json), notes and progress on stderr."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import audiogen


def emit_json(result: dict) -> None:
    """One strict JSON document on stdout: paths become strings, NaN and infinities null."""
    sys.stdout.write(json.dumps(_finite(result), indent=2, default=_jsonable, allow_nan=False) + "\n")
    sys.stdout.flush()


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def provenance(command: str, args: dict, **extra) -> dict:
    """What made an output: the command, its arguments, the audiogen version, plus e.g. rng_seed."""
    return {"command": command, "audiogen": audiogen.__version__,
            "args": {k: (str(v) if isinstance(v, Path) else getattr(v, "value", v)) for k, v in args.items()},
            **extra}


def note(message: str, *, quiet: bool = False) -> None:
    """A human line on stderr (skipped with --quiet)."""
    if not quiet:
        from audiogen.runtime.progress import stderr_console

        stderr_console().print(message, highlight=False, soft_wrap=True)


def compare_with_bundled(value: float | None, bundled: float | None, *, what: str, higher_is_better: bool,
                         margin: float, hint: str, quiet: bool = False) -> None:
    """After training: when `value` is far (more than `margin`) from the bundled model's figure,
    say so on stderr beside that figure, with a `hint` of what to change."""
    if value is None or bundled is None or not math.isfinite(value):
        return
    gap = (bundled - value) if higher_is_better else (value - bundled)
    if gap > margin:
        note(f"note: {what} {value:.3f} is far from the bundled model's {bundled:.3f}; {hint}", quiet=quiet)


def result_line(message: str, *, json_mode: bool) -> None:
    """A human result line: stdout normally, stderr when stdout carries --json."""
    print(message, file=sys.stderr if json_mode else sys.stdout, flush=True)


def write_clip(path: Path, wave, model_rate: int, sample_rate: int | None, audio_format, subtype,
               gain_db: float = 0.0) -> Path:
    """Write one listening output (T,) at the model's rate, resampled to `sample_rate` when given,
    at the tool's output level (peak -1 dBFS) plus `gain_db`."""
    from audiogen.dsp import resample, save_audio
    from audiogen.dsp.loudness import output_peak_dbfs

    rate = sample_rate or model_rate
    return save_audio(path, resample(wave, model_rate, rate), rate, peak_dbfs=output_peak_dbfs(gain_db),
                      format=audio_format.value if audio_format else None, subtype=subtype.value)
