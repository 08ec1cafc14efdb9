"""Pictures of spectrograms (matplotlib, no display needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


PICTURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "webp", "eps")


def check_picture_path(path: str | os.PathLike) -> None:
    """Refuse, before any work, a picture path whose extension matplotlib cannot write."""
    from audiogen.errors import BadInputError

    ext = Path(path).suffix.lstrip(".").lower()
    if ext not in PICTURE_FORMATS:
        raise BadInputError(path, f"unsupported picture format {ext or '(no extension)'!r}; "
                                  f"use one of {', '.join('.' + f for f in PICTURE_FORMATS)}")


def plot_panels(path: str | os.PathLike, panels: list[dict], *, title: str | None = None) -> Path:
    """Write stacked image panels sharing a time axis; the format follows the file extension.

    Each panel: {"image": (rows, frames) array, "times": (frames,) seconds, "freqs": (rows,) Hz,
    "label": colour-bar label, "title": str, "cmap": str, "vmin"/"vmax": optional}.
    Rows are drawn at their frequencies; with "mel_axis": True the axis is mel-scaled (Hz labels).
    NaN pixels are left blank.
    """
    check_picture_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False,
                             sharex=True, constrained_layout=True)
    for ax, panel in zip(axes[:, 0], panels):
        mesh = ax.pcolormesh(panel["times"], panel["freqs"], panel["image"], shading="nearest",
                             cmap=panel.get("cmap", "magma"), vmin=panel.get("vmin"),
                             vmax=panel.get("vmax"), rasterized=True)
        if panel.get("mel_axis"):
            from audiogen.dsp.mel import hz_to_mel, mel_to_hz

            ax.set_yscale("function", functions=(lambda f: hz_to_mel(np.maximum(f, 0.0)), mel_to_hz))
            top = float(np.max(panel["freqs"]))
            ax.set_yticks([t for t in (100, 200, 500, 1000, 2000, 4000, 8000, 16000) if t <= top])
            ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(panel["title"], fontsize=10)
        fig.colorbar(mesh, ax=ax, label=panel["label"])
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path, dpi=100)


def frame_times(frames: int, *, hop: int, n_fft: int, pad_left: int, sample_rate: int) -> np.ndarray:
    """Centre of each STFT frame in seconds of the original clip."""
    return (np.arange(frames) * hop + n_fft / 2 - pad_left) / sample_rate


SPEC_REPRESENTATIONS = ("if", "if-mel", "mel")


def spectrogram_panels(wave, representation: str, sample_rate: int) -> list[dict]:
    """Panels for `plot_panels` of a (T,) clip: log-magnitude + IF (if, if-mel), or log-mel dB (mel)."""
    import dataclasses

    from audiogen.dsp import GANSYNTH, mel_spectrogram, wave_to_specgram
    from audiogen.dsp.mel import bin_frequencies, hz_to_mel, mel_band_centers, mel_to_hz

    if representation == "mel":
        n_fft, hop, n_mels = 1024, 256, 128
        db = mel_spectrogram(wave, sample_rate=sample_rate, n_fft=n_fft, hop=hop, n_mels=n_mels)
        freqs = mel_to_hz(np.linspace(0.0, hz_to_mel(sample_rate / 2), n_mels + 2))[1:-1]
        times = np.arange(db.shape[-1]) * hop / sample_rate
        return [{"image": db.cpu().numpy(), "times": times, "freqs": freqs, "cmap": "magma", "mel_axis": True,
                 "label": "dB", "title": f"log-mel power ({n_mels} HTK bands, n_fft {n_fft}, hop {hop})"}]
    config = dataclasses.replace(GANSYNTH, sample_rate=sample_rate, audio_length=wave.shape[-1])
    mel = representation == "if-mel"
    spec = wave_to_specgram(wave, mel=mel, config=config).cpu().numpy()
    freqs = mel_band_centers(config) if mel else bin_frequencies(config)
    times = frame_times(config.frames, hop=config.hop, n_fft=config.n_fft, pad_left=config.pad_left,
                        sample_rate=sample_rate)
    kind = "IF-Mel" if mel else "IF"
    magnitude_label = "log mel power" if mel else "log |X|"
    # IF of near-silent bins is noise; show it only where the bin is within 60 dB of the peak.
    floor = spec[0].max() - np.log(1e6 if mel else 1e3)
    inst_freq = np.where(spec[0] >= floor, spec[1], np.nan)
    return [
        {"image": spec[0].T, "times": times, "freqs": freqs, "cmap": "magma", "label": magnitude_label,
         "title": f"{kind}: {magnitude_label} (n_fft {config.n_fft}, hop {config.hop})",
         "vmin": float(np.log(config.log_eps)), "mel_axis": mel},
        {"image": inst_freq.T, "times": times, "freqs": freqs, "cmap": "twilight", "label": "IF (x pi rad / frame)",
         "title": f"{kind}: instantaneous frequency (bins within 60 dB of the peak)", "vmin": -1.0,
         "vmax": 1.0, "mel_axis": mel},
    ]


def plot_grid(path: str | os.PathLike, cells: list[list[dict]], *, title: str | None = None) -> Path:
    """Write a grid of image panels (rows x columns) on one colour scale; each cell as in
    `plot_panels` ("image", "times", "freqs", "title"; "mel_axis" ignored: axes are linear in Hz)."""
    check_picture_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(cells), max(len(row) for row in cells)
    images = [cell["image"] for row in cells for cell in row]
    vmin = float(min(np.nanmin(i) for i in images))
    vmax = float(max(np.nanmax(i) for i in images))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), squeeze=False, sharex=True,
                             sharey=True, constrained_layout=True)
    mesh = None
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            ax = axes[r, c]
            mesh = ax.pcolormesh(cell["times"], cell["freqs"], cell["image"], shading="nearest", cmap="magma",
                                 vmin=vmin, vmax=vmax, rasterized=True)
            ax.set_title(cell["title"], fontsize=8)
            if c == 0:
                ax.set_ylabel("Hz")
            if r == rows - 1:
                ax.set_xlabel("s")
    if mesh is not None:
        fig.colorbar(mesh, ax=axes, label=cells[0][0].get("label", "dB"), shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path, dpi=90)


def _save(fig, path: str | os.PathLike, *, dpi: int) -> Path:
    """Write a figure atomically in the format of `path`'s extension, and close it."""
    import matplotlib.pyplot as plt

    from audiogen.runtime.atomic import atomic_output

    path = Path(path)
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".").lower())
    finally:
        plt.close(fig)
    return path
