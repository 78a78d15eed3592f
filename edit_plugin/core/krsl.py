"""KRSL loss (Key Reasoning Steps Learning), pure torch.

    loss = alpha * mean_b( sum_{key t} NLL_chosen(b,t) / n_response_chosen(b) )
         - beta  * mean_b( sum_{key t} NLL_rejected(b,t) / n_response_rejected(b) )

This is Eq. 7 of the EDIT paper with the authors' per-sample normalisation:
only key tokens contribute, each sample's sum is divided by its number of
response (non -100) tokens. The loss reads the logit rows of key tokens only
(``krsl_loss_from_rows``); ``krsl_loss`` takes full logits and selects them.
Only those rows are upcast, so memory stays far below one float32 copy of
the logits.
"""

from __future__ import annotations

import torch

from edit_plugin.core.token_rows import (
    SideRows,
    key_positions,
    per_sample_sum,
    response_positions,
    rows_from_logits,
    token_nll,
)


def selected_token_nll(
    logits: torch.Tensor, labels: torch.Tensor, select: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """NLL of ``labels`` at the positions where ``select`` is true (and the
    label is not -100), from full logits [B, T, V].

    Returns (nll [K], predicted-equals-label [K] bool, batch index [K]).
    """
    rows = rows_from_logits(logits, labels, select.bool() & response_positions(labels))
    nll, hits = token_nll(rows.logits, rows.targets)
    return nll, hits, rows.sample


def per_sample_normalised_sum(
    values: torch.Tensor, batch_index: torch.Tensor, n_response: torch.Tensor
) -> torch.Tensor:
    """sum of ``values`` per sample / that sample's response-token count; [B]."""
    sums = per_sample_sum(values, batch_index, n_response.shape[0])
    return sums / n_response.clamp(min=1).to(values.dtype)


def krsl_loss_from_rows(
    chosen: SideRows,
    rejected: SideRows,
    *,
    alpha: float,
    beta: float,
    neg_nll_threshold: float | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """KRSL loss and its metrics from the key-token rows of both sides. With
    ``neg_nll_threshold`` a rejected key token whose NLL is already at or
    above it is left out, which keeps the unbounded push-down term from
    diverging."""
    c_nll, c_hits = token_nll(chosen.logits, chosen.targets)
    r_nll, r_hits = token_nll(rejected.logits, rejected.targets)

    r_active = torch.ones_like(r_nll, dtype=torch.bool)
    if neg_nll_threshold is not None:
        r_active = r_nll.detach() < neg_nll_threshold

    chosen_term = per_sample_normalised_sum(c_nll, chosen.sample, chosen.n_response).mean()
    rejected_term = per_sample_normalised_sum(r_nll * r_active, rejected.sample, rejected.n_response).mean()
    loss = alpha * chosen_term - beta * rejected_term

    with torch.no_grad():
        def mean_or_zero(x: torch.Tensor) -> float:
            return float(x.float().mean()) if x.numel() else 0.0

        chosen_nll = mean_or_zero(c_nll)
        rejected_nll = mean_or_zero(r_nll)
        n_key = c_nll.numel() + r_nll.numel()
        n_resp = int(chosen.n_response.sum() + rejected.n_response.sum())
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
    """KRSL loss and its metrics from full logits.

    Logits are ``[B, T, V]`` and already aligned with labels ``[B, T]``
    (``logits[:, t]`` predicts ``labels[:, t]``; -100 is ignored); key masks are
    ``[B, T]`` on the same positions.
    """
    chosen = rows_from_logits(chosen_logits, chosen_labels, key_positions(chosen_labels, chosen_key_mask))
    rejected = rows_from_logits(rejected_logits, rejected_labels, key_positions(rejected_labels, rejected_key_mask))
    return krsl_loss_from_rows(chosen, rejected, alpha=alpha, beta=beta, neg_nll_threshold=neg_nll_threshold)


def response_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Plain SFT loss: per-sample mean NLL over response tokens, batch mean."""
    n_response = response_positions(labels).sum(dim=1)
    nll, _, index = selected_token_nll(logits, labels, torch.ones_like(labels, dtype=torch.bool))
    return per_sample_normalised_sum(nll, index, n_response).mean()
