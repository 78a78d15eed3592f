"""Turn dual-CoT records into aligned model inputs (no Axolotl import);
the columns are those of ``edit_plugin.core.columns``.

Masks are stored, not alpha/beta-scaled weights: Axolotl's prepared-dataset
cache key ignores plugin arguments, so baked-in weights would be reused
silently after a change of alpha or beta. The key marking does shape the
masks: the plugin keeps the data of each marking in a folder of its own
(`edit_plugin.plugin.cache`).
"""

from __future__ import annotations

from collections.abc import Sequence

from edit_plugin.core.columns import IGNORE_INDEX
from edit_plugin.core.keysteps import MIN_EDIT, key_token_masks
from edit_plugin.text.chat import encode_batch

DROP_IDENTICAL = "chosen and rejected CoTs are identical"
DROP_TRUNCATED = "the CoT is cut away entirely by sequence_len"
DROP_NO_KEYS = "no key token is left after truncation"
DROP_TEMPLATE = "the chat template does not render the prompt as a prefix of prompt + CoT"

Result = tuple[dict | None, str | None]


def _side(ids: list[int], n_prompt: int, key_mask: list[bool] | None, sequence_len: int) -> dict:
    """ids, labels and key mask of one side, cut to ``sequence_len``."""
    ids = ids[:sequence_len]
    labels = [IGNORE_INDEX] * min(n_prompt, len(ids)) + ids[n_prompt:]
    side = {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
    if key_mask is not None:
        side["key_mask"] = ([0] * n_prompt + [int(m) for m in key_mask])[:sequence_len]
    return side


def _has_response(side: dict) -> bool:
    return len(side["input_ids"]) > side["labels"].count(IGNORE_INDEX)


def sft_row(ids: list[int], n_prompt: int, sequence_len: int) -> Result:
    """SFT row, or (None, reason) when the CoT is cut away entirely."""
    side = _side(ids, n_prompt, None, sequence_len)
    return (side, None) if _has_response(side) else (None, DROP_TRUNCATED)


def dual_row(chosen_ids: list[int], rejected_ids: list[int], n_prompt: int, sequence_len: int,
             key_marking: str = MIN_EDIT) -> Result:
    """KRSL row from the token ids of prompt + chosen and prompt + rejected
    (sharing ``n_prompt`` prompt tokens), or (None, reason); ``key_marking``
    one of `edit_plugin.core.keysteps.KEY_MARKINGS`."""
    if chosen_ids == rejected_ids:
        return None, DROP_IDENTICAL
    # Align the CoT tokens only: the prompt is shared by both sides.
    c_mask, r_mask = key_token_masks(chosen_ids[n_prompt:], rejected_ids[n_prompt:], key_marking)
    chosen = _side(chosen_ids, n_prompt, c_mask, sequence_len)
    rejected = _side(rejected_ids, n_prompt, r_mask, sequence_len)
    if not (_has_response(chosen) and _has_response(rejected)):
        return None, DROP_TRUNCATED
    if not (any(chosen["key_mask"]) or any(rejected["key_mask"])):
        return None, DROP_NO_KEYS
    return {
        "input_ids": chosen["input_ids"],
        "attention_mask": chosen["attention_mask"],
        "labels": chosen["labels"],
        "chosen_key_mask": chosen["key_mask"],
        "rejected_input_ids": rejected["input_ids"],
        "rejected_attention_mask": rejected["attention_mask"],
        "rejected_labels": rejected["labels"],
        "rejected_key_mask": rejected["key_mask"],
    }, None


def tokenize_dual_batch(tokenizer, prompts: Sequence[str], chosen: Sequence[str],
                        rejected: Sequence[str], sequence_len: int, use_chat_template=None,
                        key_marking: str = MIN_EDIT) -> list[Result]:
    encoded = encode_batch(tokenizer, prompts, list(zip(chosen, rejected)), use_chat_template)
    return [
        (None, DROP_IDENTICAL) if c.strip() == r.strip()
        else (None, DROP_TEMPLATE) if c_ids is None or r_ids is None
        else dual_row(c_ids, r_ids, n_prompt, sequence_len, key_marking)
        for c, r, ((c_ids, r_ids), n_prompt) in zip(chosen, rejected, encoded)
    ]


def tokenize_sft_batch(tokenizer, prompts: Sequence[str], chosen: Sequence[str],
                       sequence_len: int, use_chat_template=None) -> list[Result]:
    encoded = encode_batch(tokenizer, prompts, [[c] for c in chosen], use_chat_template)
    return [(None, DROP_TEMPLATE) if ids is None else sft_row(ids, n_prompt, sequence_len)
            for (ids,), n_prompt in encoded]


def tokenize_dual(tokenizer, prompt: str, chosen: str, rejected: str, sequence_len: int,
                  use_chat_template=None, key_marking: str = MIN_EDIT) -> Result:
    """One KRSL row, or (None, reason) when the pair cannot teach anything."""
    return tokenize_dual_batch(tokenizer, [prompt], [chosen], [rejected], sequence_len, use_chat_template,
                               key_marking)[0]


def tokenize_sft(tokenizer, prompt: str, chosen: str, sequence_len: int, use_chat_template=None) -> Result:
    """One SFT row (prompt + chosen), or (None, reason)."""
    return tokenize_sft_batch(tokenizer, [prompt], [chosen], sequence_len, use_chat_template)[0]
