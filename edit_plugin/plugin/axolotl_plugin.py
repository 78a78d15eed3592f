"""The Axolotl plugin class (``plugins: [edit_plugin.EditPlugin]``)."""

from __future__ import annotations

import logging
import os

import torch
from axolotl.integrations.base import BasePlugin

from edit_plugin.plugin.args import EDIT_DEFAULTS, EDIT_KEYS
from edit_plugin.plugin.cache import key_marking_of, prepared_path_for
from edit_plugin.plugin.checks import check_config
from edit_plugin.plugin.devices import fix_cpu_device_map
from edit_plugin.plugin.seeding import config_seed, seed_all

LOG = logging.getLogger("axolotl.edit_plugin")


class EditPlugin(BasePlugin):
    """EDIT: SFT on correct CoTs, then a stage-2 loss (KRSL by default) on the
    key tokens of dual CoTs."""

    def register(self, cfg):
        check_config(cfg, cuda_available=torch.cuda.is_available())

    def load_datasets(self, cfg, preprocess=False):
        # Loads nothing (None: Axolotl loads the datasets). It is the one hook
        # that runs after Axolotl's normalize_config and before the datasets
        # and the model load: where several CPU processes get a device map
        # they can use, and where each key marking gets its own prepared data.
        use_prepared_path_of_marking(cfg)
        if fix_cpu_device_map(cfg):
            LOG.info("several processes on CPU: each loads the model with device_map %s", cfg.device_map)
        if not torch.cuda.is_available():
            # accelerate sets OMP_NUM_THREADS=1 unless told otherwise: say what this process got.
            LOG.info("CPU threads of this training process: %d (OMP_NUM_THREADS=%s)",
                     torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS", "unset"))
        return None

    def get_input_args(self):
        return "edit_plugin.plugin.args.EditArgs"

    def pre_lora_load(self, cfg, model):
        # The adapter's initial weights come from torch's global generator.
        seed_all(config_seed(cfg))

    def add_callbacks_pre_trainer(self, cfg, model):
        # Called while the trainer is built: under rl: dpo TRL creates the
        # adapter in the trainer's __init__, before the Trainer's own set_seed.
        seed_all(config_seed(cfg))
        return []

    def create_lr_scheduler(self, cfg, trainer, optimizer, num_training_steps):
        if cfg.edit_lr_epoch_decay is None:
            return None  # Axolotl builds the scheduler of `lr_scheduler`
        from edit_plugin.plugin.schedule import epoch_decay_scheduler

        return epoch_decay_scheduler(
            optimizer, num_training_steps, trainer.args.num_train_epochs, cfg.edit_lr_epoch_decay
        )

    def get_training_args_mixin(self):
        return "edit_plugin.plugin.args.EditTrainingArgsMixin"

    def get_training_args(self, cfg):
        if not cfg.edit_krsl:
            return None
        return {key: cfg[key] if cfg[key] is not None else EDIT_DEFAULTS[key] for key in EDIT_KEYS}

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




def use_prepared_path_of_marking(cfg) -> None:
    """Point ``dataset_prepared_path`` at the folder of the config's key
    marking (`edit_plugin.plugin.cache`)."""
    from axolotl.common.const import DEFAULT_DATASET_PREPARED_PATH

    marking = key_marking_of(cfg)
    base = cfg.dataset_prepared_path or DEFAULT_DATASET_PREPARED_PATH
    path = prepared_path_for(str(base), marking)
    if path != str(base):
        LOG.info("edit_key_marking: %s: prepared data in %s", marking, path)
        cfg.dataset_prepared_path = path
