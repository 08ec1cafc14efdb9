"""The verb groups (docs/design.md §2): `audiogen train|sample|render|eval <family> ...`."""

from __future__ import annotations

import typer

from audiogen.cli import (
    abc_eval,
    abc_render,
    abc_sample,
    abc_train,
    directions,
    gansynth_encode,
    gansynth_eval,
    gansynth_export,
    gansynth_interpolate,
    gansynth_render,
    gansynth_sample,
    gansynth_train,
    midi_render,
    musicvae_eval,
    musicvae_fit,
    musicvae_interpolate,
    musicvae_sample,
    musicvae_train,
    pitch_classifier_train,
    samplevae_eval,
    samplevae_interpolate,
    samplevae_sample,
    samplevae_train,
    translate_eval,
    translate_train,
)


def split_example(text: str) -> tuple[str, str | None]:
    """A help text and its closing "Example: ..." paragraph, apart: --help shows the example
    after the options (as the epilog), where a reader looks for it once the options are read."""
    head, sep, example = text.rpartition("\n\nExample:")
    if not sep:
        return text, None
    return head.rstrip(), "Example:" + example.rstrip()


def finite_numbers(function):
    """`function` refusing any number option given as nan or infinity, before it runs: one line
    naming the option (`--temperature inf` would reach a sampler as NaN probabilities)."""
    import functools
    import inspect
    import math

    from audiogen.errors import AudiogenError

    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args, **kwargs):
        for name, value in signature.bind_partial(*args, **kwargs).arguments.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, float) and not math.isfinite(v):
                    flag = "--" + name.replace("_", "-")
                    raise AudiogenError(f"{flag}: not a number (nan)" if v != v else
                                        f"{flag}: must be a finite number, got {v}")
        return function(*args, **kwargs)

    return checked


def add_command(group: typer.Typer, name: str, function) -> None:
    """Register `function` as `name` on `group`, its docstring's example as the help's epilog;
    every number option is checked to be finite (`finite_numbers`)."""
    import inspect

    help_text, example = split_example(inspect.cleandoc(function.__doc__ or ""))
    group.command(name, help=help_text, epilog=example)(finite_numbers(function))


def command_group(name: str, help_text: str) -> typer.Typer:
    """A verb group (`audiogen train ...`), its help's example shown last."""
    help_text, example = split_example(help_text)
    return typer.Typer(name=name, help=help_text, epilog=example, no_args_is_help=True,
                       context_settings={"help_option_names": ["-h", "--help"]})


train_app = command_group("train", "Train a model.\n\nExample: audiogen train abc --data tunes.abc --out runs/abc")
sample_app = command_group("sample", "Generate with a model.\n\nExample: audiogen sample abc --seed \"X:1\" -n 10 --out tunes.abc")
render_app = command_group("render", "Turn symbols into sound: ABC tunes into MIDI and audio, MIDI files into audio.\n\nExample: audiogen render abc tunes.abc --out-dir tunes/ --wav")
interpolate_app = command_group("interpolate", "Walk between two inputs through a model's latent space.\n\n"
                         "Example: audiogen interpolate musicvae a.mid b.mid --steps 7 --out-dir walk/")
encode_app = command_group("encode", "Find a model's latent for a real input.\n\n"
                    "Example: audiogen encode gansynth cello.wav --pitch 48 --out cello.npy")
export_app = command_group("export", "Write a model's sound as an instrument for a sampler (SoundFont 2 or SFZ).\n\n"
                    "Example: audiogen export gansynth --out flute.sf2 --rng-seed 7")
directions_app = command_group("directions", "Latent directions that steer a model's output (brighter, noisier, ...), "
                               "measured on the model.\n\nExample: audiogen directions gansynth --json")
fit_app = command_group("fit", "Fit what a trained model samples from, without training it.\n\n"
                        "Example: audiogen fit musicvae --model old.safetensors --data folk-16bar.npz --out new.safetensors")
eval_app = command_group("eval", "Measure a model.\n\nExample: audiogen eval abc --data held-out.abc -n 200")

add_command(train_app, "abc", abc_train.train_abc_command)
add_command(sample_app, "abc", abc_sample.sample_abc_command)
add_command(render_app, "abc", abc_render.render_abc_command)
add_command(eval_app, "abc", abc_eval.eval_abc_command)
add_command(train_app, "musicvae", musicvae_train.train_musicvae_command)
add_command(sample_app, "musicvae", musicvae_sample.sample_musicvae_command)
add_command(interpolate_app, "musicvae", musicvae_interpolate.interpolate_musicvae_command)
add_command(eval_app, "musicvae", musicvae_eval.eval_musicvae_command)
add_command(fit_app, "musicvae", musicvae_fit.fit_musicvae_command)
add_command(directions_app, "gansynth", directions.directions_gansynth_command)
add_command(directions_app, "samplevae", directions.directions_samplevae_command)
add_command(train_app, "samplevae", samplevae_train.train_samplevae_command)
add_command(sample_app, "samplevae", samplevae_sample.sample_samplevae_command)
add_command(interpolate_app, "samplevae", samplevae_interpolate.interpolate_samplevae_command)
add_command(eval_app, "samplevae", samplevae_eval.eval_samplevae_command)
add_command(train_app, "gansynth", gansynth_train.train_gansynth_command)
add_command(sample_app, "gansynth", gansynth_sample.sample_gansynth_command)
add_command(train_app, "pitch-classifier", pitch_classifier_train.train_pitch_classifier_command)
add_command(eval_app, "gansynth", gansynth_eval.eval_gansynth_command)
add_command(interpolate_app, "gansynth", gansynth_interpolate.interpolate_gansynth_command)
add_command(render_app, "gansynth", gansynth_render.render_gansynth_command)
add_command(render_app, "midi", midi_render.render_midi_command)
add_command(encode_app, "gansynth", gansynth_encode.encode_gansynth_command)
add_command(export_app, "gansynth", gansynth_export.export_gansynth_command)
add_command(train_app, "translate", translate_train.train_translate_command)
add_command(eval_app, "translate", translate_eval.eval_translate_command)

GROUPS = (train_app, sample_app, interpolate_app, render_app, encode_app, export_app, fit_app, directions_app,
          eval_app)
