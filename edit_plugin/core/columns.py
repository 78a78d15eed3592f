"""The columns of a tokenized dual-CoT row, defined once.

Axolotl's standard names (``input_ids``, ``attention_mask``, ``labels``) hold
prompt + chosen CoT; the ``rejected_*`` columns prompt + rejected CoT; the key
masks are 1 at key tokens, aligned with their side's ids. Labels are
``IGNORE_INDEX`` on the prompt and on padding.
"""

from __future__ import annotations

IGNORE_INDEX = -100
PAD_ID = None  # stands for the tokenizer's pad id (its eos when it has none)

# column -> the value it is padded with
DUAL_COT_PADDING = {
    "input_ids": PAD_ID,
    "attention_mask": 0,
    "labels": IGNORE_INDEX,
    "chosen_key_mask": 0,
    "rejected_input_ids": PAD_ID,
    "rejected_attention_mask": 0,
    "rejected_labels": IGNORE_INDEX,
    "rejected_key_mask": 0,
}
DUAL_COT_COLUMNS = tuple(DUAL_COT_PADDING)
SFT_COLUMNS = ("input_ids", "attention_mask", "labels")
# Not arguments of a model's forward(): the Trainer would drop them silently.
EXTRA_COLUMNS = tuple(c for c in DUAL_COT_COLUMNS if c not in SFT_COLUMNS)
