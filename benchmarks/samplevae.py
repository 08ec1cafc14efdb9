"""SampleVAE speed: similarity search at 1,000,000 sounds, indexing throughput, generation.

Search: a synthetic index of N (default 1,000,000) clustered 64-d float16 vectors is written with
`LibraryIndex.commit` (SQLite metadata, .npy vectors); then a fresh process (one thread) opens
it and times `search_index` (exact top-10, the query's own row excluded) on 30 queries, and
reports its resident memory (VmRSS) before opening the index (imports only) and after the
queries. References, in that same process: numpy float32 matrix product + argpartition over the
same vectors held in float32, row norms precomputed (the usual brute force; twice the memory), and SampleVAE's Python loop of Euclidean
distances, timed on 20,000 rows and scaled to N.

Indexing: 400 one-second 44.1 kHz WAV files (synthetic drum-like hits) are indexed with the
bundled model by `update_index` (2 loader threads, torch's default threads) into a new index,
after a warm-up run on 32 other files; files/s counts the whole run (reading, resampling,
features, encoder, SQLite, writing the index). Reference: the same with one loader thread.

Generation: 100 prior samples decoded to audio (decoder + mel inversion + 64 Griffin-Lim iterations).

    python benchmarks/samplevae.py                 # all three
    python benchmarks/samplevae.py --only search --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LATENT = 64


def _rss_mb(field: str = "VmRSS") -> float:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_synthetic_index(path: Path, rows: int, seed: int = 0) -> None:
    from audiogen.samplevae.library_index import NewItem, open_index

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, LATENT)).astype(np.float32) * 2
    labels = rng.integers(0, 7, rows).astype(np.int16)
    vectors = np.empty((rows, LATENT), np.float16)
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        pick = rng.integers(0, len(centres), n)
        vectors[start:start + n] = centres[pick] + rng.standard_normal((n, LATENT)).astype(np.float32) * 0.5
    classes = ["clap", "cymbal", "hihat", "kick", "other", "snare", "tom"]
    items = [NewItem(f"/library/kit{i // 1000:04d}/sound{i:07d}.wav", 0.0, 44100, 0, classes[labels[i]], 0.9)
             for i in range(rows)]
    index = open_index(path, create=True)
    index.commit(root="/library", keep_rows=np.zeros(0, np.int64), new_items=items, new_vectors=vectors,
                 new_labels=labels, skipped=[], model_sha256="synthetic", model_path="synthetic", latent=LATENT,
                 classes=classes)
    index.close()


def search_child(path: str, queries: int) -> dict:
    """Run in a fresh process: import, open, query; report times and memory."""
    import torch

    torch.set_num_threads(1)
    from audiogen.samplevae.indexing import search_index
    from audiogen.samplevae.library_index import open_index

    imported = _rss_mb()
    index = open_index(path)
    vectors, _, _ = index.arrays()
    rng = np.random.default_rng(1)
    picks = rng.integers(0, len(vectors), queries)
    times = []
    for row in picks:
        query = np.asarray(vectors[row], np.float32) + rng.standard_normal(LATENT).astype(np.float32) * 0.1
        began = time.perf_counter()
        results = search_index(index, query, 10, exclude_rows=[int(row)])
        times.append(time.perf_counter() - began)
        assert len(results) == 10 and all(r["row"] != row for r in results)
    after = _rss_mb()
    peak = _rss_mb("VmHWM")
    # References on the same vectors.
    full = np.asarray(vectors, np.float32)
    full_norms = np.einsum("ij,ij->i", full, full)
    ref_times = []
    for row in picks[:10]:
        query = full[row]
        began = time.perf_counter()
        d = full_norms - 2 * (full @ query)
        np.argpartition(d, 11)[:11]
        ref_times.append(time.perf_counter() - began)
    loop_rows = 20_000
    began = time.perf_counter()
    distances = [float(np.linalg.norm(full[i] - full[0])) for i in range(loop_rows)]
    sorted(range(loop_rows), key=distances.__getitem__)[:10]
    loop_time = (time.perf_counter() - began) * len(full) / loop_rows
    return {"rows": len(full), "median_ms": 1000 * float(np.median(times)), "max_ms": 1000 * float(np.max(times)),
            "rss_after_import_mb": imported, "rss_after_queries_mb": after, "peak_rss_mb": peak,
            "index_mb": after - imported, "numpy_f32_ms": 1000 * float(np.median(ref_times)),
            "python_loop_ms_scaled": 1000 * loop_time}


def bench_search(rows: int, queries: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        began = time.perf_counter()
        build_synthetic_index(path, rows)
        built = time.perf_counter() - began
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run([sys.executable, __file__, "--search-child", str(path), "--queries", str(queries)],
                             capture_output=True, text=True, env=env, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["build_s"] = built
        result["disk_mb"] = sum(p.stat().st_size for p in path.iterdir()) / 2**20
    return result


def _hit(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = np.arange(sr) / sr
    kind = rng.integers(3)
    if kind == 0:
        wave = np.sin(2 * np.pi * rng.uniform(40, 90) * t * (1 + 2 * np.exp(-t * 30))) * np.exp(-t * 8)
    else:
        wave = rng.standard_normal(sr) * np.exp(-t * rng.uniform(5, 40))
    return (0.5 * wave).astype(np.float32)


def bench_indexing(files: int, sr: int = 44100) -> dict:
    import soundfile as sf
    import torch

    from audiogen.data.skips import SkipLog
    from audiogen.samplevae.indexing import update_index
    from audiogen.samplevae.library_index import open_index
    from audiogen.samplevae.load import load_samplevae_model

    bundle = load_samplevae_model()
    rng = np.random.default_rng(0)
    result = {"files": files, "sample_rate": sr, "torch_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        lib = Path(tmp) / "lib"
        lib.mkdir()
        for i in range(files):
            sf.write(str(lib / f"hit{i:04d}.wav"), _hit(rng, sr), sr)
        warm = Path(tmp) / "warm"
        warm.mkdir()
        for i in range(32):
            sf.write(str(warm / f"hit{i:04d}.wav"), _hit(rng, sr), sr)
        update_index(open_index(Path(tmp) / "index-warm", create=True), bundle, warm, skips=SkipLog())
        for workers, key in ((2, "files_per_s"), (1, "files_per_s_one_loader")):
            index = open_index(Path(tmp) / f"index{workers}", create=True)
            began = time.perf_counter()
            report = update_index(index, bundle, lib, skips=SkipLog(), workers=workers)
            seconds = time.perf_counter() - began
            index.close()
            assert report.new_sounds == files
            result[key] = files / seconds
    return result


def bench_generation(num: int) -> dict:
    import torch

    from audiogen.samplevae.generate import decode_audio, prior_latents
    from audiogen.samplevae.load import load_samplevae_model

    bundle = load_samplevae_model()
    generator = torch.Generator().manual_seed(0)
    z = prior_latents(num, bundle.latent, generator=generator)
    decode_audio(bundle.model, z[:4], bundle.features, generator=generator)
    began = time.perf_counter()
    decode_audio(bundle.model, z, bundle.features, generator=generator)
    seconds = time.perf_counter() - began
    return {"sounds": num, "seconds": seconds, "sounds_per_s": num / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("search", "indexing", "generation"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--search-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_child:
        print(json.dumps(search_child(args.search_child, args.queries)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}")
    if args.only in (None, "search"):
        r = bench_search(args.rows, args.queries)
        print(f"search {r['rows']:,} x {LATENT} float16, one thread: median {r['median_ms']:.1f} ms, max "
              f"{r['max_ms']:.1f} ms per query (exact top-10); numpy float32 brute force {r['numpy_f32_ms']:.1f} ms; "
              f"SampleVAE-style Python loop {r['python_loop_ms_scaled'] / 1000:.1f} s (scaled)")
        print(f"  memory: {r['rss_after_import_mb']:.0f} MB after imports, {r['rss_after_queries_mb']:.0f} MB after "
              f"the queries (index {r['index_mb']:.0f} MB), peak {r['peak_rss_mb']:.0f} MB; on disk "
              f"{r['disk_mb']:.0f} MB; built in {r['build_s']:.1f} s")
    if args.only in (None, "indexing"):
        r = bench_indexing(args.files)
        print(f"indexing {r['files']} one-second {r['sample_rate']} Hz files: {r['files_per_s']:.0f} files/s "
              f"(one loader thread: {r['files_per_s_one_loader']:.0f} files/s; torch threads {r['torch_threads']})")
    if args.only in (None, "generation"):
        r = bench_generation(100)
        print(f"generation: {r['sounds']} sounds (decoder + mel inversion + 64 Griffin-Lim iterations) in "
              f"{r['seconds']:.2f} s = {r['sounds_per_s']:.0f} sounds/s")


if __name__ == "__main__":
    main()
