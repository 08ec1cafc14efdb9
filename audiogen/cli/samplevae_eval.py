"""`audiogen eval samplevae`: class accuracy and similarity precision@k on a labelled folder, or
the leave-one-kit-out protocol on a drum library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import shared_options, writable_dir
from audiogen.cli.output import emit_json, provenance, result_line
from audiogen.cli.samplevae_options import SampleVAEModelOpt


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@shared_options("device", "json_out", "quiet")
def eval_samplevae_command(
    data: Annotated[Path, typer.Option("--data", help="Labelled folder (class = subfolder); with a manifest.csv "
                                       "(audiogen data drums) velocity layers of the query's own instrument are "
                                       "not counted as neighbours.", show_default=False, metavar="DIR")],
    model: SampleVAEModelOpt = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Neighbours scored for precision@k.")] = 5,
    leave_one_kit_out: Annotated[bool, typer.Option("--leave-one-kit-out", help="Train one model per kit without "
                                                    "it and score that kit (needs manifest.csv; slow: --steps "
                                                    "each).")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="With --leave-one-kit-out: folder for the fold runs "
                                                "(re-running continues finished folds).", show_default=False, callback=writable_dir)] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="With --leave-one-kit-out: training steps per fold.")] = 1000,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="With --leave-one-kit-out: folds trained at once (one "
                                      "thread each).")] = 1,
    kits: Annotated[Optional[str], typer.Option("--kits", help="With --leave-one-kit-out: only these kits "
                                                "(comma-separated).", show_default=False)] = None,
    *, device, json_out, quiet,
) -> None:
    """Measure SampleVAE: class accuracy per class and same-class precision@k of similarity search.

    Example: audiogen eval samplevae --data drums/ --json

    Example: audiogen eval samplevae --data drums/ --leave-one-kit-out --out runs/loko --jobs 2
    """
    from audiogen.errors import AudiogenError

    if leave_one_kit_out:
        _leave_one_kit_out(data, out, steps, k, jobs, kits, json_out, quiet)
        return
    if out is not None or kits is not None:
        raise AudiogenError("--out and --kits go with --leave-one-kit-out")
    import numpy as np

    from audiogen.data.skips import SkipLog
    from audiogen.runtime.device import resolve_device
    from audiogen.samplevae.data import library_groups, load_feature_set
    from audiogen.samplevae.evaluate import accuracy_report, nearest_labels, retrieval_report
    from audiogen.samplevae.generate import embed_clips
    from audiogen.samplevae.load import load_samplevae_model
    from audiogen.samplevae.train import read_labelled

    torch_device = resolve_device(device)
    bundle = load_samplevae_model(model, torch_device)
    files, names = read_labelled([data])
    if all(n is None for n in names):
        raise AudiogenError(f"{data}: no class subfolders to score against")
    skips = SkipLog()
    clips, kept = load_feature_set(files, bundle.features, skips=skips)
    if not kept:
        raise AudiogenError(f"{data}: no usable audio files")
    means, probs = embed_clips(bundle.model, clips, bundle.features)
    classes = bundle.classes or sorted({n for n in names if n is not None})
    truth = np.array([classes.index(names[i]) if names[i] in classes else -1 for i in kept])
    groups = library_groups([data])
    owner = [groups.get(str(Path(files[i]).resolve()), (str(files[i]), ""))[:2] for i in kept]
    ids = {name: i for i, name in enumerate(sorted(set(owner)))}
    owner_id = np.array([ids[o] for o in owner])
    same = owner_id[:, None] == owner_id[None, :]  # itself and its velocity layers
    np.fill_diagonal(same, True)
    neighbours = nearest_labels(means, means, truth, k, exclude=same)
    retrieval = retrieval_report(truth, neighbours, classes)
    classification = (accuracy_report(probs.numpy().argmax(1), truth, classes) if probs is not None else None)
    if json_out:
        emit_json({"data": data, "files": len(kept), "skipped": skips.to_dict(), "k": k,
                   "classification": classification, "retrieval": retrieval, "model": bundle.path,
                   "model_sha256": bundle.sha256, **provenance("eval samplevae", {
                       "data": data, "model": model, "k": k, "device": str(torch_device)})})
        return
    if classification is not None:
        result_line(f"class accuracy {_fmt(classification['accuracy'])} over {classification['scored']} files; "
                    f"precision@{k} {_fmt(retrieval['precision'])}", json_mode=False)
        for name, entry in classification["per_class"].items():
            if entry["count"]:
                result_line(f"  {name:<8} recall {_fmt(entry['recall'])} ({entry['count']} files), precision@{k} "
                            f"{_fmt(retrieval['per_class'][name])}", json_mode=False)
    else:
        result_line(f"precision@{k} {_fmt(retrieval['precision'])} over {retrieval['queries']} files (no class head)",
                    json_mode=False)


def _leave_one_kit_out(data: Path, out: Path | None, steps: int, k: int, jobs: int, kits: str | None,
                       json_out: bool, quiet: bool) -> None:
    from audiogen.errors import AudiogenError
    from audiogen.samplevae.crossval import leave_one_kit_out
    from audiogen.samplevae.train import CONFIGS

    if out is None:
        raise AudiogenError("--leave-one-kit-out needs --out DIR for the fold runs")

    def show(fold: dict) -> None:  # a table row: stdout, or stderr beside --json
        if quiet and json_out:
            return
        result_line(f"  {fold['kit']:<24} accuracy {_fmt(fold['accuracy'])} ({fold['six_scored']} drum sounds), "
                    f"within the six {_fmt(fold['accuracy_within_six'])}, other {_fmt(fold['other_recall'])} "
                    f"({fold['other_scored']}), precision@{k} {_fmt(fold['precision_six'])}", json_mode=json_out)

    summary = leave_one_kit_out(data, out, config=CONFIGS["default"], steps=steps, k=k, jobs=jobs,
                                kits=[s.strip() for s in kits.split(",")] if kits else None, on_fold=show)
    if json_out:
        emit_json({**summary, **provenance("eval samplevae", {"data": data, "leave_one_kit_out": True, "out": out,
                                                               "steps": steps, "k": k, "jobs": jobs, "kits": kits})})
        return
    result_line(f"leave-one-kit-out over {summary['kits_scored']} kits: mean accuracy {_fmt(summary['mean_accuracy'])} "
                f"(within the six {_fmt(summary['mean_accuracy_within_six'])}, pooled {_fmt(summary['pooled_accuracy'])}), "
                f"mean precision@{k} {_fmt(summary['mean_precision_six'])}, other recall "
                f"{_fmt(summary['other_recall_pooled'])}", json_mode=False)
