"""The character vocabulary of an ABC model, stored in its model file."""

from __future__ import annotations

from collections.abc import Iterable

import torch


class CharVocab:
    """Characters <-> ids. Ids follow the sorted order of the characters."""

    def __init__(self, chars: Iterable[str]):
        self.chars = "".join(sorted(set(chars)))
        if not self.chars:
            raise ValueError("empty vocabulary")
        self._index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "CharVocab":
        seen: set[str] = set()
        for text in texts:
            seen.update(text)
        return cls(seen)

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharVocab) and other.chars == self.chars

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of `text` that are not in the vocabulary, sorted."""
        return sorted({c for c in text if c not in self._index})

    def encode(self, text: str) -> torch.Tensor:
        """str -> (len(text),) int64 ids; KeyError for a character outside the vocabulary."""
        return torch.tensor([self._index[c] for c in text], dtype=torch.long)

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.chars[i] for i in ids)

    def to_json(self) -> str:
        return self.chars

    @classmethod
    def from_json(cls, chars: str) -> "CharVocab":
        return cls(chars)
