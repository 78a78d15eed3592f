"""The stage-2 trainer: one forward over chosen + rejected, then the loss
named by ``edit_loss`` (``edit_plugin.stage2``)."""

from __future__ import annotations

from axolotl.core.trainers.base import AxolotlTrainer

from edit_plugin.columns import EXTRA_COLUMNS
from edit_plugin.stage2 import loss_params, stage2_forward, stage2_loss


class KRSLTrainer(AxolotlTrainer):
    """Key Reasoning Steps Learning (stage 2 of EDIT), or another registered
    stage-2 loss over the same key tokens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The loss is a batch mean; let the Trainer divide by accumulation steps.
        self.model_accepts_loss_kwargs = False
        self.stage2_loss = stage2_loss(self.args.edit_loss or "krsl")

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
        )
        self.store_metrics(metrics, train_eval="train" if model.training else "eval")
        return (loss, outputs) if return_outputs else loss
