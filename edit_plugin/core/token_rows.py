"""Logit rows at selected positions, pure torch: what the stage-2 losses and
the teacher-forced metrics read instead of the full ``[B, T, V]`` logits.

One side of a batch becomes a ``SideRows``: the logit rows of its selected
positions in row-major order (sample by sample, left to right), the labels
they predict, the sample each row belongs to, and each sample's number of
response tokens (KRSL's normaliser). The rows come either from full logits
(``rows_from_logits``) or from an output projection applied to those
positions only (``edit_plugin.row_logits``); the losses cannot tell which.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edit_plugin.core.columns import IGNORE_INDEX


@dataclass
class SideRows:
    logits: torch.Tensor  # [K, V]: row k predicts targets[k]
    targets: torch.Tensor  # [K]
    sample: torch.Tensor  # [K]: the batch row each logit row comes from
    n_response: torch.Tensor  # [B]: response (non -100) tokens per sample

    @property
    def batch_size(self) -> int:
        return self.n_response.shape[0]


def response_positions(labels: torch.Tensor) -> torch.Tensor:
    return labels != IGNORE_INDEX


def key_positions(labels: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """Key tokens that are response tokens: the positions a key-token loss reads."""
    return key_mask.bool() & response_positions(labels)


def side_rows(rows: torch.Tensor, labels: torch.Tensor, select: torch.Tensor) -> SideRows:
    """``rows`` [K, V] are the logits at ``select`` [B, T] (row-major order);
    ``labels`` [B, T] are aligned with ``select``."""
    return SideRows(rows, labels[select], select.nonzero(as_tuple=True)[0], response_positions(labels).sum(dim=1))


def rows_from_logits(logits: torch.Tensor, labels: torch.Tensor, select: torch.Tensor) -> SideRows:
    """The rows of full logits [B, T, V] (aligned with ``labels``) at ``select``."""
    return side_rows(logits[select], labels, select)


def compute_dtype(logits: torch.Tensor) -> torch.dtype:
    # Half-precision rows are upcast; float32/float64 are kept as they are.
    return torch.float32 if logits.dtype in (torch.float16, torch.bfloat16) else logits.dtype


def token_nll(rows: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(NLL of each row's target [K], whether the row's argmax is its target [K])."""
    rows = rows.to(compute_dtype(rows))
    picked = rows.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return torch.logsumexp(rows, dim=-1) - picked, rows.argmax(dim=-1) == targets


def per_sample_sum(values: torch.Tensor, sample: torch.Tensor, batch_size: int) -> torch.Tensor:
    """sum of ``values`` per sample (``sample`` says whose); [B]."""
    sums = torch.zeros(batch_size, dtype=values.dtype, device=values.device)
    return sums.index_add(0, sample, values)
