"""Axolotl dataset type ``edit_plugin.dual_cot`` (KRSL stage).

``type: edit_plugin.dual_cot`` tokenizes prompt + chosen and prompt + rejected
with key-token masks; ``type: edit_plugin.dual_cot.sft`` (the ``sft``
submodule) reads the same file for the SFT stage. Axolotl resolves ``a.b`` as
module ``a.b`` + ``load``, hence a package.
"""


def load(tokenizer, cfg, ds_cfg=None):
    from edit_plugin.dual_cot.strategy import build_strategy

    return build_strategy(tokenizer, cfg, ds_cfg, with_rejected=True)
