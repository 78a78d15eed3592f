"""The defaults of the stage-2 losses and of the key marking they read,
defined once and keyed by the plugin key that sets each: the plugin's YAML
keys (``plugin/args.py``) and the loss registry (``core/stage2.py``) both
take them from here."""

from __future__ import annotations

from edit_plugin.core.keysteps import MIN_EDIT

LOSS_DEFAULTS = {
    "edit_loss": "krsl",
    "edit_alpha": 1.0,  # KRSL: weight of the correct CoT's key-token NLL (the paper's)
    "edit_beta": 0.025,  # KRSL: weight of the push-down on the wrong CoT's key tokens (the paper's)
    "edit_neg_nll_threshold": None,  # KRSL: no cap on the push-down
    "edit_sft_weight": 0.0,  # KRSL: no extra SFT term
    "edit_dpo_beta": 0.1,  # key_dpo: DPO's usual beta
    "edit_key_marking": MIN_EDIT,  # the paper's key tokens
}
