"""Boolean expressions in the BBH style: ``not ( True and False ) or not True is``.

The CoT evaluates the two operands A and B (three, A, B and C, in the hard
variant), then combines them, one operator per step. Errors:
- ``calculation``: one operand evaluated wrongly (its value flipped);
- ``logic``: an operator applied as the other one ("and" as "or").

Mistakes the student makes, made only when asked for (``EXTRA_ERROR_TYPES``):
- ``copy``: a literal of an operand miscopied from the question (True as
  False), the operand evaluated as copied;
- ``grouping``: brackets or precedence misread: a "not" before brackets
  applied to their first value only ("not ( True and False )" read as
  "not True and False"), or, with two operators, "or" applied before "and"
  (left to right). The error shows in its line and carries into the
  combination.
"""

from __future__ import annotations

import random
import re
import sys

from edit_plugin.synthetic.base import Item, build_pairs, build_questions, first_wrong
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "boolean_expressions"
ANSWER_KIND = "bool"  # how `scoring.verdict` reads its answers
DESCRIPTION = "Evaluate the result of a random Boolean expression."
ERROR_TYPES = ("calculation", "logic")
EXTRA_ERROR_TYPES = ("copy", "grouping")
_OPS = {"and": lambda x, y: x and y, "or": lambda x, y: x or y}
_OTHER = {"and": "or", "or": "and"}
_NAMES = "ABC"


def _operand(rng: random.Random) -> tuple[str, str, bool]:
    """(text, evaluation steps, value) of one operand."""
    v, w = rng.choice([True, False]), rng.choice([True, False])
    op = rng.choice(["and", "or"])
    shape = rng.randrange(3)
    return _make_operand(v, w, op, shape)


def _make_operand(v: bool, w: bool, op: str, shape: int) -> tuple[str, str, bool]:
    """Shape 0: ``not v``; 1: ``( v op w )``; 2: ``not ( v op w )``."""
    inner = _OPS[op](v, w)
    if shape == 0:
        return f"not {v}", f"not {v}", not v
    if shape == 1:
        return f"( {v} {op} {w} )", f"{v} {op} {w}", inner
    return f"not ( {v} {op} {w} )", f"not ( {v} {op} {w} ) = not {inner}", not inner


def _parse_operand(text: str) -> tuple[bool, bool, str, int]:
    """(v, w, op, shape) of an operand's text (`_make_operand`'s arguments)."""
    tokens = text.split()
    values = [t == "True" for t in tokens if t in ("True", "False")]
    op = next((t for t in tokens if t in _OPS), "and")
    shape = 0 if "(" not in tokens else 2 if tokens[0] == "not" else 1
    return values[0], values[-1], op, shape


def _reductions(values: list[bool], ops: list[str], wrong_at: int | None,
                left_to_right: bool = False) -> list[str]:
    """The chain ``v1 op v2 ... = ... = result``, one operator applied per
    step: "and" before "or", left to right (Python's precedence). The
    operator at ``wrong_at`` (its position in ``ops``) is applied as the other
    one; ``left_to_right``: every operator in turn, "and" first or not."""
    terms: list = [value for pair in zip(values, ops) for value in pair] + [values[-1]]
    positions = list(range(len(ops)))  # original position of each remaining operator
    chain = [" ".join(str(t) for t in terms)]
    while len(terms) > 1:
        ops_left = terms[1::2]
        k = ops_left.index("and") if "and" in ops_left and not left_to_right else 0
        op = ops_left[k]
        applied = _OTHER[op] if positions[k] == wrong_at else op
        terms[2 * k: 2 * k + 3] = [_OPS[applied](terms[2 * k], terms[2 * k + 2])]
        del positions[k]
        chain.append(" ".join(str(t) for t in terms))
    return chain


def _ops(op) -> list[str]:
    return [op] if isinstance(op, str) else list(op)


def write_cot(parts, op, flipped: str | None = None, wrong_at: int | None = None,
              lines_of: dict[str, tuple[str, bool]] | None = None,
              left_to_right: bool = False) -> tuple[str, bool]:
    """``op``: the operator between two operands, or a tuple of them (one
    fewer than ``parts``). Errors: operand ``flipped`` evaluated wrongly, or
    the operator at position ``wrong_at`` applied as the other one, or an
    operand's (evaluation shown, value) replaced (``lines_of``: name ->
    them), or the operators applied ``left_to_right``."""
    ops = _ops(op)
    lines = [COT_OPENING, 'Remember that brackets come first, then "not", then "and", then "or".']
    names = _NAMES[: len(parts)]
    values = []
    for name, (text, steps, value) in zip(names, parts):
        value = (not value) if flipped == name else value
        shown = _shown((text, steps, value))
        if lines_of and name in lines_of:
            shown, value = lines_of[name]
        values.append(value)
        lines.append(f"{name} = {shown} = {value}.")
    chain = _reductions(values, ops, wrong_at, left_to_right)
    expression = " ".join(f"{name} {o}" for name, o in zip(names, ops)) + f" {names[-1]}"
    lines.append(f"So {expression} = {' = '.join(chain)}.")
    result = chain[-1] == "True"
    lines.append(format_answer_sentence(str(result)))
    return "\n".join(lines), result


def random_item(rng: random.Random, hard: bool = False) -> Item:
    """``hard``: three operands joined by two operators (two otherwise)."""
    if hard:
        parts = (_operand(rng), _operand(rng), _operand(rng))
        op = (rng.choice(["and", "or"]), rng.choice(["and", "or"]))
    else:
        parts = (_operand(rng), _operand(rng))
        op = rng.choice(["and", "or"])
    question = " ".join(f"{part[0]} {o}" for part, o in zip(parts, _ops(op))) + f" {parts[-1][0]} is"
    chosen, answer = write_cot(parts, op)
    return Item(question, str(answer), chosen, data=(parts, op))


def _shown(part: tuple[str, str, bool]) -> str:
    """How the CoT shows an operand's evaluation (before "= value")."""
    text, steps, _ = part
    return steps if steps.startswith("not (") else f"{text} = {steps}" if steps != text else text


def _miscopies(part: tuple[str, str, bool]) -> list[tuple[str, bool]]:
    """(evaluation shown, value) of the operand with one literal miscopied,
    for each literal it has."""
    v, w, op, shape = _parse_operand(part[0])
    variants = [(not v, w)] + ([(v, not w)] if shape else [])
    return [(_shown(miscopied), miscopied[2]) for miscopied in (_make_operand(x, y, op, shape) for x, y in variants)]


def _dropped_brackets(part: tuple[str, str, bool]) -> tuple[str, bool] | None:
    """``not ( v op w )`` evaluated as ``not v op w``: the "not" applied to
    the first value only (None for an operand without that shape)."""
    v, w, op, shape = _parse_operand(part[0])
    if shape != 2:
        return None
    value = _OPS[op](not v, w)
    return f"{part[0]} = not {v} {op} {w} = {not v} {op} {w}", value


def _student_mistakes(item: Item, error_type: str, rng: random.Random):
    """Lazy (CoT, answer) candidates of a ``copy`` or ``grouping`` mistake, in a random order."""
    parts, op = item.data
    names = list(_NAMES[: len(parts)])
    if error_type == "copy":
        candidates = [{name: line} for name, part in zip(names, parts) for line in _miscopies(part)]
        rng.shuffle(candidates)
        return (write_cot(parts, op, lines_of=lines) for lines in candidates)
    candidates = [{"lines_of": {name: line}} for name, part in zip(names, parts)
                  if (line := _dropped_brackets(part)) is not None]
    if len(_ops(op)) > 1:
        candidates.append({"left_to_right": True})
    rng.shuffle(candidates)
    return (write_cot(parts, op, **kwargs) for kwargs in candidates)


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    parts, op = item.data
    if error_type in EXTRA_ERROR_TYPES:
        return first_wrong(_student_mistakes(item, error_type, rng), item.answer)
    if error_type == "logic":
        positions = list(range(len(_ops(op))))
        rng.shuffle(positions)  # draws nothing for a single operator
        return first_wrong((write_cot(parts, op, wrong_at=k) for k in positions), item.answer)
    names = list(_NAMES[: len(parts)])
    rng.shuffle(names)
    return first_wrong((write_cot(parts, op, flipped=name) for name in names), item.answer)


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)


_OPERAND_RE = re.compile(r"not \( \w+ \w+ \w+ \)|\( \w+ \w+ \w+ \)|not \w+")
_INNER_RE = re.compile(r"(not )?\( (\w+) (and|or) (\w+) \)")
# Counted by enumerating every operand shape (tests/test_splits.py checks it).
DISTINCT_QUESTIONS = {False: 210, True: 2590}


def canonical_question(question: str) -> str:
    """The question with operand order dropped: "and" and "or" commute, and
    "and" binds first, so the and-chains are sorted, then the or-terms."""
    def operand(text: str) -> str:
        inner = _INNER_RE.fullmatch(text)
        if not inner:
            return text
        left, right = sorted((inner.group(2), inner.group(4)))
        return f"{inner.group(1) or ''}( {left} {inner.group(3)} {right} )"

    body = question.removesuffix(" is")
    operands = [operand(t) for t in _OPERAND_RE.findall(body)]
    connectives = [w for w in _OPERAND_RE.sub(" ", body).split() if w in _OPS]
    groups = [[operands[0]]]
    for connective, term in zip(connectives, operands[1:]):
        if connective == "and":
            groups[-1].append(term)
        else:
            groups.append([term])
    return " or ".join(sorted(" and ".join(sorted(group)) for group in groups))
