"""DPO's sigmoid loss (Rafailov et al., 2023) as TRL's DPOTrainer computes it,
pure torch (no TRL import: the benchmark runs where TRL is not installed).

    logp(y | x)  = sum over completion tokens of log p(token | prefix)
    loss         = mean_b -log sigmoid(beta * ((logp_c - ref_c) - (logp_r - ref_r)))
    rewards/x    = beta * (logp_x - ref_x)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def token_logps(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[targets], one batch row at a time (as TRL: the full
    [B, T, V] log-softmax is never held). Half precision is upcast per row."""
    rows = []
    for row_logits, row_targets in zip(logits, targets):
        if row_logits.dtype in (torch.float16, torch.bfloat16):
            row_logits = row_logits.float()
        picked = row_logits.gather(-1, row_targets.unsqueeze(-1)).squeeze(-1)
        rows.append(picked - torch.logsumexp(row_logits, dim=-1))
    return torch.stack(rows)


def completion_logps(logits: torch.Tensor, input_ids: torch.Tensor, completion_mask: torch.Tensor) -> torch.Tensor:
    """Sum of the completion tokens' log-probs per sequence; [B]. ``logits[:, t]``
    predicts ``input_ids[:, t + 1]``; ``completion_mask`` marks completion tokens."""
    per_token = token_logps(logits[:, :-1], input_ids[:, 1:])
    return (per_token * completion_mask[:, 1:].to(per_token.dtype)).sum(dim=1)


def dpo_sigmoid_loss(
    chosen_logps: torch.Tensor,
    rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float = 0.1,
) -> tuple[torch.Tensor, dict[str, float]]:
    """(loss, metrics) under TRL's metric names (rewards/chosen, ...)."""
    chosen_rewards = beta * (chosen_logps - ref_chosen_logps)
    rejected_rewards = beta * (rejected_logps - ref_rejected_logps)
    margins = chosen_rewards - rejected_rewards
    loss = -F.logsigmoid(margins).mean()
    metrics = {
        "rewards/chosen": float(chosen_rewards.detach().mean()),
        "rewards/rejected": float(rejected_rewards.detach().mean()),
        "rewards/margins": float(margins.detach().mean()),
        "rewards/accuracies": float((margins.detach() > 0).float().mean()),
        "logps/chosen": float(chosen_logps.detach().mean()),
        "logps/rejected": float(rejected_logps.detach().mean()),
    }
    return loss, metrics
