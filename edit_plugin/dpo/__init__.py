"""The paper's DPO baseline, run by Axolotl's own ``rl: dpo`` (TRL's DPOTrainer)
on the same dual-CoT file as KRSL.

- ``dpo_config``: a KRSL-stage Axolotl config -> the DPO config;
- ``transform``: the per-sample transform for students without a chat
  template (``type: edit_plugin.dpo_plain``);
- ``loss`` / ``step``: DPO's sigmoid loss as pure torch, for the training-step
  benchmark (it must run where TRL is not installed).
"""

from edit_plugin.dpo.config import DPO_PLAIN_TYPE, dpo_config

__all__ = ["DPO_PLAIN_TYPE", "dpo_config"]
