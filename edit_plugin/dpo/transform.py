"""Axolotl DPO transform ``type: edit_plugin.dpo_plain`` (no chat template).

Under ``rl: dpo`` Axolotl resolves a dataset ``type`` ``a.b`` as attribute
``b`` of the top-level module ``a`` (``axolotl.prompt_strategies.base.load``);
a deeper path such as ``edit_plugin.dpo.transform.plain`` is looked up as a
top-level module ``transform`` and fails. Hence the name is an attribute of the
``edit_plugin`` package, which imports this module lazily.

The texts reproduce ``edit_plugin.text.chat.encode_batch`` without a chat template:
prompt, then ``" " + CoT`` (``edit_plugin.text.prompts.join_plain``), then eos. The
eos text is added here so TRL does not add it again, and TRL tokenizes
``prompt + chosen`` with the tokenizer's special tokens (BOS) just as the KRSL
dataset type tokenizes the prompt.
"""

from __future__ import annotations

from edit_plugin.text.fields import FieldMap
from edit_plugin.text.prompts import join_plain


def plain_texts(prompt: str, chosen: str, rejected: str, eos_token: str | None) -> dict[str, str]:
    """prompt / chosen / rejected strings whose concatenation TRL tokenizes."""
    eos = eos_token or ""
    return {
        "prompt": prompt,
        "chosen": join_plain(prompt, chosen)[1] + eos,
        "rejected": join_plain(prompt, rejected)[1] + eos,
    }


def plain(cfg, dataset_idx: int = 0, **kwargs):
    """Axolotl's strategy entry point: returns the per-sample transform."""
    names = FieldMap.from_config(cfg)

    def transform_fn(sample, tokenizer=None):
        return plain_texts(sample[names.prompt], sample[names.chosen], sample[names.rejected], tokenizer.eos_token)

    return transform_fn
