"""KRSL trainer: one forward over chosen + rejected, then the KRSL loss."""

from __future__ import annotations

import torch
from axolotl.core.trainers.base import AxolotlTrainer

from edit_plugin.loss import krsl_loss, response_nll

DUAL_COLUMNS = (
    "chosen_key_mask",
    "rejected_input_ids",
    "rejected_attention_mask",
    "rejected_labels",
    "rejected_key_mask",
)


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
        missing = [c for c in ("input_ids", "labels", *DUAL_COLUMNS) if c not in inputs]
        if missing:
            raise KeyError(
                f"KRSL batch lacks {missing}: the dataset needs type: edit_plugin.dual_cot"
            )
        batch_size = inputs["input_ids"].shape[0]
        # One forward over [chosen; rejected] (the collator gave both one length).
        outputs = model(
            input_ids=torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]]),
            attention_mask=torch.cat([inputs["attention_mask"], inputs["rejected_attention_mask"]]),
            use_cache=False,
        )
        logits = outputs.logits[:, :-1]  # logits[:, t] predicts token t + 1
        chosen_labels = inputs["labels"][:, 1:]
        rejected_labels = inputs["rejected_labels"][:, 1:]
        loss, metrics = krsl_loss(
            logits[:batch_size],
            chosen_labels,
            inputs["chosen_key_mask"][:, 1:].bool(),
            logits[batch_size:],
            rejected_labels,
            inputs["rejected_key_mask"][:, 1:].bool(),
            alpha=self.args.edit_alpha,
            beta=self.args.edit_beta,
            neg_nll_threshold=self.args.edit_neg_nll_threshold,
        )
        if self.args.edit_sft_weight:
            sft = response_nll(logits[:batch_size], chosen_labels)
            loss = loss + self.args.edit_sft_weight * sft
            metrics["krsl/sft_nll"] = float(sft.detach())
        self.store_metrics(metrics, train_eval="train" if model.training else "eval")
        return (loss, outputs) if return_outputs else loss
