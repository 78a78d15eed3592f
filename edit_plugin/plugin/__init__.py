"""The Axolotl plugin: ``plugins: [edit_plugin.EditPlugin]``."""

from __future__ import annotations

import torch
from axolotl.integrations.base import BasePlugin

from edit_plugin.plugin.args import EDIT_KEYS, EditArgs
from edit_plugin.plugin.checks import check_config


class EditPlugin(BasePlugin):
    """EDIT: SFT on correct CoTs, then KRSL on the key tokens of dual CoTs."""

    def register(self, cfg):
        check_config(cfg, cuda_available=torch.cuda.is_available())

    def get_input_args(self):
        return "edit_plugin.plugin.args.EditArgs"

    def get_training_args_mixin(self):
        return "edit_plugin.plugin.args.EditTrainingArgsMixin"

    def get_training_args(self, cfg):
        if not cfg.edit_krsl:
            return None
        defaults = EditArgs()
        return {key: cfg[key] if cfg[key] is not None else getattr(defaults, key) for key in EDIT_KEYS}

    def get_trainer_cls(self, cfg):
        if cfg.edit_krsl:
            from edit_plugin.plugin.trainer import KRSLTrainer

            return KRSLTrainer
        return None

    def get_collator_cls_and_kwargs(self, cfg, is_eval=False):
        if not cfg.edit_krsl:
            return None
        from edit_plugin.plugin.collator import DualCoTCollator

        return DualCoTCollator, {}


__all__ = ["EditPlugin", "EditArgs"]
