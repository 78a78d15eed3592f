"""Shared fixtures: the embedded student's tokenizer (converted by `make test`)."""

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import settings

# CI (`make test`) runs every property test on the same examples, so a green
# run does not depend on luck; HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("AXOLOTL_DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def student_path():
    from edit_plugin.student import fetch_student

    return fetch_student()


@pytest.fixture(scope="session")
def chat_tokenizer(student_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(student_path)


@pytest.fixture(scope="session")
def plain_tokenizer(chat_tokenizer):
    tokenizer = copy.deepcopy(chat_tokenizer)
    tokenizer.chat_template = None
    return tokenizer


@pytest.fixture
def pairs():
    from edit_plugin.synthetic.arithmetic import generate_pairs

    return generate_pairs(8, seed=3)


# A random 2-layer Llama with the SmolLM2 tokenizer: `axolotl train` in seconds.
@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, chat_tokenizer):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-llama")
    config = LlamaConfig(
        vocab_size=len(chat_tokenizer), hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=chat_tokenizer.bos_token_id, eos_token_id=chat_tokenizer.eos_token_id,
        pad_token_id=chat_tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    chat_tokenizer.save_pretrained(path)
    return path
