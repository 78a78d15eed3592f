"""The stage-2 trainer: one forward over chosen + rejected, then the loss
named by ``edit_loss`` (``edit_plugin.core.stage2``)."""

from __future__ import annotations

import torch
from axolotl.core.trainers.base import AxolotlTrainer
from transformers.integrations import is_deepspeed_zero3_enabled

from edit_plugin.core.columns import EXTRA_COLUMNS
from edit_plugin.core.stage2 import loss_params, stage2_loss
from edit_plugin.plugin.metrics import is_stage2_metric, named_for, pack_means, unpack_means
from edit_plugin.stage2_forward import stage2_forward


def forced_full_logits_reason(edit_full_logits: bool, deepspeed_zero3: bool, torch_compile: bool) -> str | None:
    """Why this training run computes every position's logits whatever the loss
    and model (None: the stage-2 forward decides)."""
    if edit_full_logits:
        return "edit_full_logits: true"
    if deepspeed_zero3:
        return "DeepSpeed ZeRO-3, under which the row projection has not been run"
    if torch_compile:
        return "torch_compile: true, under which the row projection's per-step hook has not been run"
    return None


class KRSLTrainer(AxolotlTrainer):
    """Key Reasoning Steps Learning (stage 2 of EDIT), or another registered
    stage-2 loss over the same key tokens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The loss is a batch mean; let the Trainer divide by accumulation steps.
        self.model_accepts_loss_kwargs = False
        self.stage2_loss = stage2_loss(self.args.edit_loss)  # its default: the args model
        self.full_logits_reason = forced_full_logits_reason(
            bool(self.args.edit_full_logits), is_deepspeed_zero3_enabled(), bool(self.args.torch_compile))

    def _set_signature_columns_if_needed(self):
        # The Trainer drops every column that is not a forward() argument,
        # silently; keep ours so they reach the collator and compute_loss.
        super()._set_signature_columns_if_needed()
        if self._signature_columns is not None:
            self._signature_columns += [c for c in EXTRA_COLUMNS if c not in self._signature_columns]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, metrics, outputs = stage2_forward(
            model,
            inputs,
            self.stage2_loss,
            loss_params(self.stage2_loss, self.args),
            unwrapped=self.accelerator.unwrap_model(model),
            checkpointing_kwargs=self.args.gradient_checkpointing_kwargs,
            full_logits_reason=self.full_logits_reason,
        )
        training = model.training
        self.store_metrics(named_for(metrics, training), train_eval="train" if training else "eval")
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        # The logits are the key tokens' rows or [chosen; rejected] (2B rows for
        # B label rows): nothing to score against the labels, and the evaluation
        # loop would keep them all, for the whole eval set. The loss and stored
        # metrics are the result.
        return super().prediction_step(model, inputs, True, ignore_keys=ignore_keys)

    def log(self, logs, start_time=None):
        # AxolotlTrainer.log picks the stored metrics the same way.
        self._reduce_stage2_metrics_over_processes("train" if "loss" in logs else "eval")
        return super().log(logs, start_time)

    def _reduce_stage2_metrics_over_processes(self, train_eval: str) -> None:
        """Replace this process's stored loss metrics by the mean over every
        micro-batch of every process (log runs on all processes)."""
        if self.accelerator.num_processes <= 1:
            return
        stored = self._stored_metrics.get(train_eval, {})
        names, rows = pack_means({k: v["values"] for k, v in stored.items() if is_stage2_metric(k)})
        if not names:
            return
        local = torch.tensor(rows, dtype=torch.float64, device=self.accelerator.device)
        totals = self.accelerator.reduce(local, reduction="sum").tolist()
        for name, mean in unpack_means(names, totals).items():
            stored[name]["values"] = [mean]
