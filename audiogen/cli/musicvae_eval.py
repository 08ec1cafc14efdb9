"""`audiogen eval musicvae`: reconstruction accuracy (teacher-forced and sampled), per class and meter, KL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.musicvae_options import MusicVAEModelOpt, TrackOpt
from audiogen.cli.options import shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("device", "json_out", "quiet")
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
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unusable MIDI/ABC file.")] = False,
    *, device, json_out, quiet,
) -> None:
    """Measure a MusicVAE on held-out melodies: how well it reconstructs them from their latent codes.

    Teacher-forced accuracy: the decoder reads the true previous events; sampled: it runs free (greedy) from the encoder mean. Steps of padding are not scored.

    Also: accuracy per event class (no-event, note-off, note-on), per meter, KL and reconstruction loss.

    Example: audiogen eval musicvae --data runs/mv2/heldout.npz --json

    Example: audiogen eval musicvae --model assets/models/musicvae-16bar.safetensors --data heldout.npz --meter 4/4
    """
    import time

    import numpy as np

    from audiogen.data.skips import SkipLog
    from audiogen.errors import BadInputError
    from audiogen.musicvae.data import read_window_sets
    from audiogen.musicvae.evaluate import reconstruction_metrics
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.musicvae.train import config_from_dict
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress

    torch_device = resolve_device(device)
    loaded = load_musicvae_model(model, torch_device)
    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet or json_out, unit="file") as progress:
        tasks: list = []
        arrays = read_window_sets(data, loaded.bars, config_from_dict(loaded.config).hop_bars, skips=skips,
                                  track=track,
                                  on_start=lambda total: tasks.append(progress.add_task("melodies", total=total)),
                                  on_item=lambda: progress.advance(tasks[0]))
    events, meters, sources = arrays["events"], arrays["meter"], arrays["source"]
    if meter is not None:
        chosen = meters == meter.strip()
        if not chosen.any():
            found = ", ".join(sorted(set(meters.tolist()), key=lambda m: -int((meters == m).sum()))[:8])
            raise BadInputError(data[0], f"no window in {meter.strip()} (meters here: {found})")
        events, meters, sources = events[chosen], meters[chosen], sources[chosen]
    if max_windows is not None and len(events) > max_windows:
        rows = np.linspace(0, len(events) - 1, max_windows).round().astype(int)
        events, meters, sources = events[rows], meters[rows], sources[rows]
    began = time.perf_counter()
    metrics = reconstruction_metrics(loaded.model, events, batch_size=batch_size, device=torch_device,
                                     labels=meters)
    seconds = time.perf_counter() - began
    melodies = int(len(np.unique(sources)))
    if json_out:
        emit_json({**metrics, "melodies": melodies, "bars": loaded.bars,
                   "hierarchical": bool(loaded.model.config.hierarchical), "seconds": round(seconds, 2),
                   "skipped": skips.to_dict(), "model": loaded.path, "model_sha256": loaded.sha256,
                   **provenance("eval musicvae", {"data": [str(p) for p in data], "model": model,
                                                  "max_windows": max_windows, "meter": meter, "track": track,
                                                  "device": str(torch_device)})})
        return
    result_line(f"{metrics['windows']} windows of {loaded.bars} bars from {melodies} melodies: accuracy "
                f"{metrics['tf_accuracy']:.3f} teacher-forced, {metrics['sampled_accuracy']:.3f} sampled; "
                f"KL {metrics['kl']:.1f} nats; reconstruction loss {metrics['recon_loss']:.2f} nats/window",
                json_mode=False)
    for name, entry in metrics["per_class"].items():
        if entry["steps"]:
            result_line(f"  {name:9s} {entry['steps']:7d} steps: {entry['tf_accuracy']:.3f} teacher-forced, "
                        f"{entry['sampled_accuracy']:.3f} sampled", json_mode=False)
    for meter, entry in list(metrics["by_label"].items())[:8]:
        result_line(f"  {meter:9s} {entry['windows']:7d} windows: {entry['tf_accuracy']:.3f} teacher-forced, "
                    f"{entry['sampled_accuracy']:.3f} sampled", json_mode=False)
    note(f"model {loaded.path} (sha256 {loaded.sha256[:12]}); {seconds:.1f} s", quiet=quiet)
