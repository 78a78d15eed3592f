"""Dyck languages in the BBH style: close the open brackets of a sequence.

The CoT tracks the stack token by token, then closes it from the top.
Errors:
- ``logic``: the stack closed from the bottom (wrong order);
- ``knowledge``: a wrong closing bracket for one kind of bracket.
"""

from __future__ import annotations

import random
import sys

from edit_plugin.synthetic.base import Item, build_pairs, build_questions
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "dyck_languages"
ANSWER_KIND = "dyck"  # how `scoring.verdict` reads its answers
BBH_TASK = "dyck_languages"
_INSTRUCTION = "Complete the rest of the sequence, making sure that the parentheses are closed properly."
DESCRIPTION = "Correctly close a Dyck-n word."
ERROR_TYPES = ("logic", "knowledge")
PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_WRONG = {"(": "]", "[": ")", "{": ">", "<": "}"}


def _sequence(rng: random.Random, hard: bool = False) -> list[str]:
    """A prefix with some closed groups that leaves 1-4 brackets open
    (``hard``: a longer prefix that leaves 4-7 open)."""
    tokens, stack = [], []
    target_open = rng.randint(4, 7) if hard else rng.randint(1, 4)
    for _ in range(rng.randint(20, 30) if hard else rng.randint(4, 10)):
        if stack and rng.random() < 0.4:
            tokens.append(PAIRS[stack.pop()])
        else:
            opener = rng.choice(sorted(PAIRS))
            stack.append(opener)
            tokens.append(opener)
    while len(stack) < target_open:
        opener = rng.choice(sorted(PAIRS))
        stack.append(opener)
        tokens.append(opener)
    while len(stack) > target_open:
        tokens.append(PAIRS[stack.pop()])
    return tokens


def open_brackets(tokens: list[str]) -> list[str]:
    """The stack left open by ``tokens``, bottom first."""
    stack: list[str] = []
    for token in tokens:
        if token in PAIRS:
            stack.append(token)
        else:
            stack.pop()
    return stack


def write_cot(tokens: list[str], bottom_first: bool = False, wrong_for: str | None = None) -> tuple[str, str]:
    lines = [COT_OPENING, "We process each input one by one and keep track of the stack.", "0: empty stack"]
    stack: list[str] = []
    for i, token in enumerate(tokens, 1):
        if token in PAIRS:
            stack.append(token)
        else:
            stack.pop()
        lines.append(f"{i}: {token} ; stack: {' '.join(stack) if stack else 'empty'}")
    lines.append(f'Now, we have reached the end. The final stack is "{" ".join(stack)}".')
    to_close = stack if bottom_first else list(reversed(stack))
    closers = [_WRONG[b] if b == wrong_for else PAIRS[b] for b in to_close]
    lines.append("We pop the stack " + ("from the bottom" if bottom_first else "from the top")
                 + ", closing " + ", ".join(f'"{b}" with "{c}"' for b, c in zip(to_close, closers)) + ".")
    answer = " ".join(closers)
    lines.append(format_answer_sentence(answer))
    return "\n".join(lines), answer


def random_item(rng: random.Random, hard: bool = False) -> Item:
    return _item(_sequence(rng, hard))


def item_from_question(text: str) -> Item | None:
    """A BBH dyck_languages question: any prefix of brackets that leaves some open."""
    if not text.startswith(_INSTRUCTION) or "Input:" not in text:
        return None
    tokens = text.split("Input:", 1)[1].split()
    stack: list[str] = []
    for token in tokens:
        if token in PAIRS:
            stack.append(token)
        elif not stack or PAIRS.get(stack.pop()) != token:
            return None  # not a bracket, or a closer that does not match
    return _item(tokens) if stack else None


def _item(tokens: list[str]) -> Item:
    chosen, answer = write_cot(tokens)
    return Item(f"{_INSTRUCTION} Input: {' '.join(tokens)}", answer, chosen, data=tokens)


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    tokens = item.data
    if error_type == "logic":
        text, answer = write_cot(tokens, bottom_first=True)
    else:
        text, answer = write_cot(tokens, wrong_for=rng.choice(open_brackets(tokens)))
    return (text, answer) if answer != item.answer else None


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)
