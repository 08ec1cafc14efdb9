"""General MIDI programs mapped to NSynth's instrument families and sources.

NSynth labels every note with one of 11 families and one of 3 sources (docs/design.md §4). A note
rendered from a GM SoundFont gets its labels from its program through `GM_PROGRAMS`:

| programs | GM group              | family                         | source                       |
|----------|-----------------------|--------------------------------|------------------------------|
| 0-7      | piano                 | keyboard                       | acoustic; 2 (electric grand), 4-5 (electric pianos), 7 (clavinet) electronic |
| 8-15     | chromatic percussion  | mallet                         | acoustic                     |
| 16-23    | organ                 | organ 16-20, reed 21-23 (accordions, harmonica) | 16-18 electronic, 19-23 acoustic |
| 24-31    | guitar                | guitar                         | 24-25 acoustic, 26-31 electronic |
| 32-39    | bass                  | bass                           | 32 acoustic, 33-37 electronic, 38-39 synthetic |
| 40-47    | strings               | string 40-46, mallet 47 (timpani) | acoustic                  |
| 48-55    | ensemble              | string 48-51, vocal 52-54, brass 55 (orchestra hit) | 50-51, 54 synthetic, others acoustic |
| 56-63    | brass                 | brass                          | 56-61 acoustic, 62-63 synthetic |
| 64-71    | reed                  | reed                           | acoustic                     |
| 72-79    | pipe                  | flute                          | acoustic                     |
| 80-87    | synth lead            | synth_lead                     | synthetic                    |
| 88-95    | synth pad             | synth_lead (NSynth has no pad family) | synthetic             |
| 96-103   | synth effects         | synth_lead                     | synthetic                    |
| 104-111  | ethnic                | guitar 104-106, string 107 and 110, mallet 108, reed 109 and 111 | acoustic |
| 112-118  | percussive            | mallet                         | acoustic; 118 (synth drum) synthetic |
| 119-127  | reverse cymbal, sound effects | none: not pitched instruments, left out of `data nsynth` | - |

Source follows NSynth's meaning: acoustic = recorded acoustic instrument, electronic = an
electric/electronic instrument (pickups, electric organs and pianos), synthetic = a synthesiser.
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
            "synth_lead", "vocal")
SOURCES = ("acoustic", "electronic", "synthetic")  # NSynth ids 0, 1, 2


@dataclass(frozen=True)
class GMProgram:
    program: int
    name: str
    family: str | None  # None: not a pitched instrument (sound effects)
    source: str | None

    @property
    def family_id(self) -> int:
        return FAMILIES.index(self.family)

    @property
    def source_id(self) -> int:
        return SOURCES.index(self.source)


_NAMES = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion",
    "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass", "Slap Bass 1",
    "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs",
    "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum",
    "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter",
    "Applause", "Gunshot",
)

# program -> (family, source); one row per group of programs sharing both
_GROUPS: tuple[tuple[range, str | None, str | None], ...] = (
    (range(0, 2), "keyboard", "acoustic"), (range(2, 3), "keyboard", "electronic"),
    (range(3, 4), "keyboard", "acoustic"), (range(4, 6), "keyboard", "electronic"),
    (range(6, 7), "keyboard", "acoustic"), (range(7, 8), "keyboard", "electronic"),
    (range(8, 16), "mallet", "acoustic"),
    (range(16, 19), "organ", "electronic"), (range(19, 21), "organ", "acoustic"),
    (range(21, 24), "reed", "acoustic"),
    (range(24, 26), "guitar", "acoustic"), (range(26, 32), "guitar", "electronic"),
    (range(32, 33), "bass", "acoustic"), (range(33, 38), "bass", "electronic"), (range(38, 40), "bass", "synthetic"),
    (range(40, 47), "string", "acoustic"), (range(47, 48), "mallet", "acoustic"),
    (range(48, 50), "string", "acoustic"), (range(50, 52), "string", "synthetic"),
    (range(52, 54), "vocal", "acoustic"), (range(54, 55), "vocal", "synthetic"), (range(55, 56), "brass", "acoustic"),
    (range(56, 62), "brass", "acoustic"), (range(62, 64), "brass", "synthetic"),
    (range(64, 72), "reed", "acoustic"),
    (range(72, 80), "flute", "acoustic"),
    (range(80, 104), "synth_lead", "synthetic"),
    (range(104, 107), "guitar", "acoustic"), (range(107, 108), "string", "acoustic"),
    (range(108, 109), "mallet", "acoustic"), (range(109, 110), "reed", "acoustic"),
    (range(110, 111), "string", "acoustic"), (range(111, 112), "reed", "acoustic"),
    (range(112, 118), "mallet", "acoustic"), (range(118, 119), "mallet", "synthetic"),
    (range(119, 128), None, None),
)


def _build() -> tuple[GMProgram, ...]:
    labels: dict[int, tuple[str | None, str | None]] = {}
    for programs, family, source in _GROUPS:
        for program in programs:
            assert program not in labels, program
            labels[program] = (family, source)
    assert sorted(labels) == list(range(128)) and len(_NAMES) == 128
    return tuple(GMProgram(p, _NAMES[p], *labels[p]) for p in range(128))


GM_PROGRAMS: tuple[GMProgram, ...] = _build()
PITCHED_PROGRAMS: tuple[int, ...] = tuple(p.program for p in GM_PROGRAMS if p.family is not None)
