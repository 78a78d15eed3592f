"""Boolean expressions in the BBH style: ``not ( True and False ) or not True is``.

The CoT evaluates the two operands A and B, then combines them. Errors:
- ``calculation``: one operand evaluated wrongly (its value flipped);
- ``logic``: the main operator applied as the other one ("and" as "or").
"""

from __future__ import annotations

import random
import sys

from edit_plugin.prompts import COT_OPENING, format_answer_sentence
from edit_plugin.synthetic.base import Item, build_pairs, build_questions, first_wrong

TASK = "boolean_expressions"
DESCRIPTION = "Evaluate the result of a random Boolean expression."
ERROR_TYPES = ("calculation", "logic")
_OPS = {"and": lambda x, y: x and y, "or": lambda x, y: x or y}
_OTHER = {"and": "or", "or": "and"}


def _operand(rng: random.Random) -> tuple[str, str, bool]:
    """(text, evaluation steps, value) of one operand."""
    v, w = rng.choice([True, False]), rng.choice([True, False])
    op = rng.choice(["and", "or"])
    inner = _OPS[op](v, w)
    shape = rng.randrange(3)
    if shape == 0:
        return f"not {v}", f"not {v}", not v
    if shape == 1:
        return f"( {v} {op} {w} )", f"{v} {op} {w}", inner
    return f"not ( {v} {op} {w} )", f"not ( {v} {op} {w} ) = not {inner}", not inner


def write_cot(parts, op: str, flipped: str | None = None, applied_op: str | None = None) -> tuple[str, bool]:
    applied_op = applied_op or op
    lines = [COT_OPENING, 'Remember that brackets come first, then "not", then "and", then "or".']
    values = {}
    for name, (text, steps, value) in zip("AB", parts):
        value = (not value) if flipped == name else value
        values[name] = value
        shown = steps if steps.startswith("not (") else f"{text} = {steps}" if steps != text else text
        lines.append(f"{name} = {shown} = {value}.")
    result = _OPS[applied_op](values["A"], values["B"])
    lines.append(f"So A {op} B = {values['A']} {op} {values['B']} = {result}.")
    lines.append(format_answer_sentence(str(result)))
    return "\n".join(lines), result


def random_item(rng: random.Random) -> Item:
    parts = (_operand(rng), _operand(rng))
    op = rng.choice(["and", "or"])
    chosen, answer = write_cot(parts, op)
    return Item(f"{parts[0][0]} {op} {parts[1][0]} is", str(answer), chosen, data=(parts, op))


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    parts, op = item.data
    if error_type == "logic":
        return first_wrong([write_cot(parts, op, applied_op=_OTHER[op])], item.answer)
    names = ["A", "B"]
    rng.shuffle(names)
    return first_wrong((write_cot(parts, op, flipped=name) for name in names), item.answer)


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude)
