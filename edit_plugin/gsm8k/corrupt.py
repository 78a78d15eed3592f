"""A wrong twin of a GSM8K reference solution: one calculation changed, and
every later calculation that uses a changed value recomputed, so the wrong
CoT stays consistent after its error and reaches a wrong final answer.

Two kinds of error, as the paper's error types:

- ``calculation``: the result of one calculation is wrong (48/2 = 25);
- ``logic``: one operator or operand is wrong and the result follows from it
  (48*2 = 96, or a quantity of the question put in the wrong place).

Later mentions of a changed value are found by value, so a change is made
only where that reading is unambiguous; otherwise the candidate is refused
with one of `SKIP_REASONS`:

- ``unannotated_line``: a line after the change holds numbers but no
  annotation, or the text after it calculates without one ("24 + 2 = 26"):
  a calculation this code cannot recompute;
- ``value_appears_earlier``: a value that changes also appears in the
  question or earlier in the solution, so a later mention could mean either;
- ``values_collide``: a new value equals another value of the problem (or
  two new values are equal), or a later calculation would disagree with its
  stated result;
- ``unwritable_value``: a new value is negative, has more than four
  decimals, or divides by zero;
- ``answer_unchanged``: the final answer is not among the changed values;
- ``no_visible_expression``: (logic) the text does not show the calculation
  as numbers and operators right before its annotation, so its operator or
  operand cannot be edited in place.

Whole problems are refused for ``no_annotation`` (nothing to change) or
``wrong_annotation`` (an annotation that does not evaluate to its result).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from edit_plugin.gsm8k.arithmetic import (NUMBER_RE, OPERATORS, ExpressionError, evaluate, expression_tokens,
                                          format_like, is_writable, replace_values, value_of, values_in)
from edit_plugin.gsm8k.solution import ANNOTATION_RE, Annotation, Solution, annotations_of

ERROR_TYPES = ("calculation", "logic")
SKIP_REASONS = ("no_annotation", "wrong_annotation", "unannotated_line", "value_appears_earlier",
                "values_collide", "unwritable_value", "answer_unchanged", "no_visible_expression")
SWAPPED_OPERATOR = {"+": "-", "-": "+", "*": "/", "/": "*"}
# Wrong results of a calculation error, in units of the result's last decimal.
RESULT_SLIPS = (1, -1, 2, -2, 10, -10)


@dataclass(frozen=True)
class Corruption:
    error_type: str
    index: int      # which annotation (calculation) was changed
    body: str       # the wrong solution, annotated
    answer: str     # its final answer, written like the gold one


@dataclass(frozen=True)
class Edit:
    """One candidate change to one calculation, before it is carried through."""
    index: int
    expression: str                              # the changed calculation's expression
    value: Fraction                              # and the result it states
    visible: tuple[int, int, str] | None = None  # (start, end, text) replaced in the body before it


class Unclean(Exception):
    """This candidate change cannot be made cleanly; ``reason`` is one of `SKIP_REASONS`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def corrupt_solution(question: str, solution: Solution, error_types: tuple[str, ...],
                     rng: random.Random) -> tuple[Corruption | None, Counter]:
    """The first clean corruption, trying ``error_types`` in order and, within
    a type, the calculations and changes in an order drawn from ``rng``; and
    why the candidates that were tried failed."""
    reasons: Counter = Counter()
    annotations = solution.annotations
    if not annotations:
        reasons["no_annotation"] += 1
        return None, reasons
    if not all(a.is_right() for a in annotations):
        reasons["wrong_annotation"] += 1
        return None, reasons
    order = list(range(len(annotations)))
    rng.shuffle(order)
    for error_type in error_types:
        for index in order:
            try:
                _check_position(question, solution.body, annotations[index])
                edits = _edits(error_type, question, solution.body, annotations[index], index, rng)
            except Unclean as unclean:
                reasons[unclean.reason] += 1
                continue
            for edit in edits:
                try:
                    return apply_edit(question, solution, edit, error_type), reasons
                except Unclean as unclean:
                    reasons[unclean.reason] += 1
    return None, reasons


def skip_reason(reasons: Counter) -> str:
    """The reason that stopped most candidates (ties: the first of `SKIP_REASONS`)."""
    return max(SKIP_REASONS, key=lambda reason: (reasons[reason], -SKIP_REASONS.index(reason)))


def _edits(error_type: str, question: str, body: str, annotation: Annotation, index: int,
           rng: random.Random) -> list[Edit]:
    if error_type == "calculation":
        edits = calculation_edits(annotation, index)
    elif error_type == "logic":
        edits = logic_edits(question, body, annotation, index)
    else:
        raise ValueError(f"unknown error type {error_type!r}; expected one of {ERROR_TYPES}")
    rng.shuffle(edits)
    return edits


def calculation_edits(annotation: Annotation, index: int) -> list[Edit]:
    """The same expression stating a slightly wrong result (off by 1, 2 or 10
    in its last decimal)."""
    unit = Fraction(1, 10 ** len(annotation.result.partition(".")[2]))
    wrong = [annotation.value + slip * unit for slip in RESULT_SLIPS]
    return [Edit(index, annotation.expression, value) for value in wrong if value >= 0]


def logic_edits(question: str, body: str, annotation: Annotation, index: int) -> list[Edit]:
    """One operator swapped (+ and -, * and /), or one operand replaced by
    another quantity of the question, in the annotation and in the text that
    shows the calculation."""
    line_start = body.rfind("\n", 0, annotation.start) + 1
    shown = visible_expression(body[line_start:annotation.start], annotation.expression)
    if shown is None:
        raise Unclean("no_visible_expression")
    tokens = expression_tokens(annotation.expression)
    positions = [i for i, token in enumerate(tokens) if token not in ("(", ")")]  # aligned with `shown`
    edits = []
    for (text, start, end), i in zip(shown, positions):
        token = tokens[i]
        if token in OPERATORS:
            if token not in SWAPPED_OPERATOR or not _is_binary(tokens, i):
                continue
            choices = [(SWAPPED_OPERATOR[token], SWAPPED_OPERATOR[token])]
        else:
            choices = [(format_like(q, token), format_like(q, text))
                       for q in sorted(values_in(question) - {value_of(token)})]
        for new_token, new_text in choices:
            expression = "".join(tokens[:i] + [new_token] + tokens[i + 1:])
            try:
                value = evaluate(expression)
            except ExpressionError:
                continue
            edits.append(Edit(index, expression, value, (line_start + start, line_start + end, new_text)))
    return edits


def _is_binary(tokens: list[str], i: int) -> bool:
    return i > 0 and tokens[i - 1] not in OPERATORS and tokens[i - 1] != "("


# --- the visible calculation --------------------------------------------------

_VISIBLE_TOKEN_RE = re.compile(
    rf"(?P<number>{NUMBER_RE.pattern})|(?P<operator>[-+*/×÷–−]|(?<![A-Za-z])x(?![A-Za-z]))"
    r"|(?P<paren>[()])|(?P<skip>\s+|\$)|(?P<other>.)", re.S)
_OPERATOR_OF = {"x": "*", "×": "*", "÷": "/", "–": "-", "−": "-"}


def _without_trailing_equals(text: str) -> str:
    """``text`` without its trailing whitespace, "=" and "$". A loop, not
    ``[\\s=$]*$``: that pattern rescans a whitespace run from each of its
    positions (quadratic)."""
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in "=$"):
        end -= 1
    return text[:end]


def visible_expression(prefix: str, expression: str) -> list[tuple[str, int, int]] | None:
    """Where the text before an annotation shows its expression: (text, start,
    end) in ``prefix`` of each number and operator of ``expression`` (its
    parentheses aside), or None when the text just before the annotation
    (past a trailing "= $") is not exactly that calculation: another word,
    number or operator in between, or a longer calculation."""
    wanted = [token for token in expression_tokens(expression) if token not in ("(", ")")]
    trimmed = _without_trailing_equals(prefix)
    items = [(m.lastgroup, m.group(0), m.start(), m.end()) for m in _VISIBLE_TOKEN_RE.finditer(trimmed)]
    items = [item for item in items if item[0] not in ("skip", "paren")]
    if len(items) < len(wanted):
        return None
    shown = items[len(items) - len(wanted):]
    before = items[len(items) - len(wanted) - 1] if len(items) > len(wanted) else None
    if before is not None and before[0] != "other":
        return None  # the text's calculation is longer than the annotation's
    for want, (kind, text, _, _) in zip(wanted, shown):
        if want in OPERATORS:
            if kind != "operator" or _OPERATOR_OF.get(text, text) != want:
                return None
        elif kind != "number" or value_of(text) != value_of(want):
            return None
    return [(text, start, end) for _, text, start, end in shown]


# --- one change, carried through -------------------------------------------------

# "a + b = c" written without an annotation (annotations masked out first).
# Linear time: each number is read whole (an atomic group), whitespace without
# backtracking, and a match never starts inside a number ("1,1,1,..." would
# otherwise be rescanned from each of its digits); whether a match exists is
# unchanged, as a match inside a number is also one from its first digit.
_WHOLE_NUMBER = rf"(?>{NUMBER_RE.pattern})"
_UNANNOTATED_CALCULATION_RE = re.compile(
    rf"(?<!\d)(?<!\d,){_WHOLE_NUMBER}\s*+[-+*/x×÷]\s*+\$?{_WHOLE_NUMBER}\s*+=\s*+\$?{_WHOLE_NUMBER}")


def _unannotated_after(body: str, after: int) -> bool:
    """A calculation after position ``after`` that no annotation records: a
    later line with numbers but no annotation, or "a + b = c" in plain text."""
    rest = body[after:]
    later_lines = rest.split("\n")[1:]
    if any(re.search(r"\d", line) and "<<" not in line for line in later_lines):
        return True
    return bool(_UNANNOTATED_CALCULATION_RE.search(ANNOTATION_RE.sub("\x00", rest)))


def _earlier_values(question: str, body: str, annotation: Annotation) -> frozenset[Fraction]:
    """Every value written before ``annotation``'s result: in the question,
    the solution before it and its own expression."""
    return values_in(question) | values_in(body[:annotation.start]) | values_in(annotation.expression)


def _check_position(question: str, body: str, annotation: Annotation) -> None:
    """What rules out changing this calculation whatever the change."""
    if _unannotated_after(body, annotation.end):
        raise Unclean("unannotated_line")
    if annotation.value in _earlier_values(question, body, annotation):
        raise Unclean("value_appears_earlier")


def _writable(value: Fraction) -> Fraction:
    if not is_writable(value):
        raise Unclean("unwritable_value")
    return value


def apply_edit(question: str, solution: Solution, edit: Edit, error_type: str) -> Corruption:
    """The wrong solution that ``edit`` leads to, every later calculation
    recomputed; `Unclean` when that cannot be done cleanly."""
    body, annotations = solution.body, solution.annotations
    changed = annotations[edit.index]
    _check_position(question, body, changed)
    if edit.value == changed.value:
        raise Unclean("answer_unchanged")
    changes = {changed.value: _writable(edit.value)}
    for later in annotations[edit.index + 1:]:
        expression = replace_values(later.expression, changes)
        if expression == later.expression:
            continue
        try:
            value = evaluate(expression)
        except ExpressionError:
            raise Unclean("unwritable_value") from None
        if value == later.value:
            continue  # the change cancels out here
        if later.value in _earlier_values(question, body, later):
            raise Unclean("value_appears_earlier")
        changes[later.value] = _writable(value)
    answer_value = value_of(solution.answer)
    originals = values_in(question) | values_in(body) | {answer_value}
    new_values = list(changes.values())
    if len(set(new_values)) < len(new_values) or set(new_values) & originals:
        raise Unclean("values_collide")
    if answer_value not in changes:
        raise Unclean("answer_unchanged")
    before = body[:changed.start]
    if edit.visible:
        start, end, text = edit.visible
        before = before[:start] + text + before[end:]
    wrong_body = (before + f"<<{edit.expression}={format_like(edit.value, changed.result)}>>"
                  + replace_values(body[changed.end:], changes))
    if not is_consistent_after(wrong_body, edit.index):
        raise Unclean("values_collide")  # a value shared by two calculations changed with one of them
    return Corruption(error_type, edit.index, wrong_body, format_like(changes[answer_value], solution.answer))


_STATED_RESULT_RE = re.compile(rf"\s*\$?({NUMBER_RE.pattern})")


def states_its_result(body: str, annotation: Annotation) -> bool:
    """The text right after an annotation states its result."""
    match = _STATED_RESULT_RE.match(body, annotation.end)
    return bool(match) and value_of(match.group(1)) == annotation.value


def is_consistent_after(body: str, index: int) -> bool:
    """Every calculation after the ``index``-th is right and stated as its result."""
    return all(a.is_right() and states_its_result(body, a) for a in annotations_of(body)[index + 1:])
