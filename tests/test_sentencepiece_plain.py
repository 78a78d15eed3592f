"""A Llama-2 style SentencePiece tokenizer without a chat template: the CoT
after the prompt starts with a word-start token, never a lone "▁", and labels
and key masks stay on the CoT.

The tokenizer is built here (Llama-2's tokenizer.json layout: the normalizer
prepends "▁" and turns spaces into "▁", BPE with byte fallback), so the test
needs no download."""

from __future__ import annotations

import pytest

from edit_plugin.dual_cot.tokenize import tokenize_dual, tokenize_sft
from edit_plugin.text.chat import encode_prompt, marks_word_start_itself

PROMPT = "Q: 3 + 4 * 2 = ? A: Let's think step by step."
CHOSEN = "First, 4 * 2 = 8. Then 3 + 8 = 11. Therefore, the answer is 11."
REJECTED = "First, 4 * 2 = 6. Then 3 + 6 = 9. Therefore, the answer is 9."


@pytest.fixture(scope="module")
def llama2_style_tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [PROMPT, CHOSEN, REJECTED, "Therefore the answer is (A).", "Let us think step by step."] * 20
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    trainer = trainers.BpeTrainer(vocab_size=160, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    # SentencePiece never merges across a word start: train on words, then
    # tokenize as Llama-2's tokenizer.json does, with no pre-tokenizer.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never")
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.pre_tokenizer = None
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def cot_tokens(tokenizer, row, side=""):
    ids = [t for t, label in zip(row[f"{side}input_ids"], row[f"{side}labels"]) if label != -100]
    return tokenizer.convert_ids_to_tokens(ids)


def test_the_tokenizer_really_makes_a_lone_space_token(llama2_style_tokenizer):
    # The premise: " " + CoT on its own starts with a lone "▁".
    ids = llama2_style_tokenizer(" " + CHOSEN, add_special_tokens=False)["input_ids"]
    assert llama2_style_tokenizer.convert_ids_to_tokens(ids)[0] == "▁"
    assert marks_word_start_itself(llama2_style_tokenizer)


def test_plain_tokenizers_of_the_suite_keep_the_space(plain_tokenizer):
    assert not marks_word_start_itself(plain_tokenizer)


def test_no_cot_starts_with_a_lone_space(llama2_style_tokenizer):
    tok = llama2_style_tokenizer
    row, reason = tokenize_dual(tok, PROMPT, CHOSEN, REJECTED, 512, use_chat_template=False)
    assert reason is None
    sft, _ = tokenize_sft(tok, PROMPT, CHOSEN, 512, use_chat_template=False)
    for tokens in (cot_tokens(tok, row), cot_tokens(tok, row, "rejected_"), cot_tokens(tok, sft)):
        assert tokens[0] != "▁" and tokens[0].startswith("▁"), tokens[:3]
        assert tokens[-1] == "</s>"


def test_labels_and_key_masks_stay_aligned(llama2_style_tokenizer):
    tok = llama2_style_tokenizer
    row, _ = tokenize_dual(tok, PROMPT, CHOSEN, REJECTED, 512, use_chat_template=False)
    prompt_ids = encode_prompt(tok, PROMPT, use_chat_template=False)
    for side, text in (("", CHOSEN), ("rejected_", REJECTED)):
        ids, labels = row[f"{side}input_ids"], row[f"{side}labels"]
        key = row["chosen_key_mask" if not side else "rejected_key_mask"]
        assert len(ids) == len(labels) == len(key)
        n_prompt = len(prompt_ids)
        assert ids[:n_prompt] == prompt_ids  # the decoding prompt is a clean prefix
        assert labels[:n_prompt] == [-100] * n_prompt and labels[n_prompt:] == ids[n_prompt:]
        assert tok.decode(ids, skip_special_tokens=True) == f"{PROMPT} {text}"  # one space, not two
        assert not any(k for k, label in zip(key, labels) if label == -100)
        # The key tokens are where the two CoTs differ: the wrong product and what follows from it.
        key_text = tok.decode([t for t, k in zip(ids, key) if k])
        assert ("8" in key_text) if not side else ("6" in key_text)
        assert "Therefore" not in key_text
