"""KRSL loss (Key Reasoning Steps Learning), pure torch.

    loss = alpha * mean_b( sum_{key t} NLL_chosen(b,t) / n_response_chosen(b) )
         - beta  * mean_b( sum_{key t} NLL_rejected(b,t) / n_response_rejected(b) )

This is Eq. 7 of the EDIT paper with the authors' per-sample normalisation:
only key tokens contribute, each sample's sum is divided by its number of
response (non -100) tokens. Only the rows of the logits at selected positions
are upcast, so memory stays far below one float32 copy of the logits.
"""

from __future__ import annotations

import torch

from edit_plugin.columns import IGNORE_INDEX


def _compute_dtype(logits: torch.Tensor) -> torch.dtype:
    # Half-precision logits are upcast; float32/float64 are kept as they are.
    return torch.float32 if logits.dtype in (torch.float16, torch.bfloat16) else logits.dtype


def selected_token_nll(
    logits: torch.Tensor, labels: torch.Tensor, select: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """NLL of ``labels`` at the positions where ``select`` is true.

    Returns (nll [K], predicted-equals-label [K] bool, batch index [K]).
    """
    select = select & (labels != IGNORE_INDEX)
    batch_index = select.nonzero(as_tuple=True)[0]
    rows = logits[select].to(_compute_dtype(logits))  # [K, V]
    targets = labels[select]
    picked = rows.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    nll = torch.logsumexp(rows, dim=-1) - picked
    hits = rows.argmax(dim=-1) == targets
    return nll, hits, batch_index


def per_sample_sum(values: torch.Tensor, batch_index: torch.Tensor, batch_size: int) -> torch.Tensor:
    """sum of ``values`` per sample (``batch_index`` says whose); [B]."""
    sums = torch.zeros(batch_size, dtype=values.dtype, device=values.device)
    return sums.index_add(0, batch_index, values)


def per_sample_normalised_sum(
    values: torch.Tensor, batch_index: torch.Tensor, n_response: torch.Tensor
) -> torch.Tensor:
    """sum of ``values`` per sample / that sample's response-token count; [B]."""
    sums = per_sample_sum(values, batch_index, n_response.shape[0])
    return sums / n_response.clamp(min=1).to(values.dtype)


def krsl_loss(
    chosen_logits: torch.Tensor,
    chosen_labels: torch.Tensor,
    chosen_key_mask: torch.Tensor,
    rejected_logits: torch.Tensor,
    rejected_labels: torch.Tensor,
    rejected_key_mask: torch.Tensor,
    *,
    alpha: float,
    beta: float,
    neg_nll_threshold: float | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """KRSL loss and its metrics.

    Logits are ``[B, T, V]`` and already aligned with labels ``[B, T]``
    (``logits[:, t]`` predicts ``labels[:, t]``; -100 is ignored); key masks are
    ``[B, T]`` bool on the same positions. With ``neg_nll_threshold`` a rejected
    key token whose NLL is already at or above it is left out, which keeps the
    unbounded push-down term from diverging.
    """
    chosen_key_mask = chosen_key_mask.bool()
    rejected_key_mask = rejected_key_mask.bool()
    chosen_response = (chosen_labels != IGNORE_INDEX).sum(dim=1)
    rejected_response = (rejected_labels != IGNORE_INDEX).sum(dim=1)

    c_nll, c_hits, c_index = selected_token_nll(chosen_logits, chosen_labels, chosen_key_mask)
    r_nll, r_hits, r_index = selected_token_nll(rejected_logits, rejected_labels, rejected_key_mask)

    r_active = torch.ones_like(r_nll, dtype=torch.bool)
    if neg_nll_threshold is not None:
        r_active = r_nll.detach() < neg_nll_threshold

    chosen_term = per_sample_normalised_sum(c_nll, c_index, chosen_response).mean()
    rejected_term = per_sample_normalised_sum(
        r_nll * r_active, r_index, rejected_response
    ).mean()
    loss = alpha * chosen_term - beta * rejected_term

    with torch.no_grad():
        def mean_or_zero(x: torch.Tensor) -> float:
            return float(x.float().mean()) if x.numel() else 0.0

        chosen_nll = mean_or_zero(c_nll)
        rejected_nll = mean_or_zero(r_nll)
        n_key = c_nll.numel() + r_nll.numel()
        n_resp = int(chosen_response.sum() + rejected_response.sum())
        metrics = {
            "krsl/chosen_key_nll": chosen_nll,
            "krsl/rejected_key_nll": rejected_nll,
            "krsl/key_nll_margin": rejected_nll - chosen_nll,
            "krsl/chosen_key_accuracy": mean_or_zero(c_hits),
            "krsl/rejected_key_accuracy": mean_or_zero(r_hits),
            "krsl/key_token_fraction": n_key / n_resp if n_resp else 0.0,
            "krsl/rejected_active_fraction": mean_or_zero(r_active),
            "krsl/chosen_term": float(chosen_term),
            "krsl/rejected_term": float(rejected_term),
        }
    return loss, metrics


def response_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Plain SFT loss: per-sample mean NLL over response tokens, batch mean."""
    n_response = (labels != IGNORE_INDEX).sum(dim=1)
    nll, _, index = selected_token_nll(logits, labels, torch.ones_like(labels, dtype=torch.bool))
    return per_sample_normalised_sum(nll, index, n_response).mean()
