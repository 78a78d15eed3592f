"""The one stage-2 forward that feeds the losses of ``edit_plugin.core.stage2``
(framework glue, no Axolotl import: the trainer and the training-step
benchmark run the same code).

The forward projects only the key tokens' hidden states onto the vocabulary
(``edit_plugin.row_logits``); it computes the full logits instead where a
loss needs them, where the model's head is not one it knows, or where the
caller says so (``full_logits_reason``), and logs the choice once.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from edit_plugin.core.columns import DUAL_COT_COLUMNS
from edit_plugin.core.stage2 import Sides, Stage2Loss, loss_params, stage2_loss
from edit_plugin.core.token_rows import key_positions, side_rows, token_nll
from edit_plugin.row_logits import log_path_once, next_token_logits, unknown_head_reason


@contextmanager
def reference_model(model, checkpointing_kwargs: dict | None = None):
    """The stage-2 model is the merged stage-1 model plus a fresh adapter: with
    the adapter disabled it is the reference. Gradient checkpointing is off for
    that pass (no backward follows)."""
    if not hasattr(model, "disable_adapter"):
        raise ValueError("this stage-2 loss needs a reference model: train with a LoRA adapter "
                         "(adapter: lora), whose disabled state is the stage-1 model")
    was_checkpointing = bool(getattr(model, "is_gradient_checkpointing", False))
    if was_checkpointing:
        model.gradient_checkpointing_disable()
    try:
        with torch.no_grad(), model.disable_adapter():
            yield
    finally:
        if was_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing_kwargs)


def stage2_forward(model, inputs: dict[str, torch.Tensor], loss: str | Stage2Loss = "krsl",
                   params: dict | None = None, unwrapped=None, checkpointing_kwargs: dict | None = None,
                   full_logits_reason: str | None = None):
    """(loss, metrics, policy outputs) for a batch from ``DualCoTCollator``.

    One forward over [chosen; rejected] (the collator gave both one length);
    for a loss that needs it, one more without gradients and with the adapter
    of ``unwrapped`` (the model inside any distributed wrapper) disabled.
    Both project only the key tokens' rows onto the vocabulary unless the
    loss, the model's head or the caller's ``full_logits_reason`` asks for
    every position's logits. On the row path the outputs' logits are those
    rows, [1, K, V]."""
    loss = stage2_loss(loss) if isinstance(loss, str) else loss
    missing = [c for c in DUAL_COT_COLUMNS if c not in inputs]
    if missing:
        raise KeyError(f"stage-2 batch lacks {missing}: the dataset needs type: edit_plugin.dual_cot")
    params = loss_params(loss, params or {})
    owner = unwrapped if unwrapped is not None else model
    full_reason = full_logits_reason or loss.full_logits_reason(params) or unknown_head_reason(owner)
    log_path_once("stage-2 forward", full_reason)

    batch_size = inputs["input_ids"].shape[0]
    input_ids = torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]])
    attention_mask = torch.cat([inputs["attention_mask"], inputs["rejected_attention_mask"]])
    labels = torch.cat([inputs["labels"], inputs["rejected_labels"]])[:, 1:]
    key_mask = torch.cat([inputs["chosen_key_mask"], inputs["rejected_key_mask"]])[:, 1:]
    select = key_positions(labels, key_mask)  # [2B, T - 1]: chosen rows first, row-major
    n_chosen_rows = int(select[:batch_size].sum())

    policy = next_token_logits(model, input_ids, attention_mask, select, owner=owner, full_reason=full_reason)
    sides = Sides(
        chosen=side_rows(policy.rows[:n_chosen_rows], labels[:batch_size], select[:batch_size]),
        rejected=side_rows(policy.rows[n_chosen_rows:], labels[batch_size:], select[batch_size:]),
        chosen_labels=labels[:batch_size],
        chosen_logits=None if policy.full_logits is None else policy.full_logits[:batch_size],
    )
    if loss.needs_reference:
        with reference_model(owner, checkpointing_kwargs):
            reference = next_token_logits(model, input_ids, attention_mask, select, owner=owner,
                                          full_reason=full_reason)
            ref_logps = -token_nll(reference.rows, labels[select])[0]
            del reference
        sides.ref_chosen_logps, sides.ref_rejected_logps = ref_logps[:n_chosen_rows], ref_logps[n_chosen_rows:]
    value, metrics = loss.compute(sides, **params)
    return value, metrics, policy.outputs
