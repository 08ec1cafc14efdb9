"""`audiogen eval translate`: how close translations come to the true target, beside the untranslated input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import shared_options, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line
from audiogen.cli.translate import TranslateModelOpt


@shared_options("strict", "device", "json_out", "quiet")
def eval_translate_command(
    data: Annotated[Path, typer.Option("--data", help="A `data pairs` folder: a/ the inputs, b/ the true "
                                       "targets (render it with a SoundFont the model never heard).",
                                       show_default=False, metavar="PAIRS_DIR")],
    model: TranslateModelOpt = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Judge only the first N pairs.",
                                                 show_default=False)] = None,
    no_pyin: Annotated[bool, typer.Option("--no-pyin", help="Skip the melody measure (pYIN takes ~1 s per "
                                          "second of audio).")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also write the per-pair table as JSON here.",
                                                   show_default=False, callback=writable_file)] = None,
    *, strict, device, json_out, quiet,
) -> None:
    """Judge a translator on held-out pairs: log-mel distance to the true target beside the input's
    own (the identity baseline), melody kept (pYIN, beside the true target's own share), length;
    for unpaired models also the cycle a -> b -> a error.

    Example: audiogen eval translate --data heldout-pairs/ --json
    """
    import json

    from audiogen.data.pairs import read_pairs_manifest
    from audiogen.data.skips import SkipLog
    from audiogen.errors import BadInputError
    from audiogen.runtime.atomic import atomic_write_text
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.translate.data import load_pairs
    from audiogen.translate.evaluate import evaluate_pairs, pitch_limits
    from audiogen.translate.generate import cycle_wave, translate_wave
    from audiogen.translate.load import load_translate_model

    torch_device = resolve_device(device)
    bundle = load_translate_model(model, torch_device)
    skips = SkipLog(strict=strict)
    clips = load_pairs(data, bundle.rep, skips=skips, limit=limit)
    if not len(clips):
        raise BadInputError(data, "has no usable pairs" + (f" ({len(skips)} skipped)" if len(skips) else ""))
    fmin, fmax = pitch_limits(read_pairs_manifest(data).get("range"))
    with make_progress(quiet=quiet or json_out, unit="pair") as progress:
        task = progress.add_task("eval translate", total=len(clips))
        result = evaluate_pairs(lambda w: translate_wave(bundle, w), clips, bundle.rep.sample_rate,
                                cycle=(lambda w: cycle_wave(bundle, w)) if bundle.unpaired else None,
                                pyin=not no_pyin, fmin=fmin, fmax=fmax, on_item=lambda: progress.advance(task))
    rows = result.pop("rows")
    if report is not None:
        atomic_write_text(report, json.dumps({**result, "rows": rows}, indent=1) + "\n")
    if json_out:
        emit_json({**result, "rows": rows, "skipped": skips.to_dict(), "model": bundle.path,
                   "model_sha256": bundle.sha256, "direction": bundle.describe(),
                   **provenance("eval translate", {"data": data, "model": model, "limit": limit, "no_pyin": no_pyin,
                                                   "report": report, "strict": strict, "device": str(torch_device)})})
        return
    def f(key: str, digits: int = 3, scale: float = 1.0) -> str:
        value = result.get(key)
        return "n/a" if value is None else f"{scale * value:.{digits}f}"

    line = (f"{result['pairs']} pairs ({result['seconds']:.0f} s): log-mel distance {f('log_mel_distance', 2)} dB "
            f"vs input's {f('identity_log_mel_distance', 2)} dB ({f('log_mel_reduction', 1, 100)}% lower)")
    if not no_pyin:
        line += (f"; melody kept {f('output_melody_kept')} (true target {f('target_melody_kept')}, "
                 f"voiced {f('output_voiced_of_input')} / {f('target_voiced_of_input')})")
    line += f"; length ratio {f('length_ratio_min', 4)}-{f('length_ratio_max', 4)}"
    if "cycle_log_mel_distance" in result:
        line += f"; cycle a->b->a log-mel distance {f('cycle_log_mel_distance', 2)} dB"
    result_line(line, json_mode=False)
    note(f"{bundle.describe()} ({bundle.path.name}); {len(skips)} pairs skipped", quiet=quiet)
