"""KRSL trainer: one forward over chosen + rejected, then the KRSL loss."""

from __future__ import annotations

import torch
from axolotl.core.trainers.base import AxolotlTrainer

from edit_plugin.krsl_step import DUAL_COLUMNS, krsl_forward
from edit_plugin.plugin.metrics import is_krsl_metric, named_for, pack_means, unpack_means


class KRSLTrainer(AxolotlTrainer):
    """Key Reasoning Steps Learning (stage 2 of EDIT)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The loss is a batch mean; let the Trainer divide by accumulation steps.
        self.model_accepts_loss_kwargs = False

    def _set_signature_columns_if_needed(self):
        # The Trainer drops every column that is not a forward() argument,
        # silently; keep ours so they reach the collator and compute_loss.
        super()._set_signature_columns_if_needed()
        if self._signature_columns is not None:
            self._signature_columns += [c for c in DUAL_COLUMNS if c not in self._signature_columns]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, metrics, outputs = krsl_forward(
            model,
            inputs,
            alpha=self.args.edit_alpha,
            beta=self.args.edit_beta,
            neg_nll_threshold=self.args.edit_neg_nll_threshold,
            sft_weight=self.args.edit_sft_weight,
        )
        training = model.training
        self.store_metrics(named_for(metrics, training), train_eval="train" if training else "eval")
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        # The logits are [chosen; rejected] (2B rows for B label rows): nothing
        # to score against the labels, and the evaluation loop would keep them
        # all, for the whole eval set. The loss and stored metrics are the result.
        return super().prediction_step(model, inputs, True, ignore_keys=ignore_keys)

    def log(self, logs, start_time=None):
        # AxolotlTrainer.log picks the stored metrics the same way.
        self._reduce_krsl_metrics_over_processes("train" if "loss" in logs else "eval")
        return super().log(logs, start_time)

    def _reduce_krsl_metrics_over_processes(self, train_eval: str) -> None:
        """Replace this process's stored KRSL values by the mean over every
        micro-batch of every process (log runs on all processes)."""
        if self.accelerator.num_processes <= 1:
            return
        stored = self._stored_metrics.get(train_eval, {})
        names, rows = pack_means({k: v["values"] for k, v in stored.items() if is_krsl_metric(k)})
        if not names:
            return
        local = torch.tensor(rows, dtype=torch.float64, device=self.accelerator.device)
        totals = self.accelerator.reduce(local, reduction="sum").tolist()
        for name, mean in unpack_means(names, totals).items():
            stored[name]["values"] = [mean]
