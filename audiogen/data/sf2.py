"""Writing a multisampled instrument as a SoundFont 2.01 file (`.sf2`).

One preset (bank 0, program 0) holding one instrument; every zone of that instrument plays one
mono 16-bit sample over a key range, transposed from its root key, with the attack and release
given. The chunk layout, record sizes and generator numbers follow the SoundFont 2.01
specification; docs/design.md §6 lists the parts used here.
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass

import numpy as np

SAMPLE_PAD = 46  # zero samples after each sample, the least the specification allows
LOOP_MARGIN = 8  # valid samples the specification asks before a loop start and after a loop end

# Generator numbers (SoundFont 2.01, section 8.1.2)
GEN_ATTACK_VOL_ENV = 34
GEN_RELEASE_VOL_ENV = 38
GEN_INSTRUMENT = 41
GEN_KEY_RANGE = 43
GEN_SAMPLE_ID = 53
GEN_SAMPLE_MODES = 54
GEN_OVERRIDING_ROOT_KEY = 58

MONO_SAMPLE = 1


@dataclass(frozen=True)
class SamplerZone:
    """One sample and the keys it plays: `wave` (samples,) float in [-1, 1] at `sample_rate` Hz,
    `root_key` the MIDI key at which it plays untransposed, keys `low_key`..`high_key` inclusive."""

    name: str
    wave: np.ndarray
    sample_rate: int
    root_key: int
    low_key: int
    high_key: int


def timecents(seconds: float) -> int:
    """Seconds -> SoundFont timecents (1200 log2 s), within the generators' range."""
    return int(round(max(-12000.0, min(8000.0, 1200.0 * math.log2(max(seconds, 1e-3))))))


def pcm16(wave: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16 (clipped, rounded)."""
    return np.clip(np.round(np.asarray(wave, np.float64) * 32767.0), -32768, 32767).astype("<i2")


def _name(text: str, size: int = 20) -> bytes:
    raw = text.encode("ascii", "replace")[: size - 1]
    return raw + b"\0" * (size - len(raw))


def _chunk(tag: bytes, data: bytes) -> bytes:
    pad = b"\0" if len(data) % 2 else b""
    return tag + struct.pack("<I", len(data)) + data + pad


def _list(tag: bytes, chunks: list[bytes]) -> bytes:
    return _chunk(b"LIST", tag + b"".join(chunks))


def _zstr(text: str) -> bytes:
    raw = text.encode("ascii", "replace") + b"\0"
    return raw + (b"\0" if len(raw) % 2 else b"")


def _gen(oper: int, amount: int) -> bytes:
    return struct.pack("<Hh", oper, amount)


def _gen_range(oper: int, low: int, high: int) -> bytes:
    return struct.pack("<HBB", oper, low, high)


def sf2_bytes(zones: list[SamplerZone], *, name: str, attack: float = 0.01, release: float = 0.3,
              comment: str = "") -> bytes:
    """The whole `.sf2` file for one instrument made of `zones` (at least one).

    attack, release: the volume envelope's attack and release in seconds (the key-up release)."""
    if not zones:
        raise ValueError("an instrument needs at least one zone")
    info = [_chunk(b"ifil", struct.pack("<HH", 2, 1)), _chunk(b"isng", _zstr("EMU8000")),
            _chunk(b"INAM", _zstr(name[:255]))]
    if comment:
        info.append(_chunk(b"ICMT", _zstr(comment[:65535])))
    info.append(_chunk(b"ISFT", _zstr("audiogen")))

    pcm, headers, position = [], [], 0
    for zone in zones:
        data = pcm16(zone.wave)
        start, end = position, position + len(data)
        # Unlooped (sampleModes 0), but loop points inside the sample as the specification asks.
        loop_start, loop_end = min(start + LOOP_MARGIN, end), max(start, end - LOOP_MARGIN)
        headers.append(_name(zone.name) + struct.pack("<IIIIIBbHH", start, end, loop_start, loop_end,
                                                      zone.sample_rate, zone.root_key, 0, 0, MONO_SAMPLE))
        pcm += [data, np.zeros(SAMPLE_PAD, "<i2")]
        position = end + SAMPLE_PAD
    headers.append(_name("EOS") + b"\0" * 26)
    smpl = np.concatenate(pcm).tobytes()

    igen, ibag = [], []
    for index, zone in enumerate(zones):
        ibag.append(struct.pack("<HH", len(igen), 0))
        igen += [_gen_range(GEN_KEY_RANGE, zone.low_key, zone.high_key),  # keyRange first, as required
                 _gen(GEN_ATTACK_VOL_ENV, timecents(attack)), _gen(GEN_RELEASE_VOL_ENV, timecents(release)),
                 _gen(GEN_SAMPLE_MODES, 0), _gen(GEN_OVERRIDING_ROOT_KEY, zone.root_key),
                 _gen(GEN_SAMPLE_ID, index)]                                # sampleID last, as required
    ibag.append(struct.pack("<HH", len(igen), 0))
    igen.append(b"\0" * 4)
    inst = [_name(name) + struct.pack("<H", 0), _name("EOI") + struct.pack("<H", len(zones))]

    phdr = [_name(name) + struct.pack("<HHHIII", 0, 0, 0, 0, 0, 0), _name("EOP") + struct.pack("<HHHIII", 0, 0, 1, 0, 0, 0)]
    pbag = [struct.pack("<HH", 0, 0), struct.pack("<HH", 1, 0)]
    pgen = [_gen(GEN_INSTRUMENT, 0), b"\0" * 4]
    terminal_mod = b"\0" * 10
    pdta = [_chunk(b"phdr", b"".join(phdr)), _chunk(b"pbag", b"".join(pbag)), _chunk(b"pmod", terminal_mod),
            _chunk(b"pgen", b"".join(pgen)), _chunk(b"inst", b"".join(inst)), _chunk(b"ibag", b"".join(ibag)),
            _chunk(b"imod", terminal_mod), _chunk(b"igen", b"".join(igen)), _chunk(b"shdr", b"".join(headers))]
    body = b"sfbk" + _list(b"INFO", info) + _list(b"sdta", [_chunk(b"smpl", smpl)]) + _list(b"pdta", pdta)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_sf2(path: str | os.PathLike, zones: list[SamplerZone], *, name: str, attack: float = 0.01,
              release: float = 0.3, comment: str = "") -> None:
    """Write `zones` as one SoundFont instrument to `path` (the caller makes it atomic)."""
    with open(path, "wb") as f:
        f.write(sf2_bytes(zones, name=name, attack=attack, release=release, comment=comment))
