"""Held-out bits per character of an ABC model."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from audiogen.abc.data import stream_rows
from audiogen.abc.model import CharLSTM
from audiogen.abc.vocab import CharVocab


@torch.inference_mode()
def bits_per_char(model: CharLSTM, texts: Sequence[str], vocab: CharVocab, *, device: torch.device | str = "cpu",
                  batch: int = 16, seq_len: int = 256) -> float:
    """Mean -log2 p(next char) over `texts` (tunes in order), the LSTM state carried along rows.

    Texts are joined and cut into at most `batch` rows (fewer for short texts), so every
    character but each row's first is predicted with the context of its row.
    """
    total_chars = sum(len(t) for t in texts)
    if total_chars < 2:
        raise ValueError("need at least 2 characters to measure bits per character")
    batch = max(1, min(batch, total_chars // 512))
    rows = stream_rows(texts, vocab, batch).to(device)
    was_training = model.training
    model.eval()
    state = None
    nll, count = 0.0, 0
    try:
        for start in range(0, rows.shape[1] - 1, seq_len):
            chunk = rows[:, start: start + seq_len + 1]
            logits, state = model(chunk[:, :-1], state)
            nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), chunk[:, 1:].reshape(-1),
                                   reduction="sum").item()
            count += chunk[:, 1:].numel()
    finally:
        model.train(was_training)
    return nll / count / math.log(2)
