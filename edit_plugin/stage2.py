"""Stage-2 losses by name, and the one forward that feeds them (no Axolotl
import: the trainer and the training-step benchmark run the same code).

A loss is a pure function over the key-token rows of a batch's two sides
(``Sides``) plus its own parameters; its entry here says which plugin keys
those come from, whether it needs the reference model's log-probs (the
forward then supplies them) and when it needs every position's logits.
Adding a loss = a pure function + one ``Stage2Loss`` entry (+ its keys in
``plugin/args.py``).

The forward projects only the key tokens' hidden states onto the vocabulary
(``edit_plugin.row_logits``); it computes the full logits instead where a
loss needs them, where the model's head is not one it knows, or where the
caller says so (``full_logits_reason``), and logs the choice once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from edit_plugin.columns import DUAL_COT_COLUMNS, IGNORE_INDEX
from edit_plugin.dpo.loss import token_logps
from edit_plugin.key_dpo import key_dpo_loss_from_rows
from edit_plugin.loss import krsl_loss_from_rows, response_nll
from edit_plugin.row_logits import log_path_once, next_token_logits, unknown_head_reason
from edit_plugin.token_rows import SideRows, key_positions, side_rows, token_nll


@dataclass
class Sides:
    """A batch's chosen and rejected sides as the rows of their key tokens
    (``SideRows``); the reference's log p(label) of the same rows only for
    losses that ask for them; the chosen side's full logits [B, T, V] (aligned
    with ``chosen_labels``) only for a loss that needs every position."""

    chosen: SideRows
    rejected: SideRows
    chosen_labels: torch.Tensor
    ref_chosen_logps: torch.Tensor | None = None
    ref_rejected_logps: torch.Tensor | None = None
    chosen_logits: torch.Tensor | None = None


def _krsl(sides: Sides, *, edit_alpha, edit_beta, edit_neg_nll_threshold, edit_sft_weight):
    loss, metrics = krsl_loss_from_rows(sides.chosen, sides.rejected, alpha=edit_alpha, beta=edit_beta,
                                        neg_nll_threshold=edit_neg_nll_threshold)
    if edit_sft_weight:
        sft = response_nll(sides.chosen_logits, sides.chosen_labels)
        loss = loss + edit_sft_weight * sft
        metrics["krsl/sft_nll"] = float(sft.detach())
    return loss, metrics


def _krsl_full_logits_reason(params: dict) -> str | None:
    if params.get("edit_sft_weight"):
        return "edit_sft_weight > 0: the SFT term reads every response token"
    return None


def _key_dpo(sides: Sides, *, edit_dpo_beta):
    return key_dpo_loss_from_rows(sides.chosen, sides.rejected, sides.ref_chosen_logps, sides.ref_rejected_logps,
                                  beta=edit_dpo_beta)


def _never(params: dict) -> None:
    return None


@dataclass(frozen=True)
class Stage2Loss:
    name: str
    compute: Callable[..., tuple[torch.Tensor, dict[str, float]]]
    keys: tuple[str, ...]  # plugin keys passed to ``compute`` by name
    needs_reference: bool = False  # the adapter-disabled model's log-probs
    description: str = ""
    # params -> why this loss needs every position's logits (``Sides.chosen_logits``), or None
    full_logits_reason: Callable[[dict], str | None] = _never


STAGE2_LOSSES = {loss.name: loss for loss in (
    Stage2Loss("krsl", _krsl, ("edit_alpha", "edit_beta", "edit_neg_nll_threshold", "edit_sft_weight"),
               description="EDIT's KRSL: raise the correct key tokens' likelihood, lower the wrong ones'",
               full_logits_reason=_krsl_full_logits_reason),
    Stage2Loss("key_dpo", _key_dpo, ("edit_dpo_beta",), needs_reference=True,
               description="DPO's logistic loss on the log-ratio summed over key tokens only"),
)}


def stage2_loss(name: str) -> Stage2Loss:
    try:
        return STAGE2_LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown edit_loss '{name}'; known: {', '.join(STAGE2_LOSSES)}") from None


def loss_params(loss: Stage2Loss, values) -> dict:
    """The loss's keys from ``values`` (training args or a dict); a key it
    lacks takes the plugin's default (``plugin/args.py``, imported only then:
    the benchmark runs where pydantic may be missing)."""
    if isinstance(values, dict):
        params = {key: values[key] for key in loss.keys if key in values}
    else:
        params = {key: getattr(values, key) for key in loss.keys if hasattr(values, key)}
    missing = [key for key in loss.keys if key not in params]
    if missing:
        from edit_plugin.plugin.args import EDIT_DEFAULTS

        params.update({key: EDIT_DEFAULTS[key] for key in missing})
    return params


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


def label_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(label) per position, [B, T] (0 where the label is -100), with
    DPO's row-at-a-time log-softmax (no full float32 copy is held)."""
    return token_logps(logits, labels.clamp(min=0)) * (labels != IGNORE_INDEX)


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
