"""Exact arithmetic on the numbers of GSM8K solutions: reading number tokens
from text, evaluating a calculator annotation's expression, and writing a
value back in the style of the number it replaces.

Values are `Fraction`s, so ``0.1 + 0.2`` is exactly ``0.3`` and a recomputed
result compares equal to the stated one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

# A number as GSM8K writes it: "1,200", "0.5", ".5", "18" (never a sign: a
# minus is an operator in "12-5"). A trailing period ("18.") is a sentence end.
NUMBER_RE = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?|\.\d+")
# At most this many decimals in a value written back: 1/3 is no value a
# grade-school solution writes out.
MAX_DECIMALS = 4


class ExpressionError(ValueError):
    """An annotation's expression is not plain arithmetic."""


@lru_cache(maxsize=65536)  # the same few tokens are read again for every candidate change
def value_of(token: str) -> Fraction:
    """The value of a number token: "1,200" -> 1200, ".5" -> 1/2."""
    return Fraction(token.replace(",", ""))


def number_tokens(text: str) -> Iterator[re.Match]:
    """Every number token of ``text``, left to right."""
    return NUMBER_RE.finditer(text)


@lru_cache(maxsize=4096)
def values_in(text: str) -> frozenset[Fraction]:
    return frozenset(value_of(m.group(0)) for m in number_tokens(text))


def decimals_needed(value: Fraction) -> int | None:
    """How many decimals write ``value`` exactly; None when no finite number
    up to `MAX_DECIMALS` does (1/3, or 1/3125 with five)."""
    for decimals in range(MAX_DECIMALS + 1):
        if (value * 10 ** decimals).denominator == 1:
            return decimals
    return None


def is_writable(value: Fraction) -> bool:
    """A value a solution can state: not negative, at most `MAX_DECIMALS` decimals."""
    return value >= 0 and decimals_needed(value) is not None


def format_like(value: Fraction, like: str) -> str:
    """``value`` written as ``like`` is: thousands separators if it has them;
    its padding of decimals where it has some, as money ("0.50" -> "0.60")
    or a whole number written with decimals ("12.00" -> "13.00", "10.0" ->
    "11.0"), otherwise as few decimals as the value needs (".9" -> "90");
    no leading zero if it has none (".5" -> ".7")."""
    needed = decimals_needed(value)
    if needed is None:
        raise ValueError(f"{value} has no exact decimal form of at most {MAX_DECIMALS} decimals")
    fraction = like.partition(".")[2]
    padded = len(fraction) == 2 or (fraction and set(fraction) == {"0"})
    decimals = max(needed, len(fraction) if padded else 0)
    exact = Decimal(value.numerator) / Decimal(value.denominator)  # terminates: `decimals_needed`
    text = f"{exact:,.{decimals}f}" if "," in like else f"{exact:.{decimals}f}"
    if like.startswith(".") and text.startswith("0."):
        text = text[1:]
    return text


def replace_values(text: str, changes: dict[Fraction, Fraction]) -> str:
    """``text`` with every number token whose value is a key of ``changes``
    replaced by the new value, written in the token's own style."""
    def swap(match: re.Match) -> str:
        old = value_of(match.group(0))
        return format_like(changes[old], match.group(0)) if old in changes else match.group(0)

    return NUMBER_RE.sub(swap, text) if changes else text


# --- expressions ------------------------------------------------------------

# "//" (floor division) and a unary "+" occur in a few annotations; Python's
# eval, which GSM8K's calculator annotations follow, accepts them.
OPERATORS = ("+", "-", "*", "/", "//")
_EXPRESSION_TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|(//|[-+*/()]))")


def expression_tokens(expression: str) -> list[str]:
    """Numbers, `OPERATORS` and parentheses of an annotation's expression."""
    tokens, position = [], 0
    expression = expression.rstrip()
    while position < len(expression):
        match = _EXPRESSION_TOKEN_RE.match(expression, position)
        if not match:
            raise ExpressionError(f"not plain arithmetic: {expression!r} at {expression[position:]!r}")
        tokens.append(match.group(1) or match.group(2))
        position = match.end()
    if not tokens:
        raise ExpressionError("empty expression")
    return tokens


def evaluate(expression: str) -> Fraction:
    """The exact value of an expression of numbers, `OPERATORS` and
    parentheses, with the usual precedence; unary minus and plus allowed."""
    tokens = expression_tokens(expression)
    value, position = _sum(tokens, 0)
    if position != len(tokens):
        raise ExpressionError(f"unexpected {tokens[position]!r} in {expression!r}")
    return value


def _sum(tokens: list[str], position: int) -> tuple[Fraction, int]:
    value, position = _product(tokens, position)
    while position < len(tokens) and tokens[position] in ("+", "-"):
        operator = tokens[position]
        right, position = _product(tokens, position + 1)
        value = value + right if operator == "+" else value - right
    return value, position


def _product(tokens: list[str], position: int) -> tuple[Fraction, int]:
    value, position = _factor(tokens, position)
    while position < len(tokens) and tokens[position] in ("*", "/", "//"):
        operator = tokens[position]
        right, position = _factor(tokens, position + 1)
        if operator != "*" and right == 0:
            raise ExpressionError("division by zero")
        if operator == "*":
            value = value * right
        else:
            value = value / right if operator == "/" else Fraction(math.floor(value / right))
    return value, position


def _factor(tokens: list[str], position: int) -> tuple[Fraction, int]:
    if position >= len(tokens):
        raise ExpressionError("expression ends early")
    token = tokens[position]
    if token in ("-", "+"):
        value, position = _factor(tokens, position + 1)
        return (-value if token == "-" else value), position
    if token == "(":
        value, position = _sum(tokens, position + 1)
        if position >= len(tokens) or tokens[position] != ")":
            raise ExpressionError("unbalanced parentheses")
        return value, position + 1
    if token in OPERATORS or token == ")":
        raise ExpressionError(f"unexpected {token!r}")
    return value_of(token), position + 1
