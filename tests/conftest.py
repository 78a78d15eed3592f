"""Shared fixtures: the embedded student's tokenizer (converted by `make test`)."""

from __future__ import annotations

import copy
import os

import pytest

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
