"""`audiogen eval musicvae`: reconstruction accuracy (teacher-forced and sampled), per class and meter, KL;
with --samples, a musician's counts of new melodies beside the same counts of the held-out tunes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.musicvae_options import MusicVAEModelOpt, PriorOpt, RepeatsOpt, TemperatureOpt, TrackOpt
from audiogen.cli.options import shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("rng_seed", "device", "json_out", "quiet")
def eval_musicvae_command(
    data: Annotated[list[Path], typer.Option("--data", help="Held-out melodies: MIDI/ABC files or folders, or a .npz "
                                             "window set (a run's heldout.npz); repeatable.", show_default=False,
                                             metavar="FILE|DIR")],
    model: MusicVAEModelOpt = None,
    max_windows: Annotated[Optional[int], typer.Option("--max-windows", min=1, help="Score at most this many windows "
                                                       "(an even spread over the data).", show_default=False)] = None,
    meter: Annotated[Optional[str], typer.Option("--meter", help="Score only the windows in this meter, e.g. 4/4 "
                                                 "(the labels of the per-meter table).", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Windows scored at once.")] = 512,
    track: TrackOpt = None,
    samples: Annotated[int, typer.Option("--samples", min=0, max=100000, help="Also sample this many new melodies "
                                         "(in --meter) and count, beside the held-out windows: notes in the "
                                         "best-fitting diatonic scale, bars repeating an earlier bar, notes per "
                                         "bar, pitch range.")] = 0,
    temperature: TemperatureOpt = 0.5,
    prior: PriorOpt = "fitted",
    repeats: RepeatsOpt = True,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unusable MIDI/ABC file.")] = False,
    *, rng_seed, device, json_out, quiet,
) -> None:
    """Measure a MusicVAE on held-out melodies: how well it reconstructs them from their latent codes.

    Teacher-forced accuracy: the decoder reads the true previous events; sampled: it runs free (greedy) from the encoder mean. Steps of padding are not scored.

    Also: accuracy per event class (no-event, note-off, note-on), per meter, KL and reconstruction loss.

    With --samples N: N new melodies (as sample musicvae makes them, --temperature, --prior, --repeats, --rng-seed) counted the way a musician would, beside the held-out windows: notes in the best-fitting diatonic scale, bars that repeat an earlier bar, notes per bar, pitch range.

    Example: audiogen eval musicvae --data runs/mv2/heldout.npz --json

    Example: audiogen eval musicvae --model musicvae-16bar --data heldout.npz --meter 4/4 --samples 100 --rng-seed 1
    """
    import time

    import numpy as np

    from audiogen.data.skips import SkipLog
    from audiogen.musicvae.evaluate import heldout_windows, reconstruction_metrics
    from audiogen.musicvae.generate import check_trained_meter, meter_layout, sample_new
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.musicvae.melody_counts import melody_counts
    from audiogen.musicvae.prior import check_prior
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import make_generator, seed_everything

    check_prior(prior)
    torch_device = resolve_device(device)
    loaded = load_musicvae_model(model, torch_device)
    if samples and meter is not None:
        meter_layout(check_trained_meter(meter, loaded.extra.get("meters")), loaded.bars)  # before any work
    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet or json_out, unit="file") as progress:
        tasks: list = []
        found = heldout_windows(data, loaded, meter=meter, max_windows=max_windows, track=track, skips=skips,
                                on_start=lambda total: tasks.append(progress.add_task("melodies", total=total)),
                                on_item=lambda: progress.advance(tasks[0]))
    events, meters, sources = found["events"], found["meter"], found["source"]
    began = time.perf_counter()
    metrics = reconstruction_metrics(loaded.model, events, batch_size=batch_size, device=torch_device,
                                     labels=meters)
    counts = used_seed = None
    if samples:
        used_seed = seed_everything(rng_seed)
        generated = sample_new(loaded, samples, make_generator(used_seed, torch_device), prior=prior,
                               repeats=repeats, meter=meter, temperature=temperature)
        counts = {"samples": melody_counts(generated), "heldout": melody_counts(events),
                  "prior": prior if loaded.prior is not None else "standard", "temperature": temperature,
                  "repeats": bool(repeats and loaded.forms is not None), "meter": meter}
    seconds = time.perf_counter() - began
    melodies = int(len(np.unique(sources)))
    if json_out:
        emit_json({**metrics, "melodies": melodies, "sample_counts": counts, "bars": loaded.bars,
                   "hierarchical": bool(loaded.model.config.hierarchical), "seconds": round(seconds, 2),
                   "skipped": skips.to_dict(), "model": loaded.path, "model_sha256": loaded.sha256,
                   **provenance("eval musicvae", {"data": [str(p) for p in data], "model": model,
                                                  "max_windows": max_windows, "meter": meter, "track": track,
                                                  "samples": samples, "temperature": temperature, "prior": prior,
                                                  "repeats": repeats, "device": str(torch_device)},
                                      **({"rng_seed": used_seed} if samples else {}))})
        return
    result_line(f"{metrics['windows']} windows of {loaded.bars} bars from {melodies} melodies: accuracy "
                f"{metrics['tf_accuracy']:.3f} teacher-forced, {metrics['sampled_accuracy']:.3f} sampled; "
                f"KL {metrics['kl']:.1f} nats; reconstruction loss {metrics['recon_loss']:.2f} nats/window",
                json_mode=False)
    for name, entry in metrics["per_class"].items():
        if entry["steps"]:
            result_line(f"  {name:9s} {entry['steps']:7d} steps: {entry['tf_accuracy']:.3f} teacher-forced, "
                        f"{entry['sampled_accuracy']:.3f} sampled", json_mode=False)
    for label, entry in list(metrics["by_label"].items())[:8]:
        result_line(f"  {label:9s} {entry['windows']:7d} windows: {entry['tf_accuracy']:.3f} teacher-forced, "
                    f"{entry['sampled_accuracy']:.3f} sampled", json_mode=False)
    if counts is not None:
        result_line(f"counts ({samples} samples, {counts['prior']} prior, temperature {temperature:g}, "
                    f"repeats {'on' if counts['repeats'] else 'off'}; held-out: {len(events)} windows"
                    f"{' in ' + meter if meter else ''}):", json_mode=False)
        for name, label in (("in_scale", "notes in the best-fitting diatonic scale"),
                            ("repeated_bars", "bars repeating an earlier bar"), ("notes_per_bar", "notes per bar"),
                            ("pitch_range", "pitch range, semitones")):
            sampled, real = counts["samples"][name], counts["heldout"][name]
            result_line(f"  {label:42s} samples {_figure(sampled)}  held-out {_figure(real)}", json_mode=False)
    seeded = f", rng seed {used_seed}" if samples else ""
    note(f"model {loaded.path} (sha256 {loaded.sha256[:12]}){seeded}; {seconds:.1f} s", quiet=quiet)


def _figure(value) -> str:
    return "   -  " if value is None else f"{value:6.3f}"
