"""`audiogen sample musicvae`: melodies from the prior, or a file's melody reconstructed / moved by attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.musicvae_options import (
    BpmOpt,
    MusicVAEModelOpt,
    OutDirOpt,
    PriorOpt,
    ProgramOpt,
    RepeatsOpt,
    SoundfontOpt,
    TemperatureOpt,
    TrackOpt,
    WavOpt,
    writer_for,
)
from audiogen.cli.options import GainOpt, SampleRateOpt, shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("rng_seed", "device", "json_out", "quiet", "force")
def sample_musicvae_command(
    out_dir: OutDirOpt,
    model: MusicVAEModelOpt = None,
    num: Annotated[int, typer.Option("--num", "-n", min=1, max=100000, help="Melodies to write.")] = 5,
    temperature: TemperatureOpt = 0.5,
    prior: PriorOpt = "fitted",
    repeats: RepeatsOpt = True,
    from_file: Annotated[Optional[Path], typer.Option("--from", help="Start from this MIDI/ABC file's melody (its "
                                                      "first window of the model's length) instead of the prior: "
                                                      "a reconstruction, or with --attribute a variation.",
                                                      show_default=False, metavar="FILE")] = None,
    start_bar: Annotated[Optional[int], typer.Option("--start-bar", min=0, help="With --from: the window starting "
                                                     "at this bar (0-based) instead of the first.",
                                                     show_default=False)] = None,
    attribute: Annotated[Optional[list[str]], typer.Option("--attribute", help="NAME=AMOUNT: add AMOUNT times the "
                                                           "attribute vector (note_density, pitch_range, "
                                                           "mean_pitch), computed from the training data; "
                                                           "repeatable.",
                                                           show_default=False)] = None,
    meter: Annotated[Optional[str], typer.Option("--meter", help="Bar layout of the output, e.g. 3/4 or 6/8 "
                                                 "(12 steps + 4 padding a segment); default: the model chooses.",
                                                 show_default=False)] = None,
    track: TrackOpt = None,
    wav: WavOpt = False,
    gain: GainOpt = 0.0,
    soundfont: SoundfontOpt = None,
    sample_rate: SampleRateOpt = 22050,
    bpm: BpmOpt = 120.0,
    program: ProgramOpt = 0,
    *, rng_seed, device, json_out, quiet, force,
) -> None:
    """Sample melodies from MusicVAE into MIDI files (sample-000.mid ...), with --wav also audio.

    From the prior by default (the Gaussian fitted to the training codes, bars repeating in the form of a training tune); with --from, the file's melody encoded and decoded (a reconstruction), moved by --attribute vectors when given.

    Example: audiogen sample musicvae -n 5 --temperature 0.5 --out-dir melodies/ --wav

    Example: audiogen sample musicvae --from tune.mid --attribute note_density=+1.0 --out-dir denser/
    """
    import time

    import numpy as np

    from audiogen.errors import AudiogenError
    from audiogen.musicvae.attributes import measure, parse_attribute
    from audiogen.musicvae.data import file_window
    from audiogen.musicvae.generate import (apply_attributes, check_trained_meter, decode, encode, meter_layout,
                                           sample_new, step_accuracy)
    from audiogen.musicvae.prior import check_prior
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.musicvae.melody_counts import melody_counts
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.seeding import make_generator, seed_everything

    check_prior(prior)
    torch_device = resolve_device(device)
    loaded = load_musicvae_model(model, torch_device)
    vectors = loaded.attribute_vectors()
    amounts = [parse_attribute(a, vectors) for a in attribute or []]
    if amounts and from_file is None:
        raise AudiogenError("--attribute needs --from FILE: attribute vectors move a melody's latent code")
    if start_bar is not None and from_file is None:
        raise AudiogenError("--start-bar needs --from FILE")
    if from_file is not None and (prior != "fitted" or not repeats):
        raise AudiogenError("--prior and --no-repeats shape new melodies; with --from the code and the bars come "
                            "from the file")
    if meter is not None and from_file is None:
        meter = check_trained_meter(meter, loaded.extra.get("meters"))
    layout = None if meter is None else meter_layout(meter, loaded.bars)  # checks --meter before any work
    used_seed = seed_everything(rng_seed)
    generator = make_generator(used_seed, torch_device)

    source = None
    began = time.perf_counter()
    if from_file is None:
        generated = sample_new(loaded, num, generator, prior=prior, repeats=repeats, meter=meter,
                               temperature=temperature)
    else:
        events, melody, bar = file_window(from_file, loaded.bars, track=track, start_bar=start_bar)
        mu, _ = encode(loaded.model, events)
        z = apply_attributes(mu, vectors, amounts).expand(num, -1)
        if not bool(z.isfinite().all()):
            raise AudiogenError("--attribute: amounts this large move the latent code to infinity")
        source = {"file": str(from_file), "start_bar": bar, "meter": melody.meter(bar), "track": melody.track,
                  "attributes": {k: _finite(v[0]) for k, v in measure(events[None]).items()}}
        generated = decode(loaded.model, z, temperature=temperature, generator=generator, layout=layout)
    seconds = time.perf_counter() - began

    values = measure(generated)
    files = []
    # a melody from --from keeps its own meter (6/8 stays 6/8); prior samples take the model's
    written_meter = meter or (source["meter"] if source is not None else None)
    with writer_for(out_dir, bpm=bpm, program=program, meter=written_meter, wav=wav, soundfont=soundfont,
                    sample_rate=sample_rate, gain_db=gain, command="sample musicvae", force=force,
                    meters=loaded.extra.get("meters")) as writer:
        if source is not None:
            source["midi"] = writer.write(events, "input")["midi"]
        width = max(3, len(str(num - 1)))
        for i, events_i in enumerate(generated):
            entry = {"index": i, **writer.write(events_i, f"sample-{i:0{width}d}"),
                     "attributes": {k: _finite(v[i]) for k, v in values.items()}}
            if source is not None:
                entry["accuracy_vs_input"] = step_accuracy(events_i, events)
            files.append(entry)

    mean_attributes = {k: _finite(np.nanmean(v)) if np.isfinite(v).any() else None for k, v in values.items()}
    if json_out:
        emit_json({"out_dir": out_dir, "files": files, "source": source, "mean_attributes": mean_attributes,
                   "counts": melody_counts(generated),
                   "seconds": round(seconds, 3), "model": loaded.path, "model_sha256": loaded.sha256,
                   **provenance("sample musicvae", {
                       "model": model, "num": num, "temperature": temperature,
                       "prior": prior if loaded.prior is not None else "standard",
                       "repeats": bool(repeats and loaded.forms is not None), "from": from_file,
                       "start_bar": start_bar, "attribute": attribute or [], "meter": meter, "track": track,
                       "wav": wav, "gain": gain, "bpm": bpm, "program": program, "out_dir": out_dir,
                       "device": str(torch_device)}, rng_seed=used_seed)})
    prior_used = "fitted prior" if prior == "fitted" and loaded.prior is not None else "N(0, I) prior"
    what = f"from the {prior_used}" if source is None else f"from {from_file} (bars {source['start_bar']}..)"
    moved = "".join(f", {name} {amount:+g}" for name, amount in amounts)
    result_line(f"{len(files)} melodies of {loaded.bars} bars {what}{moved} in {seconds:.2f} s -> {out_dir}",
                json_mode=json_out)
    quiet_notes = quiet or json_out
    if source is not None:
        accuracy = np.mean([f["accuracy_vs_input"] for f in files])
        before = ", ".join(f"{k} {v:.3g}" for k, v in source["attributes"].items() if v is not None)
        after = ", ".join(f"{k} {v:.3g}" for k, v in mean_attributes.items() if v is not None)
        note(f"input: {before}; output (mean): {after}; {accuracy:.3f} of the input's steps reproduced",
             quiet=quiet_notes)
    note(f"model {loaded.path} (sha256 {loaded.sha256[:12]}), temperature {temperature:g}, rng seed {used_seed}",
         quiet=quiet_notes)


def _finite(value) -> float | None:
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None
