"""What the ABC model eats: tunes as character streams for truncated BPTT.

A tune's training text is its ABC text followed by one blank line ("...|\n\n"): the blank line
is how the model learns to end a tune, and how sampling knows it ended. Tunes are split into
training and validation sets by tune (never by character), with a seeded shuffle.

An epoch shuffles the training tunes, joins them into one id stream and cuts it into `batch`
parallel rows; steps walk along the rows `seq_len` characters at a time, carrying the LSTM
state from one step to the next (truncated BPTT) and resetting it at each epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from audiogen.abc.vocab import CharVocab

TUNE_END = "\n\n"
# Header fields that credit people and sources (book, composer, discography, file, history, notes,
# source, transcriber): a model that learned them writes false credits ("Z:Jack Campin") on new
# tunes, so they are left out of what it learns.
CREDIT_FIELDS = frozenset("BCDFHNSZ")


def training_text(tune_text: str) -> str:
    """One tune's text as the model sees it: header credit fields (CREDIT_FIELDS) removed,
    trailing newlines normalised to one blank line."""
    lines, in_header = [], True
    for line in tune_text.rstrip("\n").split("\n"):
        if in_header and len(line) >= 2 and line[1] == ":" and line[0] in CREDIT_FIELDS:
            continue
        in_header = in_header and not line.startswith("K:")
        lines.append(line)
    return "\n".join(lines) + TUNE_END


def split_by_tune(texts: Sequence[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, validation) lists of whole tunes; validation gets round(n * fraction), at least
    one tune when there are two or more and the fraction is above 0."""
    order = np.random.default_rng(seed).permutation(len(texts))
    n_val = int(round(len(texts) * val_fraction))
    if val_fraction > 0 and len(texts) >= 2:
        n_val = max(1, min(n_val, len(texts) - 1))
    val = [texts[i] for i in sorted(order[:n_val])]
    train = [texts[i] for i in sorted(order[n_val:])]
    return train, val


def stream_rows(texts: Sequence[str], vocab: CharVocab, batch: int, order: np.ndarray | None = None) -> torch.Tensor:
    """Tunes (in `order`) joined and cut into (batch, L) int64 rows; the tail that does not fill
    a row is dropped. Needs at least `batch * 2` characters."""
    if order is not None:
        texts = [texts[i] for i in order]
    ids = vocab.encode("".join(texts))
    length = ids.numel() // batch
    if length < 2:
        raise ValueError(f"{ids.numel()} characters cannot fill {batch} rows")
    return ids[: length * batch].view(batch, length)


class EpochStream:
    """Training batches (x, y) of shape (batch, seq_len), position saved for resume.

    `position()` / `restore()` give and take {"epoch", "offset"}; with the same seed the stream
    replays exactly.
    """

    def __init__(self, texts: Sequence[str], vocab: CharVocab, batch: int, seq_len: int, seed: int):
        self.texts, self.vocab, self.batch, self.seq_len, self.seed = list(texts), vocab, batch, seq_len, seed
        needed = batch * (seq_len + 1)
        if self.chars_per_epoch < needed:
            raise ValueError(f"{self.chars_per_epoch} training characters cannot fill one batch of "
                             f"{batch} x {seq_len + 1}; use a smaller --batch-size or --seq-len, or more tunes")
        self.epoch = 0
        self.offset = 0
        self._rows: torch.Tensor | None = None

    def _load_epoch(self) -> None:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.texts))
        self._rows = stream_rows(self.texts, self.vocab, self.batch, order)

    @property
    def chars_per_epoch(self) -> int:
        return sum(len(t) for t in self.texts)

    def position(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset}

    def restore(self, position: dict) -> None:
        self.epoch, self.offset = int(position["epoch"]), int(position["offset"])
        self._rows = None

    def next(self) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """(x, y, new_epoch): new_epoch is True on an epoch's first batch (reset the LSTM state)."""
        if self._rows is None:
            self._load_epoch()
        new_epoch = self.offset == 0
        if self.offset + self.seq_len + 1 > self._rows.shape[1]:
            self.epoch, self.offset, new_epoch = self.epoch + 1, 0, True
            self._load_epoch()
        chunk = self._rows[:, self.offset: self.offset + self.seq_len + 1]
        self.offset += self.seq_len
        return chunk[:, :-1], chunk[:, 1:], new_epoch
