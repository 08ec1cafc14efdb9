"""`audiogen eval gansynth`: GANSynth's quality measures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.gansynth_sample import GANSynthModelOpt
from audiogen.cli.options import NSynthCacheDirOpt, NSynthFilterOpt, shared_options
from audiogen.cli.output import emit_json, note, provenance


@shared_options("device", "json_out", "quiet")
def eval_gansynth_command(
    data: Annotated[Optional[Path], typer.Option("--data", help="NSynth folder of real held-out notes.",
                                                 show_default=False, metavar="DIR")] = None,
    melodies: Annotated[Optional[list[Path]], typer.Option(
        "--melodies", help="Held-out MIDI melodies (files or folders; repeatable): each played with 2 timbres "
        "(the latents of --rng-seed 1 and 2), read back by pYIN.", show_default=False, metavar="DIR|FILE")] = None,
    reference_soundfont: Annotated[Optional[Path], typer.Option(
        "--reference-soundfont", help="Also play the --melodies with this SoundFont through FluidSynth and report "
        "the same figures beside (an exported .sf2, or a GM font).", show_default=False)] = None,
    reference_program: Annotated[Optional[int], typer.Option(
        "--reference-program", min=0, max=127, help="Program every melody plays on the reference SoundFont "
        "(0 for an exported instrument; default: each file's own).", show_default=False)] = None,
    model: GANSynthModelOpt = None,
    classifier: Annotated[Optional[Path], typer.Option("--classifier", help="Pitch classifier model file (default: "
                                                       "the bundled one).", show_default=False)] = None,
    num: Annotated[int, typer.Option("--num", "-n", min=4, max=100000, help="Generated notes (and real notes in "
                                     "each half).")] = 1000,
    pyin_notes: Annotated[int, typer.Option("--pyin-notes", min=0, help="Generated and real notes whose pitch pYIN "
                                            "reads (about 0.4 s a note; 0: none).")] = 100,
    filters: NSynthFilterOpt = None,
    cache_dir: NSynthCacheDirOpt = None,
    rng_seed: Annotated[int, typer.Option("--rng-seed", help="Seed for the latents, pitches and the real split.")] = 0,
    *, device, json_out, quiet,
) -> None:
    """Measure a GANSynth model: pitch accuracy, pitch entropy, Inception score, Fréchet distance
    and NDB of generated notes, each beside the same measure of real held-out notes; pYIN's
    reading of their pitch; and the pitch grid (4 timbres each held across MIDI 36, 42, ..., 84:
    pYIN through each note's life, classifier, loudness spread, timbre distance, clicks). With
    --melodies: held-out melodies played with two timbres, each note read by pYIN over its first
    0.4 s, and the spread of the note levels in every render.

    Example: audiogen eval gansynth --model runs/gs/model.safetensors --data nsynth-valid/ -n 1000
    """
    from audiogen.errors import AudiogenError
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress

    if data is None and not melodies:
        raise AudiogenError("give --data (held-out NSynth notes) or --melodies (held-out MIDI melodies), or both")
    if reference_soundfont is not None and not melodies:
        raise AudiogenError("--reference-soundfont plays the --melodies; give them too")
    melody_list = None
    if melodies:
        from audiogen.data.skips import SkipLog
        from audiogen.gansynth.melody_check import read_melodies

        melody_list = read_melodies(melodies, skips=SkipLog(warn=not quiet))
    if reference_soundfont is not None:
        from audiogen.errors import require_file

        require_file(reference_soundfont, "a SoundFont file")
    torch_device = resolve_device(device)
    bundle = load_gansynth_model(model, torch_device)
    result: dict = {}
    judge_file = None
    if data is not None:
        result, judge_file, filt = _evaluate_notes(bundle, data, classifier, num=num, pyin_notes=pyin_notes,
                                                   filters=filters, cache_dir=cache_dir, rng_seed=rng_seed,
                                                   device=torch_device, quiet=quiet or json_out)
    if melody_list:
        from audiogen.gansynth.melody_check import MELODY_SEEDS, play_with_model, play_with_soundfont, summarise

        renders = len(melody_list) * (len(MELODY_SEEDS) + (reference_soundfont is not None))
        with make_progress(quiet=quiet or json_out, unit="render") as progress:
            task = progress.add_task("melodies", total=renders)
            result["melodies"] = summarise(play_with_model(bundle, melody_list,
                                                           on_render=lambda: progress.advance(task)))
            if reference_soundfont is not None:
                result["melodies_reference"] = {
                    "soundfont": str(reference_soundfont), "program": reference_program,
                    **summarise(play_with_soundfont(reference_soundfont, reference_program, melody_list,
                                                    on_render=lambda: progress.advance(task)))}
    if json_out:
        emit_json({**result, "model": bundle.path, "model_sha256": bundle.sha256,
                   **({"classifier": judge_file.path, "classifier_sha256": judge_file.sha256} if judge_file else {}),
                   **provenance("eval gansynth", {
                       "data": data, "melodies": melodies, "reference_soundfont": reference_soundfont,
                       "reference_program": reference_program, "model": model, "classifier": classifier, "num": num,
                       "pyin_notes": pyin_notes, "filter": filt.describe() if data is not None else None,
                       "device": str(torch_device)}, rng_seed=rng_seed)})
        return
    if data is not None:
        _print_notes(result, pyin_notes)
        note(f"{result['generated']['notes']} generated vs {result['real']['notes']} real notes, each against "
             f"{result['reference_notes']} other real notes (Fréchet distance, NDB with k={result['k']}); "
             f"model {bundle.path}", quiet=quiet)
    for key, who in (("melodies", "GANSynth"), ("melodies_reference", reference_soundfont and reference_soundfont.name)):
        if key in result:
            m = result[key]
            share = "-" if m["onset_within_semitone"] is None else f"{m['onset_within_semitone']:.3f}"
            print(f"melodies, {who} ({m['renders']} renders, {m['notes']} notes): pYIN within a semitone over "
                  f"each note's first 0.4 s {share}, level spread (90th - 10th percentile) "
                  f"median {m['level_spread_db_median']} dB, worst {m['level_spread_db_max']} dB")


def _evaluate_notes(bundle, data: Path, classifier, *, num: int, pyin_notes: int, filters, cache_dir, rng_seed: int,
                    device, quiet: bool):
    """The note-level evaluation against held-out notes: (result, classifier file, filter)."""
    from audiogen.data.nsynth import NSynthFilter
    from audiogen.data.nsynth_cache import build_cache
    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError
    from audiogen.gansynth.classifier_train import load_pitch_classifier
    from audiogen.gansynth.evaluate import evaluate_gansynth
    from audiogen.runtime.progress import make_progress

    judge, judge_file = load_pitch_classifier(classifier, device)
    filt = NSynthFilter.parse(list(filters) if filters else ["gansynth"])
    cache, _ = build_cache(data, filt, cache_root=cache_dir, skips=SkipLog(warn=not quiet))
    with make_progress(quiet=quiet, unit="note") as progress:  # one bar per stage, counting notes
        tasks: list = []

        def stage(text: str, total: int) -> None:
            if tasks:
                progress.update(tasks[-1], completed=progress.tasks[-1].total)
            tasks.append(progress.add_task(text, total=total))

        try:
            result = evaluate_gansynth(bundle, judge, cache, n=num, seed=rng_seed, pyin_notes=pyin_notes,
                                       on_stage=stage, on_notes=lambda n: progress.advance(tasks[-1], n))
        except ValueError as e:
            raise AudiogenError(f"{data}: {e}") from None
    return result, judge_file, filt


def _print_notes(result: dict, pyin_notes: int) -> None:
    gen, real = result["generated"], result["real"]
    rows = [("pitch accuracy", "pitch_accuracy", "{:.3f}"), ("pitch entropy (nats)", "pitch_entropy", "{:.3f}"),
            ("Inception score", "inception_score", "{:.2f}"), ("Fréchet distance", "frechet_distance", "{:.2f}"),
            ("NDB / k", "ndb_over_k", "{:.2f}")]
    print(f"{'':24} {'generated':>12} {'real held-out':>14}")
    if pyin_notes:
        rows += [("pYIN within a semitone", "pyin_within_semitone", "{:.3f}"), ("pYIN voiced", "pyin_voiced", "{:.3f}")]
    for label, key, fmt in rows:
        print(f"{label:24} {fmt.format(gen[key]):>12} {fmt.format(real[key]):>14}")
    grid = result["grid"]
    share = lambda key: "-" if grid[key] is None else f"{grid[key]:.3f}"  # noqa: E731
    print(f"pitch grid ({grid['notes']} notes: 4 timbres x MIDI {grid['pitches'][0]}-{grid['pitches'][-1]}): "
          f"pYIN within a semitone {share('pyin_within_semitone')}, voiced {share('pyin_voiced')}, "
          f"classifier {share('classifier_accuracy')}, quietest {grid['quietest_db_below_loudest']:.1f} dB "
          f"below the loudest, timbre distance {grid['timbre_distance_db']:.2f} dB")
    if grid.get("onset_within_semitone") is not None:
        print(f"pitch grid through each note (pYIN within a semitone): onset 0.04-0.4 s "
              f"{share('onset_within_semitone')}, sustain 0.4-2 s {share('sustain_within_semitone')}, tail 2-3.7 s "
              f"{share('tail_within_semitone')}; {grid['clicks']} of {grid['notes']} notes end with a click")
