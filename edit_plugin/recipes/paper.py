"""The EDIT paper's training settings (Table 16 and the authors' code), and
the two numbers a recipe derives from them: the gradient accumulation that
keeps the effective batch on other GPU counts, and ``sequence_len``."""

from __future__ import annotations

import math

LORA = {"lora_r": 64, "lora_alpha": 32, "lora_dropout": 0.05}
OPTIMIZER = {"optimizer": "adamw_torch", "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1.0e-8}
LR_EPOCH_DECAY = 0.95  # the authors' schedule: lr x 0.95 after each epoch, no warm-up

# Per stage: the plugin's keys, then the trainer's.
STAGES = {
    "sft": {"edit_krsl": False, "edit_lr_epoch_decay": LR_EPOCH_DECAY,
            "learning_rate": 2.0e-4, "num_epochs": 15, "weight_decay": 0.05},
    # The authors' threshold (20) almost never binds; the CPU recipe's 5.0 does.
    "krsl": {"edit_krsl": True, "edit_alpha": 1.0, "edit_beta": 0.025, "edit_neg_nll_threshold": 20.0,
             "edit_sft_weight": 0.0, "edit_lr_epoch_decay": LR_EPOCH_DECAY,
             "learning_rate": 5.0e-6, "num_epochs": 10, "weight_decay": 0.0},
}
DPO_BETA = 0.1  # the DPO baseline's beta (TRL's usual value), on the KRSL stage's pairs and schedule

EFFECTIVE_BATCH = 256  # micro batch 16 x gradient accumulation 4 x 4 GPUs
PAPER_GPUS = 4
PAPER_MICRO_BATCH = 16
MAX_SEQUENCE_LEN = 1024  # the paper's max length
LENGTH_MULTIPLE = 64  # Axolotl pads batches to a multiple of 64 anyway


class RecipeError(ValueError):
    """A setting the paper's recipe cannot honour (a message for the user)."""


def gradient_accumulation(gpus: int, micro_batch: int) -> int:
    """Steps to accumulate so that micro_batch x steps x gpus = 256."""
    if gpus < 1 or micro_batch < 1:
        raise RecipeError("--gpus and --micro-batch must be at least 1")
    per_step = gpus * micro_batch
    if EFFECTIVE_BATCH % per_step:
        raise RecipeError(f"{micro_batch} x {gpus} GPUs does not divide the paper's effective batch of "
                          f"{EFFECTIVE_BATCH}; choose powers of two")
    return EFFECTIVE_BATCH // per_step


def sequence_len(max_positions: int | None, longest_row: int | None = None) -> tuple[int, str]:
    """(sequence_len, where it comes from). With the data's longest row (in
    tokens, as the dataset types encode it): that, rounded up to a multiple
    of 64, so that no row is cut; without data: the model's limit, capped at
    the paper's 1,024."""
    if longest_row is not None:
        value = LENGTH_MULTIPLE * max(1, math.ceil(longest_row / LENGTH_MULTIPLE))
        if max_positions is not None and longest_row > max_positions:
            raise RecipeError(f"the longest row has {longest_row} tokens, more than the model's "
                              f"{max_positions} positions: shorten the data")
        if max_positions is not None:
            value = min(value, max_positions)
        return value, f"the data's longest row is {longest_row} tokens, rounded up: no row is cut"
    if max_positions is None:
        return MAX_SEQUENCE_LEN, f"the config states no limit: the paper's {MAX_SEQUENCE_LEN:,}"
    if max_positions <= MAX_SEQUENCE_LEN:
        return max_positions, f"the model's {max_positions:,} positions"
    return MAX_SEQUENCE_LEN, f"the model's {max_positions:,} positions, capped at the paper's {MAX_SEQUENCE_LEN:,}"
