"""Drum sound name -> class: the keyword table behind `audiogen data drums`.

Classes: kick, snare, hihat, tom, cymbal, clap, other.

A name is first normalised into lower-case words: camelCase and letter/digit boundaries split,
everything that is not a letter or digit becomes a space ("BassDrum" -> "bass drum",
"Hi-Hat Closed (Paiste 14\")" -> "hi hat closed paiste 14", "tomhi2" -> "tomhi 2"). Each rule's
pattern must then match whole words (never a piece of one: "bd" is not found in "abd", "hat"
not in "whatever", "sd" not in "isd"). Rules are checked in the order of `NAME_RULES`; the
first match wins, and a name no rule matches is "other". The order settles names that hold
words of two classes:

1. hihat first: hi-hat names often carry cymbal words ("Hi-Hat Closed (Paiste ...)"), and a
   closed/open/pedal "cymbal" is a hi-hat (sonic-pi's `drum_cymbal_closed`).
2. cymbal: crash, ride (and ride bell / cup), splash, china, cymbal, and cymbal makers'
   names ("Paiste Bell" is a ride bell). A bare "bell" is not a cymbal: cowbells and the bells
   of African drums (circAfrique's "Sangban1 Bell Hit") share the word.
3. clap before snare and kick, so a "clap snare" layer counts as a clap.
4. kick: kick, bd, bass drum (a bare "bass", as in "Djembe1 Bass", is not a kick).
5. snare: snare, sn, sd, rim / rimshot / rim click and side / cross stick (GM note 37, "side
   stick", is in the snare class too), Spanish "redoblante"/"redo".
6. tom: tom, toms, floor tom, and "tomhi"/"tomlo" style compounds.
7. anything else (cowbell, conga, tambourine, shaker, clave, djembe, tabla, fx ...): other.

GM drum notes (channel 10) are classed by note number, `gm_drum_class`, not by name.
"""

from __future__ import annotations

import re

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal", "clap", "other")

# (class, pattern over the normalised words), checked in this order; see the module docstring.
NAME_RULES: tuple[tuple[str, str], ...] = (
    ("hihat", r"hi ?hats?|(?:closed?|open|pedal|semi ?open|half ?open) ?(?:hi ?)?hats?|hats?"
              r"|hh|[cop]hh|(?:closed?|open|pedal) cymbals?|cymbals? (?:closed?|open|pedal)"),
    ("cymbal", r"crash(?:es)?|rides?|splash(?:es)?|china|chinese|cymbals?|cym"
               r"|paiste|sabian|zildjian|meinl"),
    ("clap", r"(?:hand ?)?claps?"),
    ("kick", r"kicks?|kik|kck|bd|bass ?drums?"),
    ("snare", r"snares?|snr|sn|sd|rims?|rim ?shots?|rim ?click|(?:side|cross) ?sticks?|sticks?"
              r"|redoblante|redo"),
    ("tom", r"(?:floor ?)?toms?(?:hi|high|lo|low|mid|med)?"),
)

_COMPILED = tuple((label, re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")) for label, pattern in NAME_RULES)

# General MIDI percussion key map (channel 10): GM1 names for notes 35-81, GM2/GS extras around it.
GM_DRUM_NAMES = {
    27: "High Q", 28: "Slap", 29: "Scratch Push", 30: "Scratch Pull", 31: "Sticks", 32: "Square Click",
    33: "Metronome Click", 34: "Metronome Bell",
    35: "Acoustic Bass Drum", 36: "Bass Drum 1", 37: "Side Stick", 38: "Acoustic Snare", 39: "Hand Clap",
    40: "Electric Snare", 41: "Low Floor Tom", 42: "Closed Hi-Hat", 43: "High Floor Tom", 44: "Pedal Hi-Hat",
    45: "Low Tom", 46: "Open Hi-Hat", 47: "Low-Mid Tom", 48: "Hi-Mid Tom", 49: "Crash Cymbal 1",
    50: "High Tom", 51: "Ride Cymbal 1", 52: "Chinese Cymbal", 53: "Ride Bell", 54: "Tambourine",
    55: "Splash Cymbal", 56: "Cowbell", 57: "Crash Cymbal 2", 58: "Vibraslap", 59: "Ride Cymbal 2",
    60: "Hi Bongo", 61: "Low Bongo", 62: "Mute Hi Conga", 63: "Open Hi Conga", 64: "Low Conga",
    65: "High Timbale", 66: "Low Timbale", 67: "High Agogo", 68: "Low Agogo", 69: "Cabasa", 70: "Maracas",
    71: "Short Whistle", 72: "Long Whistle", 73: "Short Guiro", 74: "Long Guiro", 75: "Claves",
    76: "Hi Wood Block", 77: "Low Wood Block", 78: "Mute Cuica", 79: "Open Cuica", 80: "Mute Triangle",
    81: "Open Triangle",
    82: "Shaker", 83: "Jingle Bell", 84: "Bell Tree", 85: "Castanets", 86: "Mute Surdo", 87: "Open Surdo",
}

_GM_CLASSES = {
    **dict.fromkeys((35, 36), "kick"),
    **dict.fromkeys((37, 38, 40), "snare"),
    39: "clap",
    **dict.fromkeys((42, 44, 46), "hihat"),
    **dict.fromkeys((41, 43, 45, 47, 48, 50), "tom"),
    **dict.fromkeys((49, 51, 52, 53, 55, 57, 59), "cymbal"),
}

# sonic-pi sample names (the file stem) that are one-shot drums: these prefixes ...
SONIC_PI_DRUM_PREFIXES = ("drum_", "elec_", "perc_", "bd_", "sn_", "tabla_")
# ... except these (drum_roll is a 6 s roll, not one hit). Everything else sonic-pi ships (ambi_,
# bass_, loop_, guit_, misc_, vinyl_, glitch_, mehackit_ ...) is pads, loops, basses or effects.
SONIC_PI_NOT_ONE_SHOTS = frozenset({"drum_roll"})
# sonic-pi names the generic rules cannot class: its bass drums are "drum_bass_*" (a bare "bass"
# is not a kick elsewhere).
SONIC_PI_CLASSES = {"drum_bass_hard": "kick", "drum_bass_soft": "kick"}


def normalise_name(name: str) -> str:
    """Lower-case words of `name`: camelCase and letter/digit boundaries split, punctuation -> spaces."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    name = re.sub(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", name)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


def classify_drum_name(name: str) -> str:
    """The class of a drum sound from its name (see the module docstring for the rules and order)."""
    words = normalise_name(name)
    for label, pattern in _COMPILED:
        if pattern.search(words):
            return label
    return "other"


def gm_drum_class(note: int) -> str:
    """The class of a General MIDI drum note (channel 10 key map); unlisted notes are "other"."""
    return _GM_CLASSES.get(note, "other")


def gm_drum_name(note: int) -> str:
    """The GM/GS name of a drum note, e.g. 38 -> "Acoustic Snare"; "Note N" outside the map."""
    return GM_DRUM_NAMES.get(note, f"Note {note}")


def is_sonic_pi_one_shot(stem: str) -> bool:
    """True for sonic-pi samples that are one drum hit (see SONIC_PI_DRUM_PREFIXES)."""
    return stem.startswith(SONIC_PI_DRUM_PREFIXES) and stem not in SONIC_PI_NOT_ONE_SHOTS


def classify_sonic_pi_name(stem: str) -> str:
    """The class of a sonic-pi sample from its file stem, e.g. "drum_cymbal_closed" -> "hihat"."""
    return SONIC_PI_CLASSES.get(stem) or classify_drum_name(stem)
