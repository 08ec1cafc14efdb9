"""`audiogen data ...`: build and prepare training data (NSynth sets, drum libraries, ABC, melodies)."""

from __future__ import annotations

from audiogen.cli import data_abc, data_drums, data_melodies, data_nsynth, data_pairs, data_prepare
from audiogen.cli.verbs import add_command, command_group

data_app = command_group("data", "Build and prepare training data.\n\n"
                         "Example: audiogen data nsynth --out nsynth-gm/ --pitches 48-72")

add_command(data_app, "nsynth", data_nsynth.nsynth)
add_command(data_app, "prepare", data_prepare.prepare)
add_command(data_app, "drums", data_drums.drums)
add_command(data_app, "abc", data_abc.abc)
add_command(data_app, "melodies", data_melodies.melodies)
add_command(data_app, "pairs", data_pairs.pairs)
