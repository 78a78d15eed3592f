"""Object counting in the BBH style: "I have a plum, two violins, and a goat.
How many fruits do I have?"

The CoT lists the objects of the asked category with their quantities, then
adds them. Errors:
- ``knowledge``: an object of another category counted as one of them (a
  wrong fact about the object);
- ``calculation``: a wrong sum.

Mistakes the student makes, made only when asked for (``EXTRA_ERROR_TYPES``):
- ``omission``: an object of the category left out of the list, the sum
  adding what is listed;
- ``copy``: an object's quantity miscopied from the question, the sum
  adding the miscopied one.
"""

from __future__ import annotations

import random
import sys

from edit_plugin.synthetic.base import Item, build_pairs, build_questions
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "object_counting"
ANSWER_KIND = "number"  # how `scoring.verdict` reads its answers
DESCRIPTION = "Questions that involve enumerating objects and asking the model to count them."
ERROR_TYPES = ("knowledge", "calculation")
EXTRA_ERROR_TYPES = ("omission", "copy")
CATEGORIES = {
    "fruits": ["apple", "banana", "plum", "grape", "orange", "peach", "nectarine", "raspberry"],
    "vegetables": ["carrot", "onion", "potato", "cabbage", "yam", "beet", "radish", "lettuce head"],
    "musical instruments": ["piano", "violin", "flute", "drum", "trumpet", "clarinet", "accordion", "trombone"],
    "animals": ["goat", "rabbit", "snake", "cow", "pig", "donkey", "duck", "mouse"],
}
_IRREGULAR = {"raspberry": "raspberries", "potato": "potatoes", "radish": "radishes", "mouse": "mice",
              "peach": "peaches"}
_NUMBER_WORDS = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
# (low, high) ranges of: objects of the category, the quantity of each, distractors, the quantity of each.
_SIZES = {False: ((2, 4), (1, 4), (1, 3), (1, 3)), True: ((5, 8), (1, 6), (3, 6), (1, 6))}


def _phrase(noun: str, count: int) -> str:
    if count == 1:
        return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    return f"{_NUMBER_WORDS[count]} {_IRREGULAR.get(noun, noun + 's')}"


def write_cot(category: str, counted: list[tuple[str, int]], wrong_sum: int | None = None) -> tuple[str, int]:
    lines = [COT_OPENING, f"We first identify the {category} on the list and include their quantity in parentheses:"]
    lines += [f"- {noun} ({count})" for noun, count in counted]
    total = sum(count for _, count in counted) if wrong_sum is None else wrong_sum
    lines.append(f"Now, let's add the numbers in parentheses: {' + '.join(str(c) for _, c in counted)} = {total}.")
    lines.append(format_answer_sentence(str(total)))
    return "\n".join(lines), total


def random_item(rng: random.Random, hard: bool = False) -> Item:
    """``hard``: more objects, more distractors and larger quantities (a longer list to add)."""
    n_objects, quantity, n_distractors, extra_quantity = _SIZES[hard]
    category = rng.choice(sorted(CATEGORIES))
    others = [n for c in sorted(CATEGORIES) if c != category for n in CATEGORIES[c]]
    objects = [(noun, rng.randint(*quantity)) for noun in rng.sample(CATEGORIES[category], rng.randint(*n_objects))]
    distractors = [(noun, rng.randint(*extra_quantity)) for noun in rng.sample(others, rng.randint(*n_distractors))]
    listed = objects + distractors
    rng.shuffle(listed)
    phrases = [_phrase(noun, count) for noun, count in listed]
    question = f"I have {', '.join(phrases[:-1])}, and {phrases[-1]}. How many {category} do I have?"
    counted = [pair for pair in listed if pair in objects]
    chosen, answer = write_cot(category, counted)
    return Item(question, str(answer), chosen, data=(category, listed, counted, distractors))


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    category, listed, counted, distractors = item.data
    if error_type == "knowledge":
        intruder = rng.choice(distractors)
        # Keep the order of the question: the intruder appears where it was listed.
        wrong_counted = [pair for pair in listed if pair in counted or pair == intruder]
        text, total = write_cot(category, wrong_counted)
    elif error_type == "omission":
        left_out = rng.randrange(len(counted))
        text, total = write_cot(category, counted[:left_out] + counted[left_out + 1:])
    elif error_type == "copy":
        at = rng.randrange(len(counted))
        noun, count = counted[at]
        miscopied = rng.choice([count + d for d in (-2, -1, 1, 2) if count + d >= 1])
        text, total = write_cot(category, counted[:at] + [(noun, miscopied)] + counted[at + 1:])
    else:
        text, total = write_cot(category, counted, wrong_sum=int(item.answer) + rng.choice([-2, -1, 1, 2]))
    return (text, str(total)) if str(total) != item.answer and total > 0 else None


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)


def canonical_question(question: str) -> str:
    """The question with the order of its listed objects dropped."""
    listed, _, asked = question.partition(". How many ")
    phrases = listed.removeprefix("I have ").replace(", and ", ", ").split(", ")
    return ", ".join(sorted(phrases)) + " | " + asked
