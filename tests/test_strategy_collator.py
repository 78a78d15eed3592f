"""The Axolotl dataset strategy over a Hugging Face dataset, and the collator."""

import pytest
import torch
from datasets import Dataset

from edit_plugin.dual_cot.strategy import DualCoTStrategy
from edit_plugin.plugin.collator import DualCoTCollator
from edit_plugin.text.schema import DualCoTDataError


def strategy(tokenizer, with_rejected=True, sequence_len=256):
    return DualCoTStrategy(tokenizer, sequence_len, with_rejected, source="data/x.jsonl")


def test_krsl_columns_and_drop_counting(chat_tokenizer, pairs, caplog):
    rows = pairs[:4] + [{**pairs[4], "rejected": pairs[4]["chosen"]}]
    out = strategy(chat_tokenizer).wrap_dataset(Dataset.from_list(rows))
    assert len(out) == 4
    assert set(out.column_names) == {
        "input_ids", "attention_mask", "labels", "chosen_key_mask",
        "rejected_input_ids", "rejected_attention_mask", "rejected_labels", "rejected_key_mask",
    }
    assert "kept 4 of 5 rows" in caplog.text and "identical" in caplog.text


def test_sft_type_reads_the_same_file(chat_tokenizer, pairs):
    out = strategy(chat_tokenizer, with_rejected=False).wrap_dataset(Dataset.from_list(pairs))
    assert len(out) == len(pairs)
    assert set(out.column_names) == {"input_ids", "attention_mask", "labels"}


def test_everything_dropped_is_an_error_that_says_why(chat_tokenizer, pairs):
    rows = [{**p, "rejected": p["chosen"]} for p in pairs]
    with pytest.raises(ValueError, match="every one of 8 rows was dropped.*identical"):
        strategy(chat_tokenizer).wrap_dataset(Dataset.from_list(rows))


def test_bad_row_names_source_line_and_field(chat_tokenizer, pairs):
    rows = [dict(p) for p in pairs]
    rows[2]["chosen"] = ""
    with pytest.raises(DualCoTDataError, match=r"data/x.jsonl, line 3 .*field 'chosen' is empty"):
        strategy(chat_tokenizer).wrap_dataset(Dataset.from_list(rows))


def test_missing_column_is_named(chat_tokenizer, pairs):
    rows = [{"prompt": p["prompt"], "chosen": p["chosen"]} for p in pairs]
    with pytest.raises(DualCoTDataError, match="field 'rejected' is missing"):
        strategy(chat_tokenizer).wrap_dataset(Dataset.from_list(rows))


def test_collator_pads_both_sides_to_one_length(chat_tokenizer, pairs):
    out = strategy(chat_tokenizer).wrap_dataset(Dataset.from_list(pairs[:3]))
    features = [out[i] for i in range(3)]
    batch = DualCoTCollator(chat_tokenizer, padding=True, pad_to_multiple_of=64)(features)
    shapes = {tuple(t.shape) for t in batch.values()}
    assert len(shapes) == 1
    (b, t), = shapes
    assert b == 3 and t % 64 == 0
    for i, f in enumerate(features):
        n = len(f["input_ids"])
        assert batch["input_ids"][i, :n].tolist() == f["input_ids"]
        assert (batch["labels"][i, n:] == -100).all()
        assert (batch["chosen_key_mask"][i, n:] == 0).all()
        assert (batch["attention_mask"][i, n:] == 0).all()
        assert (batch["input_ids"][i, n:] == chat_tokenizer.pad_token_id).all()
        m = len(f["rejected_input_ids"])
        for column in ("rejected_input_ids", "rejected_attention_mask", "rejected_labels", "rejected_key_mask"):
            assert batch[column][i, :m].tolist() == f[column], column
        assert (batch["rejected_input_ids"][i, m:] == chat_tokenizer.pad_token_id).all()
        assert (batch["rejected_labels"][i, m:] == -100).all()
        assert (batch["rejected_attention_mask"][i, m:] == 0).all()
        assert (batch["rejected_key_mask"][i, m:] == 0).all()
    assert batch["input_ids"].dtype == torch.long


def test_collator_pads_with_eos_when_the_tokenizer_has_no_pad(chat_tokenizer, pairs):
    out = strategy(chat_tokenizer).wrap_dataset(Dataset.from_list(pairs[:2]))
    features = [out[i] for i in range(2)]
    no_pad = type("NoPad", (), {"pad_token_id": None, "eos_token_id": 7})()
    batch = DualCoTCollator(no_pad, pad_to_multiple_of=64)(features)
    m = len(features[0]["rejected_input_ids"])
    assert (batch["rejected_input_ids"][0, m:] == 7).all() and (batch["input_ids"][0, len(features[0]["input_ids"]):] == 7).all()
