"""Optional filters on dual pairs: a pair should be an edit, not a rewrite.

- ``max_key_fraction``: the share of key tokens (both CoTs, the KRSL
  alignment on the student's tokens) above which a "rectified" or
  "corrupted" CoT is a new text rather than a small change.
- ``min_similarity``: a floor on the normalised character similarity of the
  two CoTs (rapidfuzz ``fuzz.ratio`` / 100), cheap and tokenizer-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz

from edit_plugin.core.keysteps import key_fraction, key_token_masks

Tokenize = Callable[[str], list[int]]


@dataclass(frozen=True)
class PairFilter:
    max_key_fraction: float | None = None
    min_similarity: float | None = None
    tokenize: Tokenize | None = None

    def __post_init__(self):
        for name in ("max_key_fraction", "min_similarity"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.max_key_fraction is not None and self.tokenize is None:
            raise ValueError("max_key_fraction needs a tokenizer (the student's: key tokens are its tokens)")

    @property
    def active(self) -> bool:
        return self.max_key_fraction is not None or self.min_similarity is not None

    def rejection(self, chosen: str, rejected: str) -> str | None:
        """Why the pair is dropped ("similarity" / "key_fraction"), or None to keep it."""
        if self.min_similarity is not None and similarity(chosen, rejected) < self.min_similarity:
            return "similarity"
        if self.max_key_fraction is not None:
            masks = key_token_masks(self.tokenize(chosen), self.tokenize(rejected))
            if key_fraction(*masks) > self.max_key_fraction:
                return "key_fraction"
        return None


def similarity(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100.0


def tokenizer_ids(tokenizer) -> Tokenize:
    """A transformers tokenizer as ``text -> ids`` without special tokens."""
    return lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]
