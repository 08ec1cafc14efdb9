"""Sampling tunes from the ABC char-LSTM, many at once.

A tune is the priming text (the seed, e.g. "X:1" or a whole header) followed by characters drawn
one at a time. It ends where training texts end (audiogen.abc.data.TUNE_END): at a blank line, or
where a line starting "X:" begins after the seed (the model went on to a next tune: cut before
it). A tune that has neither after `max_chars` drawn characters is cut there and flagged.

All tunes of a batch advance together, one character per step; a finished tune leaves the batch
(its row is dropped from the LSTM state), so the batch shrinks to the long tunes. The module needs
only torch (it runs on the GPU machine, which has no music21).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from audiogen.abc.model import State
from audiogen.errors import AudiogenError

if TYPE_CHECKING:  # load.py imports the training code (numpy); sampling needs torch only
    from audiogen.abc.load import AbcModel

CUT_MARK = "% cut at --max-chars"
INVALID_MARK = "% not playable"
_X_LINE = re.compile(r"X:[^\n]*\n")  # a tune's first line


@dataclass
class SampledTune:
    text: str       # seed + continuation, the whole tune, ending with exactly one "\n" (no blank line)
    ended: bool     # False when cut at max_chars
    chars: int      # characters drawn after the seed, the end included ("\n" of the blank line, "X:")
    tries: int = 1  # with a validator: samples drawn for this tune
    valid: bool | None = None  # with a validator: whether the kept sample ended and passed it


def check_seed(abc_model: AbcModel, seed: str, *, in_meter: bool = False) -> None:
    """AudiogenError unless `seed` can prime the model: not empty, no blank line, every character
    in the model's vocabulary (the offending ones are listed, each as a Python repr). With
    `in_meter`, a warning when the seed's own bars break its meter (the mask keeps the bars the
    model writes, not the seed's)."""
    if not seed:
        raise AudiogenError("--seed is empty: give the start of a tune, e.g. \"X:1\"")
    if "\n\n" in seed:
        raise AudiogenError(f"--seed {seed!r} holds a blank line, which ends a tune")
    unknown = abc_model.vocab.unknown(seed)
    if unknown:
        raise AudiogenError(f"--seed holds {len(unknown)} character(s) outside the vocabulary of "
                            f"{abc_model.path.name}: {', '.join(map(repr, unknown))}")
    if not looks_like_abc(seed):
        from audiogen.data.skips import warn

        warn(f"--seed {seed!r} does not look like ABC (no field such as X:1, no notes): every tune starts with "
             "it as written; for a reproducible run use --rng-seed N")
    if in_meter:
        broken = seed_meter_problems(seed)
        if broken:
            from audiogen.data.skips import warn

            warn(f"--seed breaks its own meter ({broken[0].describe()}"
                 f"{f' and {len(broken) - 1} more' if len(broken) > 1 else ''}): its tunes will not scan there; "
                 "the bars the model writes are kept in meter")


def seed_meter_problems(seed: str) -> list:
    """The bars of a seed that break its meter (its last, unfinished bar is not judged)."""
    from audiogen.notation.bars import BarTracker

    tracker = BarTracker().feed_text(seed)
    return tracker.result.problems


def looks_like_abc(text: str) -> bool:
    """Whether priming text reads as the start of a tune: a header field ("X:1", "K:D") or notes."""
    import re

    return bool(re.search(r"(^|\n)[A-Za-z]:", text) or re.search(r"[A-Ga-gz][,']*[0-9/]*[ |]", text + " "))


def _char_id(abc_model: AbcModel, char: str) -> int:
    """The id of `char`, or -1 (matches no id) when the vocabulary lacks it."""
    return abc_model.vocab.chars.find(char)


GREEDY_BELOW = 1e-4  # temperatures under this draw the argmax


def draw(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
         top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """logits (B, V) -> ids (B,) int64: argmax for temperature 0, else a draw from
    softmax(logits / temperature) restricted to the `top_k` likeliest ids and to the smallest
    set whose probability reaches `top_p` (nucleus)."""
    if temperature < GREEDY_BELOW:  # logits / 1e-300 overflow to inf - inf; this close to 0 is argmax anyway
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # drop an id when the likelier ids before it already reach top_p (the first is always kept)
        drop = probs.cumsum(dim=-1) - probs >= top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return torch.multinomial(logits.softmax(dim=-1), 1, generator=generator).squeeze(1)


@torch.inference_mode()
def _prime(abc_model: AbcModel, seed: str) -> tuple[torch.Tensor, State]:
    """Run the seed through the model (batch 1): logits (1, V) for the first drawn char, state."""
    device = next(abc_model.model.parameters()).device
    ids = abc_model.vocab.encode(seed).to(device)[None]
    logits, state = abc_model.model(ids)
    return logits[:, -1], state


@torch.inference_mode()
def _continue(abc_model: AbcModel, seeds: Sequence[str], logits: torch.Tensor, state: State, *,
              temperature: float, top_k: int | None, top_p: float | None, max_chars: int,
              generator: torch.Generator | None,
              on_finished: Callable[[int], None] | None, in_meter: bool = False) -> list[SampledTune]:
    """Draw the continuations of B primed seeds at once: logits (B, V), state (layers, B, hidden).
    With `in_meter`, each draw is masked so every bar keeps its meter (audiogen.notation.meter_mask)."""
    model, batch = abc_model.model, len(seeds)
    device = logits.device
    chars = abc_model.vocab.chars
    if in_meter:
        from audiogen.notation.meter_mask import MeterMask

        meter_mask = MeterMask(chars, device)
        trackers = meter_mask.trackers(seeds)
    newline, x_id, colon = (_char_id(abc_model, c) for c in "\nX:")
    # the last two characters of each text so far (-1: none), for the end rules
    last = torch.tensor([_char_id(abc_model, s[-1]) for s in seeds], device=device)
    before = torch.tensor([_char_id(abc_model, s[-2]) if len(s) > 1 else -1 for s in seeds], device=device)
    drawn = torch.empty(batch, max_chars, dtype=torch.int16, device=device)  # vocabularies are small
    rows = torch.arange(batch, device=device)  # original row of each live row
    steps = [max_chars] * batch                # characters drawn, per row
    kept = [max_chars] * batch                 # of those, the ones in the tune
    ended = [False] * batch
    for step in range(max_chars):
        if in_meter:
            live_trackers = [trackers[row] for row in rows.tolist()]
            logits = logits.masked_fill(~meter_mask.masks(live_trackers), float("-inf"))
        ids = draw(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
        drawn[rows, step] = ids.to(drawn.dtype)
        if in_meter:
            for tracker, char_id in zip(live_trackers, ids.tolist()):
                tracker.feed(chars[char_id])
        blank = (ids == newline) & (last == newline)
        # "X:" opening a line, its "X" drawn (step >= 1): the next tune began; cut before its line
        next_tune = (ids == colon) & (last == x_id) & (before == newline) if step >= 1 else torch.zeros_like(blank)
        done = blank | next_tune
        if done.any():
            for row, cut_x in zip(rows[done].tolist(), next_tune[done].tolist()):
                steps[row], kept[row], ended[row] = step + 1, step + 1 - (2 if cut_x else 0), True
            if on_finished is not None:
                on_finished(int(done.sum()))
            live = ~done
            if not live.any():
                break
            rows, ids, last = rows[live], ids[live], last[live]
            state = (state[0][:, live], state[1][:, live])
        if step + 1 == max_chars:
            break
        before, last = last, ids
        logits, state = model(ids[:, None], state)
        logits = logits[:, -1]
    if on_finished is not None and not all(ended):
        on_finished(ended.count(False))
    drawn = drawn.cpu()
    tunes = []
    for row, seed in enumerate(seeds):
        text = seed + abc_model.vocab.decode(drawn[row, :kept[row]])
        if text.endswith("\n\n"):
            text = text[:-1]
        elif not text.endswith("\n"):
            text += "\n"
        tunes.append(SampledTune(text=text, ended=ended[row], chars=steps[row]))
    return tunes


def _check_options(temperature: float, top_k: int | None, top_p: float | None, max_chars: int) -> None:
    if temperature < 0:
        raise ValueError(f"temperature {temperature} < 0")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k {top_k} < 1")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p {top_p} outside (0, 1]")
    if max_chars < 1:
        raise ValueError(f"max_chars {max_chars} < 1")


def sample_from_seeds(abc_model: AbcModel, seeds: Sequence[str], *, temperature: float = 1.0,
                      top_k: int | None = None, top_p: float | None = None, max_chars: int = 2000,
                      generator: torch.Generator | None = None,
                      on_finished: Callable[[int], None] | None = None,
                      in_meter: bool = True) -> list[SampledTune]:
    """One tune per seed, all drawn in one batch (each seed primed on its own first); with
    `in_meter` (the default) every bar keeps its meter."""
    _check_options(temperature, top_k, top_p, max_chars)
    if not seeds:
        return []
    for seed in seeds:
        check_seed(abc_model, seed, in_meter=in_meter)
    primed = [_prime(abc_model, seed) for seed in seeds]
    logits = torch.cat([p[0] for p in primed])
    state = tuple(torch.cat([p[1][i] for p in primed], dim=1) for i in range(2))
    return _continue(abc_model, seeds, logits, state, temperature=temperature, top_k=top_k, top_p=top_p,
                     max_chars=max_chars, generator=generator, on_finished=on_finished, in_meter=in_meter)


MAX_BATCH = 1024  # tunes drawn together when no batch size is given


def sample_tunes(abc_model: AbcModel, seed: str, n: int, *, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, max_chars: int = 2000,
                 generator: torch.Generator | None = None, batch_size: int | None = None,
                 validator: Callable[[str], bool] | None = None, max_tries: int = 10,
                 on_finished: Callable[[int], None] | None = None, in_meter: bool = True) -> list[SampledTune]:
    """`n` tunes continuing `seed`, drawn `batch_size` at a time (default: all n in one batch, at
    most MAX_BATCH: a batch of 100,000 tunes would hold 100,000 x `max_chars` draws at once).

    temperature 0 is greedy (argmax). The seed is primed once and its LSTM state copied to every
    row. With `validator`, a tune is kept when it ended (not cut at max_chars) and
    `validator(text)` is true; the others are drawn again, in batches of the failures, up to
    `max_tries` draws each (the last draw is kept, with valid=False). `generator` (on the
    model's device) makes runs reproducible. `on_finished(k)` is called as k more tunes finish.
    With `in_meter` (the default) each draw is masked so every bar keeps its meter; False draws
    freely (`--free-meter`).
    AudiogenError for a seed the model cannot take (see `check_seed`).
    """
    _check_options(temperature, top_k, top_p, max_chars)
    if n < 0 or (batch_size is not None and batch_size < 1) or max_tries < 1:
        raise ValueError(f"n {n}, batch_size {batch_size}, max_tries {max_tries}: out of range")
    check_seed(abc_model, seed, in_meter=in_meter)
    logits, state = _prime(abc_model, seed)

    def draw_tunes(count: int) -> list[SampledTune]:
        out: list[SampledTune] = []
        size = batch_size or min(max(count, 1), MAX_BATCH)
        for start in range(0, count, size):
            b = min(size, count - start)
            out += _continue(abc_model, [seed] * b, logits.expand(b, -1),
                             tuple(s.expand(-1, b, -1).contiguous() for s in state),
                             temperature=temperature, top_k=top_k, top_p=top_p, max_chars=max_chars,
                             generator=generator, on_finished=on_finished, in_meter=in_meter)
        return out

    tunes = draw_tunes(n)
    if validator is None:
        return tunes
    failing = []
    for i, tune in enumerate(tunes):
        tune.valid = tune.ended and bool(validator(tune.text))
        if not tune.valid:
            failing.append(i)
    for tries in range(2, max_tries + 1):
        if not failing:
            break
        for i, tune in zip(failing, draw_tunes(len(failing))):
            tune.tries = tries
            tune.valid = tune.ended and bool(validator(tune.text))
            tunes[i] = tune
        failing = [i for i in failing if not tunes[i].valid]
    return tunes


def numbered(text: str, number: int) -> str:
    """A tune's text with its first line made "X:<number>" (an X: line is added when missing)."""
    return _X_LINE.sub(f"X:{number}\n", text, count=1) if text.startswith("X:") else f"X:{number}\n{text}"


def abc_file_text(tunes: Sequence[SampledTune], header: str, max_chars: int) -> str:
    """One ABC text: the `%` header line, then the tunes as X:1..N, separated by a blank line;
    a tune cut at max_chars is followed by a CUT_MARK line, an unplayable one by INVALID_MARK."""
    parts = [header + "\n"]
    for number, tune in enumerate(tunes, 1):
        text = numbered(tune.text, number)
        if not tune.ended:
            text += f"{CUT_MARK} {max_chars}: the tune did not end\n"
        if tune.valid is False:
            text += f"{INVALID_MARK} after {tune.tries} tries\n"
        parts.append(text)
    return "\n".join(parts)
