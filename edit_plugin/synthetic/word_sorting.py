"""Word sorting in the BBH style: "Sort the following words alphabetically:
List: oven costume yard".

The CoT writes each word's first letter with its position in the alphabet,
then the words in that order (words in a question start with different
letters). Errors:
- ``knowledge``: a wrong alphabet position for one letter, the order
  following from it;
- ``logic``: two neighbouring words put in the wrong order.

A mistake the student makes, made only when asked for (``EXTRA_ERROR_TYPES``):
- ``omission``: a word left out of the list (and so of the sorted answer).
"""

from __future__ import annotations

import random
import sys

from edit_plugin.synthetic.base import Item, build_pairs, build_questions
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "word_sorting"
ANSWER_KIND = "words"  # how `scoring.verdict` reads its answers
BBH_TASK = "word_sorting"
_INSTRUCTION = "Sort the following words alphabetically: List:"
DESCRIPTION = "Sort a list of words."
ERROR_TYPES = ("knowledge", "logic")
EXTRA_ERROR_TYPES = ("omission",)
WORDS = ("apple anchor bridge butter candle costume dolphin desert eagle engine falcon forest garden "
         "glacier harbor hammer island ivory jacket jungle kettle kingdom ladder lemon marble meadow "
         "needle nectar orbit oven pepper planet quartz quiver river rocket saddle silver tiger timber "
         "umbrella uniform valley velvet wagon window xenon yard yellow zebra zephyr").split()


def write_cot(words: list[str], positions: dict[str, int], swap_at: int | None = None) -> tuple[str, str]:
    lines = [COT_OPENING, "The first letters and their positions in the alphabet: "
             + ", ".join(f"{w}: {w[0]} ({positions[w]})" for w in words) + "."]
    order = sorted(words, key=lambda w: positions[w])
    if swap_at is not None:
        order[swap_at], order[swap_at + 1] = order[swap_at + 1], order[swap_at]
    lines.append("Ordered by these positions: " + " < ".join(f"{w} ({positions[w]})" for w in order) + ".")
    answer = " ".join(order)
    lines.append(format_answer_sentence(answer))
    return "\n".join(lines), answer


def _true_positions(words):
    return {w: ord(w[0]) - ord("a") + 1 for w in words}


def random_item(rng: random.Random, hard: bool = False) -> Item:
    """``hard``: 9-14 words instead of 3-6 (still distinct first letters)."""
    by_letter: dict[str, list[str]] = {}
    for word in WORDS:
        by_letter.setdefault(word[0], []).append(word)
    letters = rng.sample(sorted(by_letter), rng.randint(9, 14) if hard else rng.randint(3, 6))
    return _item([rng.choice(by_letter[letter]) for letter in letters])


def item_from_question(text: str) -> Item | None:
    """A BBH word_sorting question whose words start with distinct letters a-z
    (the CoT orders by first letter only; others it cannot express)."""
    if not text.startswith(_INSTRUCTION):
        return None
    words = text[len(_INSTRUCTION):].split()
    firsts = [w[0] for w in words]
    if len(words) < 2 or len(set(firsts)) != len(firsts) or not all("a" <= f <= "z" for f in firsts):
        return None
    return _item(words)


def _item(words: list[str]) -> Item:
    chosen, answer = write_cot(words, _true_positions(words))
    return Item(f"{_INSTRUCTION} {' '.join(words)}", answer, chosen, data=words)


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    words = item.data
    if error_type == "omission":
        left_out = rng.randrange(len(words))
        text, answer = write_cot(words[:left_out] + words[left_out + 1:], _true_positions(words))
    elif error_type == "logic":
        text, answer = write_cot(words, _true_positions(words), swap_at=rng.randrange(len(words) - 1))
    else:
        positions = _true_positions(words)
        word = rng.choice(words)
        positions[word] = min(26, max(1, positions[word] + rng.choice([-9, -5, 5, 9])))
        text, answer = write_cot(words, positions)
    return (text, answer) if answer != item.answer else None


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)
