"""The verb groups (docs/design.md §2): `audiogen train|sample|render|eval <family> ...`."""

from __future__ import annotations

import typer

from audiogen.cli import (abc_eval, abc_render, abc_sample, abc_train, gansynth_eval, gansynth_export,
                          gansynth_interpolate, gansynth_render, midi_render, gansynth_sample, gansynth_train, musicvae_eval, musicvae_interpolate,
                          musicvae_sample, musicvae_train, samplevae_eval, samplevae_sample,
                          samplevae_train, translate, translate_train)


def _group(name: str, help_text: str) -> typer.Typer:
    return typer.Typer(name=name, help=help_text, no_args_is_help=True,
                       context_settings={"help_option_names": ["-h", "--help"]})


train_app = _group("train", "Train a model.\n\nExample: audiogen train abc --data tunes.abc --out runs/abc")
sample_app = _group("sample", "Generate with a model.\n\nExample: audiogen sample abc --seed \"X:1\" -n 10 --out tunes.abc")
render_app = _group("render", "Turn symbols into sound: ABC tunes into MIDI and audio, MIDI files into audio.\n\nExample: audiogen render abc tunes.abc --out-dir tunes/ --wav")
interpolate_app = _group("interpolate", "Walk between two inputs through a model's latent space.\n\n"
                         "Example: audiogen interpolate musicvae a.mid b.mid --steps 7 --out-dir walk/")
encode_app = _group("encode", "Find a model's latent for a real input.\n\n"
                    "Example: audiogen encode gansynth cello.wav --pitch 48 --out cello.npy")
export_app = _group("export", "Write a model's sound as an instrument for a sampler (SoundFont 2 or SFZ).\n\n"
                    "Example: audiogen export gansynth --out flute.sf2 --rng-seed 7")
eval_app = _group("eval", "Measure a model.\n\nExample: audiogen eval abc --data held-out.abc -n 200")

train_app.command("abc")(abc_train.train_abc_command)
sample_app.command("abc")(abc_sample.sample_abc_command)
render_app.command("abc")(abc_render.render_abc_command)
eval_app.command("abc")(abc_eval.eval_abc_command)
train_app.command("musicvae")(musicvae_train.train_musicvae_command)
sample_app.command("musicvae")(musicvae_sample.sample_musicvae_command)
interpolate_app.command("musicvae")(musicvae_interpolate.interpolate_musicvae_command)
eval_app.command("musicvae")(musicvae_eval.eval_musicvae_command)
train_app.command("samplevae")(samplevae_train.train_samplevae_command)
sample_app.command("samplevae")(samplevae_sample.sample_samplevae_command)
interpolate_app.command("samplevae")(samplevae_sample.interpolate_samplevae_command)
eval_app.command("samplevae")(samplevae_eval.eval_samplevae_command)
train_app.command("gansynth")(gansynth_train.train_gansynth_command)
sample_app.command("gansynth")(gansynth_sample.sample_gansynth_command)
train_app.command("pitch-classifier")(gansynth_eval.train_pitch_classifier_command)
eval_app.command("gansynth")(gansynth_eval.eval_gansynth_command)
interpolate_app.command("gansynth")(gansynth_interpolate.interpolate_gansynth_command)
render_app.command("gansynth")(gansynth_render.render_gansynth_command)
render_app.command("midi")(midi_render.render_midi_command)
encode_app.command("gansynth")(gansynth_render.encode_gansynth_command)
export_app.command("gansynth")(gansynth_export.export_gansynth_command)
train_app.command("translate")(translate_train.train_translate_command)
eval_app.command("translate")(translate.eval_translate_command)

GROUPS = (train_app, sample_app, interpolate_app, render_app, encode_app, export_app, eval_app)
