"""Masks and labels line up with the tokens, with and without a chat template,
and under truncation."""

import pytest

from edit_plugin.text.chat import encode_example, encode_prompt
from edit_plugin.dual_cot.tokenize import (
    DROP_IDENTICAL,
    DROP_NO_KEYS,
    DROP_TRUNCATED,
    tokenize_dual,
    tokenize_sft,
)
from edit_plugin.core.keysteps import key_token_masks


def response_ids(row, side=""):
    return [t for t, label in zip(row[f"{side}input_ids"], row[f"{side}labels"]) if label != -100]


@pytest.mark.parametrize("tokenizer_name", ["chat_tokenizer", "plain_tokenizer"])
def test_labels_and_masks_align_with_tokens(request, tokenizer_name, pairs):
    tokenizer = request.getfixturevalue(tokenizer_name)
    pair = pairs[0]
    row, reason = tokenize_dual(tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], 512)
    assert reason is None
    for side, text in (("", pair["chosen"]), ("rejected_", pair["rejected"])):
        ids, labels = row[f"{side}input_ids"], row[f"{side}labels"]
        assert len(ids) == len(labels) == len(row[f"{side}attention_mask"])
        n_prompt = labels.index(next(label for label in labels if label != -100))
        # The prompt is exactly the generation prompt used at decoding time.
        assert ids[:n_prompt] == encode_prompt(tokenizer, pair["prompt"])
        assert all(label == -100 for label in labels[:n_prompt])
        assert labels[n_prompt:] == ids[n_prompt:]
        assert tokenizer.decode(ids[n_prompt:], skip_special_tokens=True).strip() == text
    key_c = row["chosen_key_mask"]
    key_r = row["rejected_key_mask"]
    assert len(key_c) == len(row["input_ids"]) and len(key_r) == len(row["rejected_input_ids"])
    # Key tokens lie on the CoT only, and are the rapidfuzz script over CoT tokens.
    assert not any(k and label == -100 for k, label in zip(key_c, row["labels"]))
    expected_c, expected_r = key_token_masks(response_ids(row), response_ids(row, "rejected_"))
    assert [bool(k) for k, label in zip(key_c, row["labels"]) if label != -100] == expected_c
    assert [bool(k) for k, label in zip(key_r, row["rejected_labels"]) if label != -100] == expected_r
    # The injected error shows up in the key tokens.
    wrong = tokenizer.decode([t for t, k in zip(row["rejected_input_ids"], key_r) if k])
    assert any(ch.isdigit() for ch in wrong)


def test_plain_format_is_prompt_space_cot_eos(plain_tokenizer, pairs):
    ids, n_prompt = encode_example(plain_tokenizer, pairs[0]["prompt"], pairs[0]["chosen"])
    assert ids[-1] == plain_tokenizer.eos_token_id
    assert plain_tokenizer.decode(ids[:-1]) == pairs[0]["prompt"] + " " + pairs[0]["chosen"]


def test_chat_format_ends_the_turn_with_im_end(chat_tokenizer, pairs):
    ids, n_prompt = encode_example(chat_tokenizer, pairs[0]["prompt"], pairs[0]["chosen"])
    assert chat_tokenizer.eos_token_id in ids[n_prompt:]
    assert chat_tokenizer.decode(ids[n_prompt:]).startswith(pairs[0]["chosen"] + "<|im_end|>")


def test_truncation_cuts_both_sides_and_masks_alike(chat_tokenizer, pairs):
    pair = pairs[1]
    full, _ = tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], 1024)
    first_key = full["chosen_key_mask"].index(1)
    cut = first_key + 3
    row, reason = tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], cut)
    assert reason is None
    for column in row:
        assert len(row[column]) <= cut
        assert row[column] == full[column][:cut]


def test_rows_that_cannot_teach_are_dropped(chat_tokenizer, pairs):
    pair = pairs[2]
    n_prompt = len(encode_prompt(chat_tokenizer, pair["prompt"]))
    assert tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["chosen"] + " ", 512) == (None, DROP_IDENTICAL)
    assert tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], n_prompt) == (None, DROP_TRUNCATED)
    assert tokenize_sft(chat_tokenizer, pair["prompt"], pair["chosen"], n_prompt) == (None, DROP_TRUNCATED)
    # Cut before the first differing token: both CoTs survive but no key token does.
    full, _ = tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], 1024)
    first_key = min(full["chosen_key_mask"].index(1), full["rejected_key_mask"].index(1))
    assert tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], first_key) == (None, DROP_NO_KEYS)


def test_sft_row_has_only_standard_columns(chat_tokenizer, pairs):
    row, reason = tokenize_sft(chat_tokenizer, pairs[0]["prompt"], pairs[0]["chosen"], 512)
    assert reason is None and set(row) == {"input_ids", "attention_mask", "labels"}


@pytest.mark.parametrize("start", ["\n\r", "\n", "\r\n", "\n\n", " \n", "\t"])
def test_a_response_starting_with_whitespace_keeps_the_prompt_boundary(chat_tokenizer, start):
    # SmolLM2's template ends the generation prompt with "\n": a response
    # starting "\n\r" merges with it into one token unless encoded apart.
    prompt, chosen, rejected = "Q: 2 + 2?", start + "2 + 2 = 4. The answer is 4.", start + "2 + 2 = 5. The answer is 5."
    row, reason = tokenize_dual(chat_tokenizer, prompt, chosen, rejected, 512)
    assert reason is None
    n_prompt = len(encode_prompt(chat_tokenizer, prompt))
    for side in ("", "rejected_"):
        assert row[f"{side}input_ids"][:n_prompt] == encode_prompt(chat_tokenizer, prompt)
        assert row[f"{side}labels"][:n_prompt] == [-100] * n_prompt
        assert row[f"{side}labels"][n_prompt:] == row[f"{side}input_ids"][n_prompt:]
    wrong = chat_tokenizer.decode([t for t, k in zip(row["rejected_input_ids"], row["rejected_key_mask"]) if k])
    assert "5" in wrong
    sft, reason = tokenize_sft(chat_tokenizer, prompt, chosen, 512)
    assert reason is None and sft["input_ids"][:n_prompt] == encode_prompt(chat_tokenizer, prompt)


def test_a_template_that_rewrites_the_prompt_drops_the_row_with_its_reason(chat_tokenizer):
    import copy

    from edit_plugin.dual_cot.tokenize import DROP_TEMPLATE

    tokenizer = copy.deepcopy(chat_tokenizer)
    # The generation prompt says something the conversation never does.
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant thinking\n{% endif %}"
    )
    assert tokenize_dual(tokenizer, "Q", "The answer is 4.", "The answer is 5.", 512) == (None, DROP_TEMPLATE)
    assert tokenize_sft(tokenizer, "Q", "The answer is 4.", 512) == (None, DROP_TEMPLATE)
