"""Key-token DPO, pure torch: DPO's logistic loss on the policy/reference
log-ratio summed over the key tokens only (cf. token-selective DPO methods).

    z_x  = sum_{key t} log p(x_t) - sum_{key t} log p_ref(x_t)      x = chosen, rejected
    loss = mean_b -log sigmoid(beta * (z_chosen - z_rejected))

Only the rows of the logits at key positions are upcast (as in KRSL), and the
reference enters as per-token log-probs, computed once without gradients.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from edit_plugin.loss import per_sample_sum, selected_token_nll


def key_logp_sums(logits: torch.Tensor, labels: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """Per sample, the sum of log p(label) over key tokens; [B]."""
    nll, _, index = selected_token_nll(logits, labels, key_mask.bool())
    return -per_sample_sum(nll, index, labels.shape[0])


def masked_sums(per_token: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """Per sample, the sum of ``per_token`` [B, T] where ``key_mask``; [B]."""
    return (per_token * key_mask.to(per_token.dtype)).sum(dim=1)


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
    """Loss and metrics. Logits ``[B, T, V]`` aligned with labels ``[B, T]``
    (-100 ignored); key masks ``[B, T]``; ``ref_*_logps`` ``[B, T]``: the
    reference model's log p(label) at each position (any value where the label
    is -100 or the mask is 0). A pair with no key tokens contributes log 2 and
    no gradient."""
    chosen_key_mask = chosen_key_mask.bool() & (chosen_labels != -100)
    rejected_key_mask = rejected_key_mask.bool() & (rejected_labels != -100)
    policy_c = key_logp_sums(chosen_logits, chosen_labels, chosen_key_mask)
    policy_r = key_logp_sums(rejected_logits, rejected_labels, rejected_key_mask)
    ref_c = masked_sums(ref_chosen_logps.to(policy_c.dtype), chosen_key_mask)
    ref_r = masked_sums(ref_rejected_logps.to(policy_r.dtype), rejected_key_mask)
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
