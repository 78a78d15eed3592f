"""KRSL trainer: one forward over chosen + rejected, then the KRSL loss."""

from __future__ import annotations

from axolotl.core.trainers.base import AxolotlTrainer

from edit_plugin.krsl_step import DUAL_COLUMNS, krsl_forward


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
        self.store_metrics(metrics, train_eval="train" if model.training else "eval")
        return (loss, outputs) if return_outputs else loss
