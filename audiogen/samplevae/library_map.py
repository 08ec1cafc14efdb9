"""A 2-D map of an indexed library: the latents' first two principal components, drawn as a
picture (matplotlib) and as an HTML page where clicking a point plays its sound."""

from __future__ import annotations

import html as html_lib
import json
import os
from pathlib import Path

import numpy as np

FIT_ROWS = 100_000   # rows the principal components are fitted on (a random subset beyond this)


def principal_axes(vectors: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (D,), axes (2, D), explained variance fraction (2,)) of vectors[rows]."""
    sample = np.asarray(vectors[np.sort(rows)], np.float64)
    mean = sample.mean(axis=0)
    _, s, vt = np.linalg.svd(sample - mean, full_matrices=False)
    variance = s ** 2
    explained = variance[:2] / max(variance.sum(), 1e-12)
    axes = np.zeros((2, sample.shape[1]))  # fewer than two sounds span fewer than two axes
    axes[:len(vt[:2])] = vt[:2]
    return mean, axes, np.pad(explained, (0, 2 - len(explained)))


def map_points(index, *, max_points: int = 20000, seed: int = 0) -> dict:
    """Positions of (up to `max_points`, a seeded random subset) indexed sounds:
    {"xy": (P, 2), "labels": (P,) int, "classes", "paths", "offsets", "total", "explained"}."""
    vectors, _, labels = index.arrays(mmap=True)
    total = len(vectors)
    rng = np.random.default_rng(seed)
    fit = rng.choice(total, FIT_ROWS, replace=False) if total > FIT_ROWS else np.arange(total)
    mean, axes, explained = principal_axes(vectors, fit)
    rows = np.sort(rng.choice(total, max_points, replace=False)) if total > max_points else np.arange(total)
    xy = (np.asarray(vectors[rows], np.float64) - mean) @ axes.T
    items = index.items(rows)
    return {"xy": xy, "labels": np.asarray(labels[rows], np.int64), "classes": index.classes,
            "paths": [it["path"] for it in items], "offsets": [it["offset"] for it in items], "total": total,
            "explained": [float(e) for e in explained]}


def _colours(n: int) -> list[str]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [to_hex(cmap(i % cmap.N)) for i in range(max(n, 1))]


def write_map_picture(path: str | os.PathLike, points: dict) -> Path:
    """Scatter plot of the map, one colour per class, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiogen.runtime.atomic import atomic_output

    classes = points["classes"]
    colours = _colours(len(classes))
    fig, ax = plt.subplots(figsize=(8, 7), dpi=120)
    xy, labels = points["xy"], points["labels"]
    size = 12 if len(xy) < 2000 else 3
    groups = [(i, name) for i, name in enumerate(classes)] + [(-1, "unclassified")]
    for i, name in groups:
        picked = labels == i
        if picked.any():
            ax.scatter(xy[picked, 0], xy[picked, 1], s=size, color=colours[i] if i >= 0 else "#888888",
                       label=f"{name} ({int(picked.sum())})", alpha=0.8, linewidths=0)
    ax.set_xlabel(f"PC 1 ({points['explained'][0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 ({points['explained'][1]:.0%} of variance)")
    shown = len(xy)
    ax.set_title(f"sample library map: {shown} of {points['total']} sounds" if shown < points["total"]
                 else f"sample library map: {shown} sounds")
    ax.legend(loc="best", fontsize=8, markerscale=2 if size < 10 else 1)
    fig.tight_layout()
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png")
    plt.close(fig)
    return path


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%(title)s</title>
<style>body{font-family:sans-serif;margin:1em}canvas{border:1px solid #ccc;cursor:pointer}
#now{margin:.5em 0;font-family:monospace}.key span{display:inline-block;margin-right:1em}</style></head>
<body><h3>%(title)s</h3><div class="key">%(key)s</div><div id="now">click a point to hear it</div>
<canvas id="map" width="900" height="700"></canvas>
<script>
const P = %(points)s, C = %(colours)s;
const cv = document.getElementById('map'), g = cv.getContext('2d'), now = document.getElementById('now');
let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
for (const p of P) { x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]); }
const sx = v => 20 + (v - x0) / ((x1 - x0) || 1) * (cv.width - 40), sy = v => cv.height - 20 - (v - y0) / ((y1 - y0) || 1) * (cv.height - 40);
for (const p of P) { g.fillStyle = p[2] >= 0 ? C[p[2]] : '#888'; g.fillRect(sx(p[0]) - 2, sy(p[1]) - 2, 4, 4); }
let audio = null;
cv.onclick = e => {
  const r = cv.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
  let best = null, bd = 100;
  for (const p of P) { const d = (sx(p[0]) - mx) ** 2 + (sy(p[1]) - my) ** 2; if (d < bd) { bd = d; best = p; } }
  if (!best) return;
  now.textContent = best[4] + (best[5] ? ' @ ' + best[5].toFixed(2) + ' s' : '');
  if (audio) audio.pause();
  audio = new Audio(best[3]); audio.currentTime = best[5] || 0; audio.play();
};
</script></body></html>
"""


def write_map_html(path: str | os.PathLike, points: dict) -> Path:
    """A self-contained page: the map on a canvas; clicking a point plays its file, linked by a path
    relative to the page (so the page and the library can move together), percent-encoded."""
    from urllib.parse import quote

    from audiogen.runtime.atomic import atomic_write_text

    page_dir = Path(path).resolve().parent

    def link(p: str) -> str:
        return quote(Path(os.path.relpath(Path(p).resolve(), page_dir)).as_posix())

    classes = points["classes"]
    colours = _colours(len(classes))
    rows = [[round(float(x), 4), round(float(y), 4), int(label), link(p), p, float(offset or 0.0)]
            for (x, y), label, p, offset in zip(points["xy"], points["labels"], points["paths"], points["offsets"])]
    key = "".join(f'<span style="color:{colours[i]}">&#9632; {html_lib.escape(name)}</span>'
                  for i, name in enumerate(classes))
    page = _PAGE % {"title": html_lib.escape(f"sample library map ({len(rows)} of {points['total']} sounds)"),
                    "key": key, "points": json.dumps(rows).replace("</", "<\\/"),
                    "colours": json.dumps(colours)}
    return atomic_write_text(path, page)
