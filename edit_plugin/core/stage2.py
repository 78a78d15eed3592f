"""Stage-2 losses by name, pure torch: the registry the trainer, the config
checks and the training-step benchmark read.

A loss is a pure function over the key-token rows of a batch's two sides
(``Sides``) plus its own parameters; its entry here says which plugin keys
those come from, whether it needs the reference model's log-probs (the
forward then supplies them) and when it needs every position's logits.
Adding a loss = a pure function + one ``Stage2Loss`` entry (+ its keys in
``plugin/args.py`` and their defaults in ``core/defaults.py``). The forward
that feeds these losses is ``edit_plugin.stage2_forward``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from edit_plugin.core.columns import IGNORE_INDEX
from edit_plugin.core.defaults import LOSS_DEFAULTS
from edit_plugin.core.dpo_loss import token_logps
from edit_plugin.core.key_dpo import key_dpo_loss_from_rows
from edit_plugin.core.krsl import krsl_loss_from_rows, response_nll
from edit_plugin.core.token_rows import SideRows


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
    lacks takes its default (``core/defaults.py``, which the plugin's keys
    also read)."""
    if isinstance(values, dict):
        params = {key: values[key] for key in loss.keys if key in values}
    else:
        params = {key: getattr(values, key) for key in loss.keys if hasattr(values, key)}
    missing = [key for key in loss.keys if key not in params]
    params.update({key: LOSS_DEFAULTS[key] for key in missing})
    return params


def label_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(label) per position, [B, T] (0 where the label is -100), with
    DPO's row-at-a-time log-softmax (no full float32 copy is held)."""
    return token_logps(logits, labels.clamp(min=0)) * (labels != IGNORE_INDEX)
