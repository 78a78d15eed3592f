"""Axolotl dataset type ``edit_plugin.dual_cot.sft``: prompt + chosen CoT only."""


def load(tokenizer, cfg, ds_cfg=None):
    from edit_plugin.dual_cot.strategy import build_strategy

    return build_strategy(tokenizer, cfg, ds_cfg, with_rejected=False)
