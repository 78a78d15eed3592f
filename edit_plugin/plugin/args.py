"""YAML keys of the EDIT plugin (validated by Axolotl through pydantic)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

EDIT_KEYS = (
    "edit_krsl",
    "edit_alpha",
    "edit_beta",
    "edit_neg_nll_threshold",
    "edit_sft_weight",
    "edit_lr_epoch_decay",
)


class EditArgs(BaseModel):
    """Input args of the EDIT plugin."""

    edit_krsl: bool | None = Field(
        default=None,
        json_schema_extra={"description": "Train with the KRSL loss (stage 2). Needs type: edit_plugin.dual_cot."},
    )
    edit_alpha: float | None = Field(
        default=1.0, ge=0.0,
        json_schema_extra={"description": "Weight of the NLL of the correct CoT's key tokens."},
    )
    edit_beta: float | None = Field(
        default=0.025, ge=0.0,
        json_schema_extra={"description": "Weight of the push-down on the wrong CoT's key tokens."},
    )
    edit_neg_nll_threshold: float | None = Field(
        default=None, gt=0.0,
        json_schema_extra={"description": "Push a wrong key token down only while its NLL is below this."},
    )
    edit_sft_weight: float | None = Field(
        default=0.0, ge=0.0,
        json_schema_extra={"description": "Weight of an extra SFT loss on the whole correct CoT."},
    )
    edit_lr_epoch_decay: float | None = Field(
        default=None, gt=0.0, le=1.0,
        json_schema_extra={"description": (
            "Multiply the learning rate by this once per epoch, with no warm-up (the EDIT "
            "authors' schedule, 0.95). Replaces lr_scheduler and warm-up; any stage.")},
    )


@dataclass
class EditTrainingArgsMixin:
    """Training arguments the KRSL trainer reads."""

    edit_krsl: bool | None = None
    edit_alpha: float = 1.0
    edit_beta: float = 0.025
    edit_neg_nll_threshold: float | None = None
    edit_sft_weight: float = 0.0
    edit_lr_epoch_decay: float | None = None
