"""Seed torch, random and numpy before a LoRA adapter is created.

Axolotl creates the adapter (random ``lora_A``) before the Trainer seeds
anything, so two runs of one config started from different adapters. Under
``rl: dpo`` TRL creates the adapter itself, inside the trainer's ``__init__``
and again before the Trainer seeds; the plugin therefore seeds twice: before
Axolotl's adapter and just before the trainer is built.
"""

from __future__ import annotations

# transformers.TrainingArguments.seed: what the Trainer uses when cfg has none.
DEFAULT_SEED = 42


def config_seed(cfg) -> int:
    seed = cfg.get("seed")
    return DEFAULT_SEED if seed is None else int(seed)


def seed_all(seed: int) -> None:
    """torch (CPU and every GPU), random and numpy."""
    from transformers import set_seed

    set_seed(seed)
