"""The char-LSTM: embedding -> multi-layer LSTM -> linear head over the vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, B, hidden)


@dataclass(frozen=True)
class CharLSTMConfig:
    vocab_size: int
    embed: int = 128
    hidden: int = 384
    layers: int = 2
    dropout: float = 0.2


class CharLSTM(nn.Module):
    """ids (B, T) int64 [+ state] -> logits (B, T, vocab_size) float32, new state."""

    def __init__(self, config: CharLSTMConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, config.layers, batch_first=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        out, state = self.lstm(self.dropout(self.embedding(ids)), state)
        return self.head(self.dropout(out)), state

    def zero_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        shape = (self.config.layers, batch, self.config.hidden)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)
