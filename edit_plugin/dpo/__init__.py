"""The paper's DPO baseline, run by Axolotl's own ``rl: dpo`` (TRL's DPOTrainer)
on the same dual-CoT file as KRSL.

- ``dpo_config``: a KRSL-stage Axolotl config -> the DPO config;
- ``transform``: the per-sample transform for students without a chat
  template (``type: edit_plugin.dpo_plain``);
- ``step``: one DPO forward over DPO's sigmoid loss as pure torch
  (``edit_plugin.core.dpo_loss``), for the training-step benchmark (it must
  run where TRL is not installed).
"""

from edit_plugin.dpo.config import DPO_PLAIN_TYPE, dpo_config

__all__ = ["DPO_PLAIN_TYPE", "dpo_config"]
