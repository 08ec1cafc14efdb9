"""`audiogen data prepare`: the training cache of an NSynth folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audiogen.cli.data_nsynth import report_cache
from audiogen.cli.options import NSynthCacheDirOpt, NSynthFilterOpt, shared_options
from audiogen.cli.output import emit_json, provenance, result_line


@shared_options("strict", "json_out", "quiet")
def prepare(
    data: Annotated[Path, typer.Argument(help="NSynth folder (examples.json + audio/).", show_default=False,
                                         metavar="DIR")],
    filters: NSynthFilterOpt = None,
    cache_dir: NSynthCacheDirOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build again even when a cache for this set and filter exists.")] = False,
    *, strict, json_out, quiet,
) -> None:
    """Decode an NSynth set once into a memory-mapped cache that training reads sequentially.

    The cache is keyed by examples.json and the filter; training builds it itself when missing.

    Example: audiogen data prepare nsynth-train/ --filter gansynth
    """
    from audiogen.data.nsynth import NSynthFilter
    from audiogen.data.nsynth_cache import build_cache
    from audiogen.data.skips import SkipLog
    from audiogen.runtime.progress import make_progress

    filt = NSynthFilter.parse(filters or [])
    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet or json_out, unit="notes") as progress:
        tasks = []  # the bar appears only when there is something to decode
        cache, summary = build_cache(data, filt, cache_root=cache_dir, rebuild=rebuild, skips=skips,
                                     on_start=lambda n: tasks.append(progress.add_task("decoding", total=n)),
                                     on_note=lambda: progress.advance(tasks[0]))
    if json_out:
        emit_json({**summary, "skipped_files": skips.to_dict(),
                   "pitch_range": [int(cache.labels["pitch"].min()), int(cache.labels["pitch"].max())],
                   **provenance("data prepare", {"data": data, "filter": filt.describe(), "cache_dir": cache_dir,
                                                 "rebuild": rebuild, "strict": strict})})
        return
    report_cache(summary, quiet=quiet)
    action = f"built in {summary['built_seconds']:.1f} s" if summary["built"] else "already built"
    skipped = f", {len(skips)} skipped ({', '.join(f'{k} {v}' for k, v in skips.reasons.items())})" if len(skips) else ""
    result_line(f"{summary['notes']} notes ({filt.describe()}) cached at {summary['cache']}: {action}{skipped}",
                json_mode=False)
