"""`audiogen eval abc`: held-out bits per character, and how good the model's sampled tunes are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.abc_render import Converter, ConverterOpt, read_tunes
from audiogen.cli.options import shared_options, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("rng_seed", "device", "json_out", "quiet")
def eval_abc_command(
    data: Annotated[list[Path], typer.Option("--data", help="Held-out ABC file or folder of .abc files; repeatable.",
                                             show_default=False, metavar="FILE|DIR")],
    model: Annotated[Optional[Path], typer.Option("--model", help="ABC model file or bundled name (default: abc).",
                                                  show_default=False)] = None,
    num: Annotated[int, typer.Option("--num", "-n", min=1, max=100000, help="Tunes to sample.")] = 1000,
    seed: Annotated[str, typer.Option("--seed", help="Priming text each sampled tune starts with (\\n: a line break).")] = "X:1",
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature (0: greedy).")] = 1.0,
    max_chars: Annotated[int, typer.Option("--max-chars", min=1, help="Cut a sampled tune after this many characters.")] = 2000,
    min_notes: Annotated[int, typer.Option("--min-notes", min=1, help="Notes a tune's MIDI needs to count as playable.")] = 8,
    free_meter: Annotated[bool, typer.Option("--free-meter", help="Sample without keeping bars in meter (as `sample abc --free-meter`).")] = False,
    train_data: Annotated[Optional[list[Path]], typer.Option(
        "--train-data", help="The model's training tunes (file or folder; repeatable), for their share that scans "
        "beside the samples' (default: the share stored in the model file, where it has one).",
        show_default=False, metavar="FILE|DIR")] = None,
    converter: ConverterOpt = Converter.auto,
    keep_samples: Annotated[Optional[Path], typer.Option(
        "--keep-samples", help="Write the sampled tunes to this ABC file (X:1..N) for inspection.",
        show_default=False, callback=writable_file)] = None,
    *, rng_seed, device, json_out, quiet,
) -> None:
    """Measure an ABC model: held-out bits/char, and how good its sampled tunes are.

    For the sampled tunes: the share that abc2midi turns into MIDI with >= 8 notes, that music21 parses (a second opinion), with valid M:/L:/K: headers, and copied from the training tunes; meter and key histograms next to the training data's.

    "scans": the share of tunes whose every bar is in meter (pickups allowed), by audiogen's bar reader and by abc2midi's own bar check, for the samples, the held-out tunes and the training tunes side by side, with the most common failures.

    Without abc2midi (Debian abcmidi) "playable" falls back to our own ABC reader; the output names the converter.

    Example: audiogen eval abc --data held-out.abc -n 200 --keep-samples samples.abc
    """
    from audiogen.abc.evaluate import evaluate_abc, resolve_converter
    from audiogen.data.skips import warn
    from audiogen.runtime.progress import make_progress

    seed = seed.replace("\\n", "\n")  # as in `sample abc`: the two characters \n are a line break
    # Input problems first, before torch is imported (seconds).
    used_converter = resolve_converter(converter.value)
    tunes, skips = read_tunes(data, quiet=quiet)
    train_tunes, train_skips = read_tunes(train_data, quiet=quiet) if train_data else (None, None)

    from audiogen.abc.generate import check_seed
    from audiogen.abc.load import load_abc_model
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.seeding import make_generator, seed_everything

    torch_device = resolve_device(device)
    abc_model = load_abc_model(model, torch_device)
    check_seed(abc_model, seed)
    rng = seed_everything(rng_seed)
    note(f"measuring bits per character on {len(tunes)} held-out tunes", quiet=quiet or json_out)
    with make_progress(quiet=quiet or json_out, unit="tune") as progress:
        def bar(phase: str, total: int):
            task = progress.add_task(phase, total=total)
            return lambda count: progress.advance(task, count)

        result = evaluate_abc(abc_model, [t.text for t in tunes],
                              train_texts=[t.text for t in train_tunes] if train_tunes is not None else None,
                              num=num, seed=seed, temperature=temperature, max_chars=max_chars, min_notes=min_notes,
                              in_meter=not free_meter, converter=used_converter,
                              generator=make_generator(rng, torch_device), device=torch_device, progress=bar)
    heldout, training, samples = result["heldout"], result["training"], result["samples"]
    if heldout["left_out"]:
        warn(f"{heldout['left_out']} held-out tunes use characters outside the model's vocabulary "
             f"({heldout['unknown_chars'][:20]!r}) and are left out of the bits per character")
    if heldout["in_training"]:
        warn(f"{heldout['in_training']} held-out tunes are among the model's training tunes: "
             "their bits per character are not held-out figures")
    if keep_samples is not None:
        _write_samples(keep_samples, result["texts"], abc_model, seed, temperature, rng)

    if json_out:
        emit_json({"model": abc_model.path, "heldout": heldout, "samples": samples,
                   "scans": {"samples": samples["scans"], "heldout": heldout["scans"], "training": training},
                   "kept_samples": keep_samples, "skipped": skips.to_dict(),
                   "train_skipped": None if train_skips is None else train_skips.to_dict(),
                   **provenance("eval abc", {"data": [str(p) for p in data], "model": model, "num": num,
                                             "seed": seed, "temperature": temperature, "max_chars": max_chars,
                                             "min_notes": min_notes, "converter": converter,
                                             "free_meter": free_meter,
                                             "train_data": [str(p) for p in train_data] if train_data else None,
                                             "keep_samples": keep_samples, "device": str(torch_device)},
                                rng_seed=rng, model_sha256=abc_model.sha256)})
    for line in report_lines(abc_model, heldout, samples, training, seed=seed, temperature=temperature, rng_seed=rng):
        result_line(line, json_mode=json_out)
    if keep_samples is not None:
        note(f"wrote the {num} sampled tunes to {keep_samples}", quiet=quiet or json_out)
    times = {"held-out bits/char": heldout["seconds"], **samples["seconds"]}
    note("seconds: " + ", ".join(f"{name} {value:.1f}" for name, value in times.items()), quiet=quiet or json_out)


def _write_samples(path: Path, texts: list[str], abc_model, seed: str, temperature: float, rng: int) -> None:
    """The sampled tunes as one ABC file: a % header saying what made them, tunes numbered X:1..N."""
    from audiogen.runtime.atomic import atomic_write_text

    parts = [f"% {len(texts)} tunes sampled by audiogen eval abc from {abc_model.path.name} "
             f"(sha256 {abc_model.sha256[:16]}), seed {seed!r}, temperature {temperature:g}, rng seed {rng}\n"]
    for i, text in enumerate(texts, 1):
        first, _, rest = text.partition("\n")
        parts.append(f"X:{i}\n{rest}" if first.startswith("X:") else f"X:{i}\n{text}")
    atomic_write_text(path, "\n".join(parts))


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


def report_lines(abc_model, heldout: dict, samples: dict, training: dict | None = None, *, seed: str,
                 temperature: float, rng_seed: int) -> list[str]:
    """The human report: one figure per line, then the meter and key tables."""
    n, conv = samples["n"], samples["converter"]
    lines = [f"model {abc_model.path} (sha256 {abc_model.sha256[:16]})"]
    left = f"; {heldout['left_out']} left out: characters outside the vocabulary" if heldout["left_out"] else ""
    lines.append(f"{'held-out bits/char':<26}{heldout['bpc']:.3f}   ({heldout['used']} tunes, "
                 f"{heldout['chars']:,} chars{left})")
    lines.append(f"{'sampled tunes':<26}{n}   (seed {seed!r}, temperature {temperature:g}, rng seed {rng_seed}; "
                 f"{_pct(samples['ended'])} ended, {samples['mean_chars']:.0f} chars on average)")
    lines.append(f"{'playable (' + conv + ')':<26}{_pct(samples['playable'])}   "
                 f"(MIDI with >= {samples['min_notes']} notes)")
    a2m = samples["abc2midi"]
    if a2m is not None:
        lines.append(f"{'abc2midi converts':<26}{_pct(a2m['converted'])}   (with 'Error' lines: "
                     f"{_pct(a2m['printed_errors'])}; median {a2m['median_notes'] or 0:.0f} notes)")
    else:
        lines.append(f"{'abc2midi converts':<26}n/a   (abc2midi is not installed)")
    m21 = samples["music21"]
    lines.append(f"{'music21 parses':<26}{_pct(m21['parsed'])}   (>= {samples['min_notes']} notes: "
                 f"{_pct(m21['playable'])})")
    h, hh = samples["headers"], heldout["headers"]
    lines.append(f"{'valid M:/L:/K: headers':<26}{_pct(h['valid'])}   (M: {_pct(h['M'])}, L: {_pct(h['L'])}, "
                 f"K: {_pct(h['K'])}; held-out tunes: {_pct(hh['valid'])})")
    c = samples["copies"]
    copied = "n/a (the model file lists no training tunes)" if c["share"] is None else _pct(c["share"])
    count = "" if c["count"] is None else f"{c['count']} tunes; "
    lines.append(f"{'copies of training tunes':<26}{copied}   ({count}distinct bodies among samples: "
                 f"{_pct(c['distinct'])})")
    lines += [""] + scan_lines(samples["scans"], heldout.get("scans"), training)
    for field, label in (("meter", "M:"), ("key", "K:")):
        table = samples[field]
        tv = table["tv_distance"]
        lines.append("")
        lines.append(f"{label:<14}{'samples':>9}{'training':>10}" + ("" if tv is None else
                                                                     f"   (total variation {tv:.3f})"))
        for row in table["rows"]:
            training = "n/a" if table["training"] is None else _pct(row["training"])
            lines.append(f"{row['value'][:14]:<14}{_pct(row['samples']):>9}{training:>10}")
    return lines


def scan_lines(samples: dict, heldout: dict | None, training: dict | None) -> list[str]:
    """The "scans" table: samples, held-out and training tunes side by side."""
    columns = [("samples", samples), ("held-out", heldout), ("training", training)]
    lines = [f"{'scans (bars in meter)':<26}" + "".join(f"{name:>10}" for name, _ in columns)]

    def cell(summary: dict | None, judge: str) -> str:
        if summary is None:
            return "n/a"
        if judge == "reader":
            return _pct(summary["scans"])
        return "n/a" if summary.get("abc2midi") is None else _pct(summary["abc2midi"]["scans"])

    for judge, label in (("reader", "audiogen bar reader"), ("abc2midi", "abc2midi bar check")):
        lines.append(f"{label:<26}" + "".join(f"{cell(summary, judge):>10}" for _, summary in columns))
    failures = samples.get("failures") or {}
    if failures:
        lines.append(f"{'samples failing by':<26}" + ", ".join(f"{kind} {count}" for kind, count in list(failures.items())[:4]))
    return lines
