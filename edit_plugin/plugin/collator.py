"""Pads both sides of a dual-CoT batch to one length so they share a forward."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from edit_plugin.core.columns import DUAL_COT_PADDING, PAD_ID


@dataclass
class DualCoTCollator:
    """Right-pads chosen and rejected columns to a common length.

    Axolotl passes ``padding`` and ``pad_to_multiple_of`` (64 by default).
    """

    tokenizer: Any
    padding: bool | str = True
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self.tokenizer.eos_token_id
        length = max(
            max(len(f["input_ids"]), len(f["rejected_input_ids"])) for f in features
        )
        if self.pad_to_multiple_of:
            length = self.pad_to_multiple_of * math.ceil(length / self.pad_to_multiple_of)
        batch = {}
        for column, pad in DUAL_COT_PADDING.items():
            value = pad_id if pad is PAD_ID else pad
            rows = [list(f[column]) + [value] * (length - len(f[column])) for f in features]
            batch[column] = torch.tensor(rows, dtype=torch.long)
        return batch
