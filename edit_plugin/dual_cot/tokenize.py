"""Turn one dual-CoT record into aligned model inputs (no Axolotl import).

Columns of a KRSL row:
- ``input_ids``, ``attention_mask``, ``labels``: prompt + chosen CoT (Axolotl's
  standard names, which its length filters read);
- ``rejected_input_ids``, ``rejected_attention_mask``, ``rejected_labels``:
  prompt + rejected CoT;
- ``chosen_key_mask``, ``rejected_key_mask``: 1 at key tokens, 0 elsewhere,
  aligned with ``input_ids`` / ``rejected_input_ids``.

Masks are stored, not alpha/beta-scaled weights: Axolotl's prepared-dataset
cache key ignores plugin arguments, so baked-in weights would be reused
silently after a change of alpha or beta.
"""

from __future__ import annotations

from dataclasses import dataclass

from edit_plugin.chat import encode_example
from edit_plugin.keysteps import key_token_masks

IGNORE_INDEX = -100

DROP_IDENTICAL = "chosen and rejected CoTs are identical"
DROP_TRUNCATED = "the CoT is cut away entirely by sequence_len"
DROP_NO_KEYS = "no key token is left after truncation"


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    key_mask: list[int]


def _finish(ids: list[int], n_prompt: int, cot_mask: list[bool], sequence_len: int) -> Encoded:
    """Labels and the key mask over the whole sequence, cut to ``sequence_len``."""
    labels = [IGNORE_INDEX] * n_prompt + ids[n_prompt:]
    key_mask = [0] * n_prompt + [int(m) for m in cot_mask]
    return Encoded(ids[:sequence_len], labels[:sequence_len], key_mask[:sequence_len])


def has_response(encoded: Encoded) -> bool:
    return any(label != IGNORE_INDEX for label in encoded.labels)


def tokenize_sft(tokenizer, prompt: str, chosen: str, sequence_len: int, use_chat_template=None):
    """SFT row (prompt + chosen) or None when the CoT is cut away entirely."""
    ids, n_prompt = encode_example(tokenizer, prompt, chosen, use_chat_template)
    encoded = _finish(ids, n_prompt, [False] * (len(ids) - n_prompt), sequence_len)
    if not has_response(encoded):
        return None, DROP_TRUNCATED
    return {
        "input_ids": encoded.input_ids,
        "attention_mask": [1] * len(encoded.input_ids),
        "labels": encoded.labels,
    }, None


def tokenize_dual(
    tokenizer, prompt: str, chosen: str, rejected: str, sequence_len: int, use_chat_template=None
):
    """KRSL row, or (None, reason) when the pair cannot teach anything."""
    if chosen.strip() == rejected.strip():
        return None, DROP_IDENTICAL
    c_ids, c_prompt = encode_example(tokenizer, prompt, chosen, use_chat_template)
    r_ids, r_prompt = encode_example(tokenizer, prompt, rejected, use_chat_template)
    # Align the CoT tokens only: the prompt is shared by both sides.
    c_mask, r_mask = key_token_masks(c_ids[c_prompt:], r_ids[r_prompt:])
    chosen_side = _finish(c_ids, c_prompt, c_mask, sequence_len)
    rejected_side = _finish(r_ids, r_prompt, r_mask, sequence_len)
    if not (has_response(chosen_side) and has_response(rejected_side)):
        return None, DROP_TRUNCATED
    if not (any(chosen_side.key_mask) or any(rejected_side.key_mask)):
        return None, DROP_NO_KEYS
    return {
        "input_ids": chosen_side.input_ids,
        "attention_mask": [1] * len(chosen_side.input_ids),
        "labels": chosen_side.labels,
        "chosen_key_mask": chosen_side.key_mask,
        "rejected_input_ids": rejected_side.input_ids,
        "rejected_attention_mask": [1] * len(rejected_side.input_ids),
        "rejected_labels": rejected_side.labels,
        "rejected_key_mask": rejected_side.key_mask,
    }, None
