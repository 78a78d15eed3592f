"""Axolotl dataset strategy that tokenizes dual-CoT records (framework glue).

Rows that cannot teach anything (identical CoTs, CoT cut away by
``sequence_len``, no key token left) are dropped, counted and logged; a run
that drops everything fails with the reasons. Malformed records fail with an
error that names the dataset, the line and the field.
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import partial

from axolotl.prompt_tokenizers import DatasetWrappingStrategy

from edit_plugin.core.columns import DUAL_COT_COLUMNS, SFT_COLUMNS
from edit_plugin.core.keysteps import MIN_EDIT, check_marking
from edit_plugin.dual_cot.tokenize import tokenize_dual_batch, tokenize_sft_batch
from edit_plugin.plugin.cache import key_marking_of
from edit_plugin.text.fields import FieldMap
from edit_plugin.text.schema import REQUIRED_FIELDS, SFT_FIELDS, DualCoTDataError, record_problem

LOG = logging.getLogger("axolotl.edit_plugin.dual_cot")
DROP_COLUMN = "edit_drop_reason"


def _tokenize_batch(batch, indices, *, tokenizer, sequence_len, with_rejected, source, field_map,
                    key_marking=MIN_EDIT):
    # The user's names of our fields: errors name them.
    fields = field_map.names(REQUIRED_FIELDS if with_rejected else SFT_FIELDS)
    columns = DUAL_COT_COLUMNS if with_rejected else SFT_COLUMNS
    for offset, index in enumerate(indices):
        problem = record_problem({name: batch[name][offset] for name in fields}, fields)
        if problem:
            # Row i of a single JSON-lines file is line i + 1 when it has no blank
            # lines; a folder of files or a Hub dataset only has rows.
            where = f"line {index + 1} (row {index})" if source.endswith(".jsonl") else f"row {index}"
            raise DualCoTDataError(f"{source}, {where}: {problem}")
    prompts, chosen = batch[field_map.prompt], batch[field_map.chosen]
    if with_rejected:
        results = tokenize_dual_batch(tokenizer, prompts, chosen, batch[field_map.rejected], sequence_len,
                                      key_marking=key_marking)
    else:
        results = tokenize_sft_batch(tokenizer, prompts, chosen, sequence_len)
    out = {name: [row[name] if row else [] for row, _ in results] for name in columns}
    out[DROP_COLUMN] = [reason or "" for _, reason in results]
    return out


class DualCoTStrategy(DatasetWrappingStrategy):
    """Tokenize prompt + chosen (SFT) or prompt + chosen / rejected (KRSL)."""

    def __init__(self, tokenizer, sequence_len: int, with_rejected: bool, source: str,
                 field_map: FieldMap | None = None, key_marking: str = MIN_EDIT):
        self.tokenizer = tokenizer
        self.key_marking = check_marking(key_marking)
        self.sequence_len = sequence_len
        self.with_rejected = with_rejected
        self.source = source
        self.field_map = field_map or FieldMap()

    def wrap_dataset(self, dataset, process_count=None, keep_in_memory=False, **kwargs):
        fields = self.field_map.names(REQUIRED_FIELDS if self.with_rejected else SFT_FIELDS)
        missing = [name for name in fields if name not in dataset.column_names]
        if missing:
            raise DualCoTDataError(
                f"{self.source}: field '{missing[0]}' is missing from every record "
                f"(columns found: {', '.join(dataset.column_names)})"
            )
        tokenized = dataset.map(
            partial(
                _tokenize_batch,
                tokenizer=self.tokenizer,
                sequence_len=self.sequence_len,
                with_rejected=self.with_rejected,
                source=self.source,
                field_map=self.field_map,
                key_marking=self.key_marking,
            ),
            batched=True,
            with_indices=True,
            remove_columns=dataset.column_names,
            num_proc=process_count,
            keep_in_memory=keep_in_memory,
            desc="Tokenizing dual CoTs" if self.with_rejected else "Tokenizing CoTs",
        )
        drops = Counter(reason for reason in tokenized[DROP_COLUMN] if reason)
        kept = len(tokenized) - sum(drops.values())
        summary = ", ".join(f"{count} because {reason}" for reason, count in drops.items())
        if kept == 0:
            raise ValueError(
                f"{self.source}: every one of {len(tokenized)} rows was dropped ({summary}). "
                f"Check sequence_len ({self.sequence_len}) and that chosen and rejected differ."
            )
        if drops:
            LOG.warning("%s: kept %d of %d rows; dropped %s", self.source, kept, len(tokenized), summary)
        else:
            LOG.info("%s: kept all %d rows", self.source, kept)
        if drops:
            tokenized = tokenized.filter(
                lambda reasons: [not r for r in reasons],
                input_columns=[DROP_COLUMN],
                batched=True,
                num_proc=process_count,
                keep_in_memory=keep_in_memory,
            )
        return tokenized.remove_columns(DROP_COLUMN)


def build_strategy(tokenizer, cfg, ds_cfg, with_rejected: bool) -> DualCoTStrategy:
    source = "dataset"
    if ds_cfg is not None:
        source = str(ds_cfg.get("path") or source)
    return DualCoTStrategy(tokenizer, int(cfg.sequence_len), with_rejected, source, FieldMap.from_config(cfg),
                           key_marking_of(cfg))
