"""The EDIT authors' learning-rate schedule: x ``decay`` once per epoch, no warm-up.

Axolotl asks every plugin for a scheduler (``create_lr_scheduler``) before it
builds its own, for the KRSL trainer and for the SFT and DPO trainers alike.
"""

from __future__ import annotations

import math
from typing import Callable

from torch.optim.lr_scheduler import LambdaLR


def epoch_decay_factor(steps_per_epoch: int, decay: float) -> Callable[[int], float]:
    """step -> lr multiplier: 1 during epoch 0, ``decay`` during epoch 1, ``decay**2`` ..."""
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    return lambda step: decay ** (step // steps_per_epoch)


def steps_per_epoch(num_training_steps: int, num_epochs: float) -> int:
    """Optimizer steps in one epoch, from the Trainer's total (epochs x steps per epoch)."""
    return max(1, math.ceil(num_training_steps / max(1.0, math.ceil(num_epochs))))


def epoch_decay_scheduler(optimizer, num_training_steps: int, num_epochs: float, decay: float) -> LambdaLR:
    return LambdaLR(optimizer, epoch_decay_factor(steps_per_epoch(num_training_steps, num_epochs), decay))
