"""One KRSL forward + loss over a collated dual-CoT batch (no Axolotl import).

The trainer calls this; so does the training-step benchmark, so the two
measure the same code.
"""

from __future__ import annotations

import torch

from edit_plugin.loss import krsl_loss, response_nll

DUAL_COLUMNS = (
    "chosen_key_mask",
    "rejected_input_ids",
    "rejected_attention_mask",
    "rejected_labels",
    "rejected_key_mask",
)


def krsl_forward(
    model,
    inputs: dict[str, torch.Tensor],
    alpha: float = 1.0,
    beta: float = 0.025,
    neg_nll_threshold: float | None = None,
    sft_weight: float = 0.0,
):
    """(loss, metrics, model outputs) for a batch from `DualCoTCollator`."""
    missing = [c for c in ("input_ids", "attention_mask", "labels", *DUAL_COLUMNS) if c not in inputs]
    if missing:
        raise KeyError(f"KRSL batch lacks {missing}: the dataset needs type: edit_plugin.dual_cot")
    batch_size = inputs["input_ids"].shape[0]
    # One forward over [chosen; rejected] (the collator gave both one length).
    outputs = model(
        input_ids=torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]]),
        attention_mask=torch.cat([inputs["attention_mask"], inputs["rejected_attention_mask"]]),
        use_cache=False,
    )
    logits = outputs.logits[:, :-1]  # logits[:, t] predicts token t + 1: a view, no copy
    chosen_labels = inputs["labels"][:, 1:]
    loss, metrics = krsl_loss(
        logits[:batch_size],
        chosen_labels,
        inputs["chosen_key_mask"][:, 1:].bool(),
        logits[batch_size:],
        inputs["rejected_labels"][:, 1:],
        inputs["rejected_key_mask"][:, 1:].bool(),
        alpha=alpha,
        beta=beta,
        neg_nll_threshold=neg_nll_threshold,
    )
    if sft_weight:
        sft = response_nll(logits[:batch_size], chosen_labels)
        loss = loss + sft_weight * sft
        metrics["krsl/sft_nll"] = float(sft.detach())
    return loss, metrics, outputs
