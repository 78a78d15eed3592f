"""YAML keys of the EDIT plugin (validated by Axolotl through pydantic).

``EditArgs`` is the one place where the keys are defined: the
training-arguments mixin takes them from here. The losses' defaults come from
``core/defaults.py``, which the loss registry reads too.
"""

from __future__ import annotations

from dataclasses import field, make_dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from edit_plugin.core.defaults import LOSS_DEFAULTS


class EditArgs(BaseModel):
    """Input args of the EDIT plugin."""

    edit_krsl: bool | None = Field(
        default=None,
        json_schema_extra={"description": (
            "Stage 2: train on dual CoTs with edit_loss (needs type: edit_plugin.dual_cot). Unset or false: "
            "Axolotl trains as usual (stage 1, the DPO baseline).")},
    )
    edit_loss: str | None = Field(
        default=LOSS_DEFAULTS["edit_loss"],
        json_schema_extra={"description": (
            "The stage-2 loss, by name from the stage-2 registry: krsl (EDIT's) or key_dpo (DPO's logistic "
            "loss on the policy/reference log-ratio summed over the key tokens only; needs adapter: lora, whose "
            "disabled state is the reference).")},
    )
    edit_alpha: float | None = Field(
        default=LOSS_DEFAULTS["edit_alpha"], ge=0.0,
        json_schema_extra={"description": "KRSL: weight of the NLL of the correct CoT's key tokens."},
    )
    edit_beta: float | None = Field(
        default=LOSS_DEFAULTS["edit_beta"], ge=0.0,
        json_schema_extra={"description": "KRSL: weight of the push-down on the wrong CoT's key tokens."},
    )
    edit_key_marking: Literal["min_edit", "divergence"] | None = Field(
        default=LOSS_DEFAULTS["edit_key_marking"],
        json_schema_extra={"description": (
            "Key tokens of the edit_plugin.dual_cot datasets: min_edit (the paper's: what a minimal "
            "edit script touches) or divergence (also the first token where the two CoTs differ, "
            "on each side, so a step inserted into the wrong CoT gives the correct CoT a key token at the "
            "decision). Data prepared under divergence lives in <dataset_prepared_path>/edit_key_marking-divergence, "
            "since Axolotl's cache key ignores plugin keys.")},
    )
    edit_neg_nll_threshold: float | None = Field(
        default=LOSS_DEFAULTS["edit_neg_nll_threshold"], gt=0.0,
        json_schema_extra={"description": (
            "KRSL: push a wrong key token down only while its NLL is below this (keeps the unbounded term "
            "from diverging; the authors use 20, the CPU recipe 5). null: always.")},
    )
    edit_sft_weight: float | None = Field(
        default=LOSS_DEFAULTS["edit_sft_weight"], ge=0.0,
        json_schema_extra={"description": "KRSL: weight of an extra SFT loss on the whole correct CoT."},
    )
    edit_dpo_beta: float | None = Field(
        default=LOSS_DEFAULTS["edit_dpo_beta"], gt=0.0,
        json_schema_extra={"description": "key_dpo: DPO's beta (temperature of the log-ratio)."},
    )
    edit_full_logits: bool | None = Field(
        default=False,
        json_schema_extra={"description": (
            "Stage 2: compute every position's logits, as before the row projection (a check; "
            "slower). By default only the positions the loss reads are projected onto the vocabulary.")},
    )
    edit_field_prompt: str | None = Field(
        default="prompt", min_length=1,
        json_schema_extra={"description": (
            "The records' field that holds the prompt: for every dataset of our types, the data check at "
            "registration and the DPO baseline's config.")},
    )
    edit_field_chosen: str | None = Field(
        default="chosen", min_length=1,
        json_schema_extra={"description": "The records' field that holds the correct CoT."},
    )
    edit_field_rejected: str | None = Field(
        default="rejected", min_length=1,
        json_schema_extra={"description": "The records' field that holds the wrong CoT."},
    )
    edit_field_answer: str | None = Field(
        default="answer", min_length=1,
        json_schema_extra={"description": "The records' field that holds the gold answer (optional)."},
    )
    edit_lr_epoch_decay: float | None = Field(
        default=None, gt=0.0, le=1.0,
        json_schema_extra={"description": (
            "Multiply the learning rate by this once per epoch, with no warm-up (the EDIT "
            "authors' schedule, 0.95). Any stage, DPO included. It replaces lr_scheduler and warm-up, so "
            "setting both is an error, as is a DeepSpeed config with its own scheduler.")},
    )


EDIT_KEYS = tuple(EditArgs.model_fields)
EDIT_DEFAULTS = EditArgs().model_dump()

# Training arguments the stage-2 trainer reads: the same keys and defaults.
EditTrainingArgsMixin = make_dataclass(
    "EditTrainingArgsMixin",
    [(key, Any, field(default=value)) for key, value in EDIT_DEFAULTS.items()],
)
EditTrainingArgsMixin.__module__ = __name__
