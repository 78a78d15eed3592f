"""Key-token DPO, pure torch: DPO's logistic loss on the policy/reference
log-ratio summed over the key tokens only (cf. token-selective DPO methods).

    z_x  = sum_{key t} log p(x_t) - sum_{key t} log p_ref(x_t)      x = chosen, rejected
    loss = mean_b -log sigmoid(beta * (z_chosen - z_rejected))

The policy enters as the logit rows of key tokens (only those are upcast, as
in KRSL), the reference as their log-probs, computed once without gradients.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from edit_plugin.core.token_rows import SideRows, key_positions, per_sample_sum, rows_from_logits, token_nll


def key_logp_sums(rows: SideRows) -> torch.Tensor:
    """Per sample, the sum of log p(label) over its key rows; [B]."""
    nll, _ = token_nll(rows.logits, rows.targets)
    return -per_sample_sum(nll, rows.sample, rows.batch_size)


def key_dpo_loss_from_rows(
    chosen: SideRows,
    rejected: SideRows,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    *,
    beta: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss and metrics from the key-token rows of both sides; ``ref_*_logps``
    [K] are the reference model's log p(label) of the same rows. A pair with no
    key tokens contributes log 2 and no gradient."""
    policy_c = key_logp_sums(chosen)
    policy_r = key_logp_sums(rejected)
    ref_c = per_sample_sum(ref_chosen_logps.to(policy_c.dtype), chosen.sample, chosen.batch_size)
    ref_r = per_sample_sum(ref_rejected_logps.to(policy_r.dtype), rejected.sample, rejected.batch_size)
    chosen_rewards = beta * (policy_c - ref_c)
    rejected_rewards = beta * (policy_r - ref_r)
    margins = chosen_rewards - rejected_rewards
    loss = -F.logsigmoid(margins).mean()
    with torch.no_grad():
        metrics = {
            "key_dpo/rewards_chosen": float(chosen_rewards.mean()),
            "key_dpo/rewards_rejected": float(rejected_rewards.mean()),
            "key_dpo/margin": float(margins.mean()),
            "key_dpo/accuracy": float((margins > 0).float().mean()),
            "key_dpo/chosen_key_logp": float(policy_c.mean()),
            "key_dpo/rejected_key_logp": float(policy_r.mean()),
        }
    return loss, metrics


def key_dpo_loss(
    chosen_logits: torch.Tensor,
    chosen_labels: torch.Tensor,
    chosen_key_mask: torch.Tensor,
    rejected_logits: torch.Tensor,
    rejected_labels: torch.Tensor,
    rejected_key_mask: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    *,
    beta: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss and metrics from full logits ``[B, T, V]`` aligned with labels
    ``[B, T]`` (-100 ignored); key masks ``[B, T]``; ``ref_*_logps`` ``[B, T]``:
    the reference model's log p(label) at each position (any value where the
    label is -100 or the mask is 0)."""
    chosen_select = key_positions(chosen_labels, chosen_key_mask)
    rejected_select = key_positions(rejected_labels, rejected_key_mask)
    return key_dpo_loss_from_rows(
        rows_from_logits(chosen_logits, chosen_labels, chosen_select),
        rows_from_logits(rejected_logits, rejected_labels, rejected_select),
        ref_chosen_logps[chosen_select], ref_rejected_logps[rejected_select], beta=beta,
    )
