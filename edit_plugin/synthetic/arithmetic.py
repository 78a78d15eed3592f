"""Multistep arithmetic in the BBH style, with one injected error per wrong CoT.

Question: ``((a o b o c) o (d o e o f)) =``. The correct CoT computes the two
groups A and B with one intermediate step each (multiplication first), then
combines them; it is kept short so that a demo sequence fits in 192 tokens. The wrong CoT is the same text up to one error,
and is consistent after it, so it ends in a wrong answer:

- ``calculation``: a wrong intermediate value (off by a small amount);
- ``order``: a group computed left to right where multiplication should go
  first (only where that changes the value).

A mistake the student makes, made only when asked for (``EXTRA_ERROR_TYPES``):
- ``copy``: a number of a group miscopied from the question (its minus sign
  dropped or added), the group computed as copied.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass

from edit_plugin.synthetic.base import Item, build_pairs, build_questions, first_wrong
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "multistep_arithmetic"
ANSWER_KIND = "number"  # how `scoring.verdict` reads its answers
DESCRIPTION = "Solve multi-step arithmetic problems."
ERROR_TYPES = ("calculation", "order")
EXTRA_ERROR_TYPES = ("copy",)
_OPS = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y}


@dataclass(frozen=True)
class Group:
    operands: tuple[int, int, int]
    ops: tuple[str, str]

    def text(self) -> str:
        a, b, c = self.operands
        return f"({a} {self.ops[0]} {b} {self.ops[1]} {c})"

    def precedence_matters(self) -> bool:
        return self.ops[0] in "+-" and self.ops[1] == "*"

    def steps(self, left_to_right: bool = False) -> tuple[str, int]:
        """The intermediate expression and the value of the group."""
        a, b, c = self.operands
        o1, o2 = self.ops
        if self.precedence_matters() and not left_to_right:
            inner = _OPS[o2](b, c)
            return f"{a} {o1} {inner}", _OPS[o1](a, inner)
        inner = _OPS[o1](a, b)
        return f"{inner} {o2} {c}", _OPS[o2](inner, c)


@dataclass(frozen=True)
class Question:
    left: Group
    op: str
    right: Group

    def text(self) -> str:
        return f"({self.left.text()} {self.op} {self.right.text()}) ="

    def answer(self) -> int:
        return _OPS[self.op](self.left.steps()[1], self.right.steps()[1])


def _random_group(rng: random.Random, hard: bool = False) -> Group:
    bound = 99 if hard else 9
    operands = tuple(rng.choice([n for n in range(-bound, bound + 1) if n != 0]) for _ in range(3))
    ops = (rng.choice("+-*"), rng.choice("+-*"))
    return Group(operands, ops)  # type: ignore[arg-type]


def random_question(rng: random.Random, hard: bool = False) -> Question:
    """``hard``: operands up to 99 in size instead of 9 (larger intermediate values)."""
    return Question(_random_group(rng, hard), rng.choice("+-*"), _random_group(rng, hard))


def write_cot(
    question: Question,
    wrong_values: dict[str, int] | None = None,
    left_to_right: set[str] | None = None,
    copied: dict[str, Group] | None = None,
) -> tuple[str, int]:
    """CoT text and its final answer; optional errors make it consistently
    wrong (``copied``: a group as miscopied, name -> Group)."""
    wrong_values = wrong_values or {}
    left_to_right = left_to_right or set()
    copied = copied or {}
    lines = [COT_OPENING]
    values = {}
    for name, group in (("A", question.left), ("B", question.right)):
        group = copied.get(name, group)
        step, value = group.steps(left_to_right=name in left_to_right)
        value = wrong_values.get(name, value)
        values[name] = value
        lines.append(f"{name} = {group.text()} = {step} = {value}.")
    result = _OPS[question.op](values["A"], values["B"])
    lines.append(
        f"So A {question.op} B = {values['A']} {question.op} {values['B']} = {result}."
    )
    lines.append(format_answer_sentence(str(result)))
    return "\n".join(lines), result


def random_item(rng: random.Random, hard: bool = False) -> Item:
    question = random_question(rng, hard)
    chosen, answer = write_cot(question)
    return Item(question.text(), str(answer), chosen, data=question)


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    """A wrong CoT with one error of ``error_type``, or None if impossible here."""
    names = ["A", "B"]
    rng.shuffle(names)
    if error_type == "copy":
        return first_wrong(_miscopied_cots(item.data, names, rng), item.answer)
    return first_wrong(_wrong_cots(item.data, error_type, names, rng), item.answer)


def _miscopied_cots(question: Question, names: list[str], rng: random.Random):
    """One number of a group copied with its sign flipped, the group computed as copied."""
    for name in names:
        group = question.left if name == "A" else question.right
        at = rng.randrange(3)
        operands = tuple(-x if i == at else x for i, x in enumerate(group.operands))
        yield write_cot(question, copied={name: Group(operands, group.ops)})  # type: ignore[arg-type]


def _wrong_cots(question: Question, error_type: str, names: list[str], rng: random.Random):
    for name in names:
        group = question.left if name == "A" else question.right
        if error_type == "order":
            if group.precedence_matters():
                yield write_cot(question, left_to_right={name})
        else:
            delta = rng.choice([-10, -2, -1, 1, 2, 10])
            yield write_cot(question, wrong_values={name: group.steps()[1] + delta})


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    """``n`` dual-CoT records: correct CoT (chosen) and a one-error twin (rejected)."""
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    """Held-out questions with gold answers, disjoint from ``exclude`` prompts."""
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)


_GROUP = r"\((-?\d+) ([+*-]) (-?\d+) ([+*-]) (-?\d+)\)"
_QUESTION_RE = re.compile(rf"\({_GROUP} ([+*-]) {_GROUP}\) =")


def parse_question(prompt: str) -> Question | None:
    """The question inside a prompt written by `generate_pairs`/`generate_questions`."""
    match = _QUESTION_RE.search(prompt)
    if not match:
        return None
    g = match.groups()
    left = Group((int(g[0]), int(g[2]), int(g[4])), (g[1], g[3]))
    right = Group((int(g[6]), int(g[8]), int(g[10])), (g[7], g[9]))
    return Question(left, g[5], right)


def intermediate_values_right(prompt: str, completion: str) -> float:
    """Share of the two intermediate results (A and B) a completion gets right:
    a finer view of reasoning than the final answer alone."""
    question = parse_question(prompt)
    if question is None:
        return 0.0
    right = 0
    for name, group in (("A", question.left), ("B", question.right)):
        match = re.search(rf"^{name} = .* = (-?\d+)\.\s*$", completion, re.MULTILINE)
        right += bool(match) and int(match.group(1)) == group.steps()[1]
    return right / 2
