"""`audiogen data ...`: build and prepare training data (NSynth sets, drum libraries, ABC, melodies)."""

from __future__ import annotations

import typer

from audiogen.cli import data_abc, data_drums, data_melodies, data_nsynth, data_pairs

data_app = typer.Typer(
    name="data",
    help="Build and prepare training data.\n\nExample: audiogen data nsynth --out nsynth-gm/ --pitches 48-72",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

data_app.command("nsynth")(data_nsynth.nsynth)
data_app.command("prepare")(data_nsynth.prepare)
data_app.command("drums")(data_drums.drums)
data_app.command("abc")(data_abc.abc)
data_app.command("melodies")(data_melodies.melodies)
data_app.command("pairs")(data_pairs.pairs)
