"""`audiogen sample abc`: tunes from the ABC char-LSTM into one ABC file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import OutFile, shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("rng_seed", "device", "json_out", "quiet")
def sample_abc_command(
    out: OutFile,
    model: Annotated[Optional[Path], typer.Option("--model", help="ABC model file or bundled name (default: abc).", show_default=False)] = None,
    seed: Annotated[str, typer.Option("--seed", help="Priming text every tune starts with, e.g. a whole header; "
                                      "the two characters \\n stand for a line break.")] = "X:1",
    num: Annotated[int, typer.Option("--num", "-n", min=1, help="Tunes to sample.")] = 10,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="Softmax temperature; 0 is greedy (argmax).")] = 1.0,
    top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, help="Draw only from the K likeliest characters.", show_default=False)] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", min=0.0, max=1.0, help="Draw only from the likeliest characters whose probabilities reach P (nucleus).", show_default=False)] = None,
    max_chars: Annotated[int, typer.Option("--max-chars", min=1, help="Characters per tune after the seed; a tune without an end by then is cut and flagged.")] = 2000,
    free_meter: Annotated[bool, typer.Option("--free-meter", help="Draw freely: do not keep every bar in meter (by default the sampler masks what would break the bar).")] = False,
    valid_only: Annotated[bool, typer.Option("--valid-only", help="Draw a tune again until it ends, parses and (unless --free-meter) scans: every bar in meter (see --max-tries).")] = False,
    max_tries: Annotated[int, typer.Option("--max-tries", min=1, help="With --valid-only: draws per tune at most; tunes still unplayable are written, flagged.")] = 10,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Tunes sampled at once (default: all, at most 1024).", show_default=False)] = None,
    *, rng_seed, device, json_out, quiet,
) -> None:
    """Sample tunes from the ABC char-LSTM, all in one batch, into one ABC file (X:1..N).

    Each tune is the seed plus what the model writes until a blank line or the next X: line.
    Every bar is kept in meter as it is drawn (pickups allowed); --free-meter turns that off.

    Example: audiogen sample abc --seed "X:1\\nM:6/8\\nK:D" -n 10 --out tunes.abc
    """
    import time

    from audiogen.abc.generate import CUT_MARK, INVALID_MARK, abc_file_text, check_seed, sample_tunes
    from audiogen.abc.load import load_abc_model
    from audiogen.data.skips import warn
    from audiogen.errors import AudiogenError
    from audiogen.runtime.atomic import atomic_write_text
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import make_generator, seed_everything

    if top_p == 0:
        raise AudiogenError("--top-p 0: expected a probability above 0 (at most 1)")
    seed = seed.replace("\\n", "\n")
    torch_device = resolve_device(device)
    abc_model = load_abc_model(model, torch_device)
    check_seed(abc_model, seed)  # a seed it cannot take fails here; sample_tunes warns about its meter
    validator = None
    if valid_only:
        from audiogen.abc.validate import is_playable
        from audiogen.notation.bars import scan_tune

        validator = is_playable if free_meter else (lambda text: is_playable(text) and scan_tune(text).scans)
    used_seed = seed_everything(rng_seed)
    generator = make_generator(used_seed, torch_device)

    began = time.perf_counter()
    with make_progress(quiet=quiet or json_out, unit="tune") as progress:
        task = progress.add_task("sampling", total=num)

        def finished(count: int) -> None:
            done = progress.tasks[0].completed + count
            progress.update(task, completed=done, total=max(progress.tasks[0].total or 0, done))

        tunes = sample_tunes(abc_model, seed, num, temperature=temperature, top_k=top_k, top_p=top_p,
                             max_chars=max_chars, generator=generator, batch_size=batch_size,
                             validator=validator, max_tries=max_tries, on_finished=finished,
                             in_meter=not free_meter)
    seconds = time.perf_counter() - began

    header = (f"% sampled by audiogen sample abc: model {abc_model.path} (sha256 {abc_model.sha256[:12]}), "
              f"seed {seed!r}, temperature {temperature:g}, rng seed {used_seed}")
    atomic_write_text(out, abc_file_text(tunes, header, max_chars))

    cut = [i for i, t in enumerate(tunes, 1) if not t.ended]
    invalid = [i for i, t in enumerate(tunes, 1) if t.valid is False]
    if cut:
        warn(f"{len(cut)} tune(s) cut at --max-chars {max_chars} without an end (X: {_numbers(cut)}); "
             f"written with a '{CUT_MARK}' line")
    if invalid:
        what = "unplayable" if free_meter else "unplayable or out of meter"
        warn(f"{len(invalid)} tune(s) still {what} after {max_tries} tries (X: {_numbers(invalid)}); "
             f"written with a '{INVALID_MARK}' line")
    tries = sum(t.tries for t in tunes)
    from audiogen.notation.bars import scan_tune

    scanning = [scan_tune(t.text).scans for t in tunes]
    if json_out:
        emit_json({
            "out": out,
            "tunes": [{"index": i, "chars": t.chars, "ended": t.ended, "tries": t.tries, "scans": scans,
                       **({} if validator is None else {"valid": t.valid})}
                      for i, (t, scans) in enumerate(zip(tunes, scanning), 1)],
            "totals": {"tunes": len(tunes), "ended": len(tunes) - len(cut), "cut": len(cut), "scans": sum(scanning),
                       "valid": None if validator is None else len(tunes) - len(invalid), "tries": tries,
                       "chars": sum(t.chars for t in tunes)},
            "seconds": round(seconds, 3), "tunes_per_second": round(len(tunes) / max(seconds, 1e-9), 2),
            "model": abc_model.path, "model_sha256": abc_model.sha256,
            **provenance("sample abc", {
                "model": model, "seed": seed, "num": num, "temperature": temperature, "top_k": top_k,
                "top_p": top_p, "max_chars": max_chars, "free_meter": free_meter, "valid_only": valid_only,
                "max_tries": max_tries,
                "batch_size": batch_size, "out": out, "device": str(torch_device)}, rng_seed=used_seed)})
    valid_text = f", {len(tunes) - len(invalid)} playable after {tries} draws" if validator else ""
    result_line(f"{len(tunes)} tunes ({len(tunes) - len(cut)} ended, {len(cut)} cut, {sum(scanning)} scan)"
                f"{valid_text} in "
                f"{seconds:.1f} s = {len(tunes) / max(seconds, 1e-9):.1f} tunes/s -> {out}", json_mode=json_out)
    note(f"model {abc_model.path} (sha256 {abc_model.sha256[:12]}), rng seed {used_seed}", quiet=quiet or json_out)


def _numbers(numbers: list[int], shown: int = 10) -> str:
    text = ", ".join(map(str, numbers[:shown]))
    return text + (f", ... ({len(numbers) - shown} more)" if len(numbers) > shown else "")
