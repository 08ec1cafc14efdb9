"""Audio files in and out: soundfile for I/O, torchaudio for resampling.

Every problem with a user's file becomes a `BadInputError` naming the file; written files appear
atomically (temp file + rename), so a failed run leaves no half-written output.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import torch

from audiogen.errors import AudiogenError, BadInputError, require_file

FORMATS = ("wav", "flac")
SUBTYPES = ("PCM_16", "PCM_24", "FLOAT")


def _wav_data_shortfall(path: Path) -> tuple[int, int] | None:
    """For a RIFF/WAVE file: (declared, present) bytes of the data chunk when it is cut short."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        size = path.stat().st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"data":
                present = size - f.tell()
                # 0 and 0xFFFFFFFF mark streamed files whose writer never filled the size in.
                if chunk_size not in (0, 0xFFFFFFFF) and present < chunk_size:
                    return chunk_size, present
                return None
            f.seek(chunk_size + (chunk_size & 1), os.SEEK_CUR)


def resample(wave: torch.Tensor, orig_sr: int, sr: int) -> torch.Tensor:
    """(..., T) at orig_sr -> (..., T * sr / orig_sr) at sr (torchaudio's windowed sinc)."""
    if orig_sr == sr:
        return wave
    import torchaudio.functional as AF

    return AF.resample(wave, orig_sr, sr)


# The longest input `spec` and `resynth` take whole: a 20-minute file peaked at 6.8 GB in `spec`.
MAX_INPUT_SECONDS = 300.0


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


class TooLongError(BadInputError):
    """An input `seconds` long, over a command's `limit`: refused from its header, unread."""

    def __init__(self, path: str | os.PathLike, seconds: float, limit: float):
        self.seconds, self.limit = seconds, limit
        super().__init__(path, self.describe(seconds, limit))

    @staticmethod
    def describe(seconds: float, limit: float) -> str:
        return f"{_clock(seconds)} of audio; this command takes at most {_clock(limit)} (cut the file first)"


def load_audio(path: str | os.PathLike, sr: int | None = 16000, mono: bool = True,
               duration: float | None = None, max_seconds: float | None = None,
               too_long: type[TooLongError] = TooLongError) -> torch.Tensor:
    """Read an audio file as float32 in [-1, 1].

    Returns (T,) when mono (channels averaged) else (channels, T), resampled to `sr` (None keeps
    the file's rate). `duration` (seconds) cuts or zero-pads to exactly round(duration * sr), and
    only that much of the file is read. A file longer than `max_seconds` is refused before it is
    read (memory stays bounded whatever the input) with `too_long` (a TooLongError class).
    Raises BadInputError for missing, empty, unreadable, truncated, zero-length or non-finite audio.
    """
    import soundfile as sf

    path = require_file(path, "an audio file")
    frames = -1
    try:
        info = sf.info(str(path))
        if info.samplerate > 0 and info.frames > 0:
            length = info.frames / info.samplerate
            if max_seconds is not None and length > max_seconds:
                raise too_long(path, length, max_seconds)
            if duration is not None:
                frames = min(info.frames, int(np.ceil(duration * info.samplerate)) + 64)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass  # judged by the read below
    try:
        data, file_sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        reason = str(e).split(": ", 1)[-1] if ": " in str(e) else str(e)
        raise BadInputError(path, f"not a readable audio file ({reason.strip()})") from None
    shortfall = _wav_data_shortfall(path)
    if shortfall:
        raise BadInputError(path, f"truncated WAV: data chunk declares {shortfall[0]} bytes, file holds {shortfall[1]}")
    if data.shape[0] == 0:
        raise BadInputError(path, "contains no audio samples")
    if not np.isfinite(data).all():
        raise BadInputError(path, "contains NaN or infinite samples")
    wave = torch.from_numpy(np.ascontiguousarray(data.T))  # (channels, T)
    if mono:
        wave = wave.mean(dim=0)
    if sr is not None and sr != file_sr:
        wave = resample(wave, file_sr, sr)
    if duration is not None:
        n = round(duration * (sr or file_sr))
        wave = wave[..., :n]
        if wave.shape[-1] < n:
            wave = torch.nn.functional.pad(wave, (0, n - wave.shape[-1]))
    return wave.contiguous()


def save_audio(path: str | os.PathLike, wave: torch.Tensor | np.ndarray, sr: int, *,
               format: str | None = None, subtype: str = "PCM_16", peak_dbfs: float | None = None) -> Path:
    """Write (T,) or (channels, T) float audio atomically; PCM subtypes are clipped to [-1, 1].

    `format` is wav or flac (default: from the file extension, else wav). FLAC has no FLOAT
    subtype. With `peak_dbfs` the wave is first scaled so its peak sits there (the loudness rule
    of `audiogen.dsp.loudness`; listening outputs pass `output_peak_dbfs(gain)`). Returns the path.
    """
    import soundfile as sf

    from audiogen.runtime.atomic import atomic_output

    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "wav").lower()
    if fmt not in FORMATS:
        raise AudiogenError(f"{path}: unsupported audio format {fmt!r} (choose from {', '.join(FORMATS)})")
    subtype = subtype.upper()
    if subtype not in SUBTYPES:
        raise AudiogenError(f"--subtype {subtype}: choose from {', '.join(SUBTYPES)}")
    if fmt == "flac" and subtype == "FLOAT":
        raise AudiogenError(f"{path}: FLAC cannot hold FLOAT samples; use --subtype PCM_16 or PCM_24")
    data = wave.detach().cpu().float().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave, np.float32)
    if data.ndim == 2:
        data = data.T  # soundfile wants (T, channels)
    if not np.isfinite(data).all():
        raise AudiogenError(f"{path}: refusing to write audio with NaN or infinite samples")
    if peak_dbfs is not None:
        from audiogen.dsp.loudness import scale_to_peak

        data = scale_to_peak(data, peak_dbfs)
    if subtype != "FLOAT":
        data = np.clip(data, -1.0, 1.0)
    with atomic_output(path) as tmp:
        sf.write(str(tmp), data, int(sr), subtype=subtype, format=fmt.upper())
    return path
