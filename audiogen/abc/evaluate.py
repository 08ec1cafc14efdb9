"""Measuring an ABC model: held-out bits per character, and what its sampled tunes are like.

For sampled tunes (`evaluate_samples`): the share that converts to MIDI with at least
`min_notes` notes (abc2midi when installed, else our reader: the result names the converter), the
share music21 parses (a second opinion), the share with valid M:/L:/K: headers, meter and key histograms next to the
training data's, and the share that are verbatim copies of a training tune (same body
fingerprint; the model file holds its training tunes' fingerprints and histograms).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence

from audiogen.notation.tunes import fingerprint, header_field, histogram
from audiogen.abc.validate import (INSTALL_HINT, Abc2midiResult, abc2midi_available, abc2midi_check,
                                   header_checks, load_pretty_midi, music21_notes, reader_notes)
from audiogen.errors import AudiogenError

CONVERTERS = ("auto", "abc2midi", "audiogen")
MUSIC21_POOL_MIN = 100  # below this many tunes, worker start-up (~3 s each: music21's import) does not pay

OnDone = Callable[[int], None]  # called with the number of tunes just finished


def resolve_converter(name: str = "auto") -> str:
    """"abc2midi" or "audiogen" (our reader): auto picks abc2midi when installed; AudiogenError when
    abc2midi is asked for and missing."""
    if name not in CONVERTERS:
        raise AudiogenError(f"--converter {name}: choose from {', '.join(CONVERTERS)}")
    if name == "auto":
        return "abc2midi" if abc2midi_available() else "audiogen"
    if name == "abc2midi" and not abc2midi_available():
        raise AudiogenError(f"abc2midi is not installed ({INSTALL_HINT}); use --converter audiogen")
    return name


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def abc2midi_results(texts: Sequence[str], *, workers: int | None = None, timeout: float = 20,
                     on_done: OnDone | None = None) -> list[Abc2midiResult]:
    """abc2midi on each tune (one temp file each), `workers` subprocesses at a time, in order."""
    from concurrent.futures import ThreadPoolExecutor

    load_pretty_midi()  # imported here, before the threads start
    threads = max(1, workers or 2 * default_workers())
    results: list[Abc2midiResult] = []
    with ThreadPoolExecutor(threads) as pool:
        for result in pool.map(lambda text: abc2midi_check(text, timeout), texts):
            results.append(result)
            if on_done:
                on_done(1)
    return results


def music21_counts(texts: Sequence[str], *, workers: int | None = None,
                   on_done: OnDone | None = None) -> list[int | None]:
    """music21's note count of each tune (None where it fails), in order.

    music21 is pure Python, so parallel parsing needs processes: `workers` spawned processes
    (default: CPU count, at most 4) when there are at least MUSIC21_POOL_MIN tunes.
    """
    import multiprocessing

    jobs = workers if workers is not None else (default_workers() if len(texts) >= MUSIC21_POOL_MIN else 1)
    jobs = max(1, min(jobs, len(texts)))
    counts: list[int | None] = []
    if jobs == 1:
        for text in texts:
            counts.append(music21_notes(text))
            if on_done:
                on_done(1)
        return counts
    # spawn, not fork: forking beside the progress bar's thread and torch's thread pools can deadlock
    pool = multiprocessing.get_context("spawn").Pool(jobs, initializer=_quiet_worker)
    try:
        for count in pool.imap(music21_notes, texts, chunksize=4):
            counts.append(count)
            if on_done:
                on_done(1)
        pool.close()
        pool.join()
    finally:
        pool.terminate()
    return counts


def _quiet_worker() -> None:
    """music21 writes a warning line to stderr for every odd token of a junk tune; from a worker
    (no progress bar to disturb) they go nowhere."""
    import sys

    sys.stderr = open(os.devnull, "w")


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def histogram_comparison(samples: dict[str, int], training: dict[str, int], top: int = 8) -> dict:
    """Two histograms side by side as shares: the `top` values by combined share, then "(other)".

    Returns {"rows": [{"value", "samples", "training"}], "tv_distance"}: total variation distance
    (half the L1 distance between the two distributions, 0 same .. 1 disjoint) over all values.
    """
    n_samples, n_training = sum(samples.values()), sum(training.values())

    def share(counts: dict[str, int], value: str, total: int) -> float:
        return counts.get(value, 0) / total if total else 0.0

    values = sorted(set(samples) | set(training),
                    key=lambda v: (-(share(samples, v, n_samples) + share(training, v, n_training)), v))
    rows = [{"value": v, "samples": share(samples, v, n_samples), "training": share(training, v, n_training)}
            for v in values[:top]]
    rest = values[top:]
    if rest:
        rows.append({"value": "(other)", "samples": sum(share(samples, v, n_samples) for v in rest),
                     "training": sum(share(training, v, n_training) for v in rest)})
    tv = 0.5 * sum(abs(share(samples, v, n_samples) - share(training, v, n_training)) for v in values)
    return {"rows": rows, "tv_distance": tv if n_samples and n_training else None}


def header_summary(texts: Sequence[str]) -> dict:
    """{"valid": share with all of M:, L:, K: valid, "M"/"L"/"K": share valid per field}."""
    checks = [header_checks(t) for t in texts]
    return {"valid": _share(sum(c["all"] for c in checks), len(checks)),
            **{f: _share(sum(c[f] for c in checks), len(checks)) for f in "MLK"}}


def copies(texts: Sequence[str], train_fingerprints: Sequence[str] | None) -> dict:
    """Verbatim copies of training tunes (same body fingerprint) and repeats among `texts` themselves.

    {"count", "share"} are None when the model file holds no fingerprints; "distinct" is the share
    of different bodies among the tunes that have one.
    """
    prints = [fingerprint(t) for t in texts]
    bodies = [p for p in prints if p]
    result = {"count": None, "share": None, "distinct": _share(len(set(bodies)), len(bodies))}
    if train_fingerprints is not None:
        known = set(train_fingerprints)
        count = sum(1 for p in prints if p and p in known)
        result.update(count=count, share=_share(count, len(prints)))
    return result


def scan_summary(texts: Sequence[str], results: Sequence[Abc2midiResult] | None = None) -> dict:
    """Whether tunes scan (every bar in meter, pickups allowed): by audiogen's bar reader
    (audiogen.notation.bars) and, given abc2midi's `results` for the same tunes, by abc2midi's own bar
    check (a tune that does not convert does not scan). Shares are of all tunes; a tune in free
    meter (M:none) is not checked and counts as scanning.

    {"n", "scans", "count", "free_meter", "failures": {kind: tunes with one or more}, "abc2midi"}
    """
    from audiogen.notation.bars import scan_tune

    scans = [scan_tune(t) for t in texts]
    failures: Counter = Counter()
    for scan in scans:
        failures.update({p.kind for p in scan.problems})
    count = sum(s.scans for s in scans)
    out = {"n": len(texts), "scans": _share(count, len(texts)), "count": count,
           "free_meter": sum(s.free_meter for s in scans), "failures": dict(failures.most_common()),
           "abc2midi": None}
    if results is not None:
        passed = sum(r.scans is True for r in results)
        out["abc2midi"] = {"scans": _share(passed, len(results)), "count": passed,
                           "agree": _share(sum((r.scans is True) == s.scans for r, s in zip(results, scans)),
                                           len(results))}
    return out


def evaluate_samples(texts: Sequence[str], extra: dict, *, converter: str = "auto", min_notes: int = 8,
                     workers: int | None = None, on_abc2midi: OnDone | None = None,
                     on_music21: OnDone | None = None) -> dict:
    """Every figure about sampled tune texts; `extra` is the model file's extra (fingerprints,
    histograms of the training data). See the module docstring; shares are in [0, 1].

    `converter` (auto|abc2midi|audiogen) decides which judge's note count gives "playable".
    `on_abc2midi` / `on_music21` are called as tunes finish (progress bars).
    """
    converter = resolve_converter(converter)
    n = len(texts)
    out: dict = {"n": n, "converter": converter, "min_notes": min_notes, "seconds": {}}

    if abc2midi_available():
        began = time.perf_counter()
        results = abc2midi_results(texts, workers=workers, on_done=on_abc2midi)
        out["seconds"]["abc2midi"] = round(time.perf_counter() - began, 2)
        notes = [r.notes for r in results if r.ok]
        playable = sum(1 for c in notes if c >= min_notes)
        out["abc2midi"] = {"converted": _share(len(notes), n), "playable": _share(playable, n),
                           "playable_count": playable, "printed_errors": _share(sum(r.errors for r in results), n),
                           "median_notes": _median(notes),
                           "failures": dict(Counter(r.message.split(":")[0] for r in results if not r.ok))}
    else:
        out["abc2midi"] = None
        results = None
    out["scans"] = scan_summary(texts, results)

    began = time.perf_counter()
    counts = music21_counts(texts, workers=workers, on_done=on_music21)
    out["seconds"]["music21"] = round(time.perf_counter() - began, 2)
    parsed = [c for c in counts if c is not None]
    playable = sum(1 for c in parsed if c >= min_notes)
    out["music21"] = {"parsed": _share(len(parsed), n), "playable": _share(playable, n), "playable_count": playable,
                      "median_notes": _median(parsed)}

    ours = [reader_notes(text) for text in texts]
    playable = sum(1 for c in ours if c >= min_notes)
    out["audiogen"] = {"playable": _share(playable, n), "playable_count": playable, "median_notes": _median(ours)}

    out["playable"] = out[converter]["playable"]
    out["playable_count"] = out[converter]["playable_count"]
    out["headers"] = header_summary(texts)
    out["copies"] = copies(texts, extra.get("train_fingerprints"))
    for field, letter in (("meter", "M"), ("key", "K")):
        samples = histogram(header_field(t, letter) for t in texts)
        training = extra.get(f"{field}_histogram")
        out[field] = {"samples": samples, "training": training,
                      **histogram_comparison(samples, training or {})}
    return out


def heldout_bpc(abc_model, texts: Sequence[str], *, device="cpu") -> dict:
    """Bits per character of `abc_model` (an AbcModel) on held-out tune texts (training_text form).

    Tunes with characters outside the model's vocabulary are left out (counted in "left_out",
    with the characters in "unknown_chars"). "in_training" counts held-out tunes whose body is
    one of the model's training tunes (then the figure is not a held-out one). AudiogenError when
    no tune is left.
    """
    from audiogen.abc.metrics import bits_per_char

    unknown: set[str] = set()
    kept = []
    for text in texts:
        missing = abc_model.vocab.unknown(text)
        unknown.update(missing)
        if not missing:
            kept.append(text)
    if not kept:
        raise AudiogenError(f"none of the {len(texts)} held-out tunes can be written with the model's "
                            f"vocabulary (unknown characters: {''.join(sorted(unknown))[:40]!r})")
    trained = abc_model.extra.get("train_fingerprints")
    known = set(trained or [])
    return {"tunes": len(texts), "used": len(kept), "left_out": len(texts) - len(kept),
            "unknown_chars": "".join(sorted(unknown)), "chars": sum(len(t) for t in kept),
            "in_training": None if trained is None else sum(1 for t in kept if fingerprint(t) in known),
            "bpc": bits_per_char(abc_model.model, kept, abc_model.vocab, device=device),
            "headers": header_summary(texts)}


def evaluate_abc(abc_model, heldout_texts: Sequence[str], *, train_texts: Sequence[str] | None = None,
                 num: int = 1000, seed: str = "X:1", temperature: float = 1.0, max_chars: int = 2000,
                 min_notes: int = 8, in_meter: bool = True, converter: str = "auto", generator=None,
                 device="cpu", progress: Callable[[str, int], Callable[[int], None]] | None = None) -> dict:
    """`eval abc`'s whole recipe: held-out bits per character and scans, the training tunes' scans
    (from `train_texts`, else the share stored in the model file), and `num` tunes sampled from
    `seed` judged by `evaluate_samples`. `progress(phase, total)` returns a callable told how many
    more are done (a progress bar per phase). Returns {"heldout", "training", "samples", "texts"}."""
    from audiogen.abc.data import training_text
    from audiogen.abc.generate import sample_tunes

    bar = progress or (lambda phase, total: (lambda count: None))

    def scans_of(texts: Sequence[str], label: str) -> dict:
        results = (abc2midi_results(texts, on_done=bar(f"abc2midi ({label})", len(texts)))
                   if abc2midi_available() else None)
        return scan_summary(texts, results)

    began = time.perf_counter()
    heldout = heldout_bpc(abc_model, [training_text(t) for t in heldout_texts], device=device)
    heldout["seconds"] = round(time.perf_counter() - began, 2)
    heldout["scans"] = scans_of(heldout_texts, "held-out")
    if train_texts is not None:
        training = {"source": "--train-data", **scans_of(train_texts, "training")}
    elif abc_model.extra.get("train_scans") is not None:
        training = {"source": "model file", "n": abc_model.extra.get("train_tunes"),
                    "scans": abc_model.extra["train_scans"], "count": None, "free_meter": None, "failures": {},
                    "abc2midi": None}
    else:
        training = None
    began = time.perf_counter()
    sampled = sample_tunes(abc_model, seed, num, temperature=temperature, max_chars=max_chars, generator=generator,
                           in_meter=in_meter, on_finished=bar("sampling", num))
    sampling_seconds = round(time.perf_counter() - began, 2)
    texts = [t.text for t in sampled]
    samples = evaluate_samples(texts, abc_model.extra, converter=converter, min_notes=min_notes,
                               on_abc2midi=bar("abc2midi", num) if abc2midi_available() else None,
                               on_music21=bar("music21", num))
    samples["seconds"]["sampling"] = sampling_seconds
    samples["ended"] = sum(t.ended for t in sampled) / num
    samples["mean_chars"] = sum(len(t.text) for t in sampled) / num
    return {"heldout": heldout, "training": training, "samples": samples, "texts": texts}
