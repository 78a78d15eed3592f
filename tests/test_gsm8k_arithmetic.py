"""Exact arithmetic on GSM8K numbers: tokens, expressions, writing a value
back in the style of the number it replaces."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edit_plugin.gsm8k.arithmetic import (ExpressionError, evaluate, format_like, is_writable, replace_values,
                                          value_of, values_in)


@pytest.mark.parametrize("text, values", [
    ("He paid $1,200 for 3 chairs.", {1200, 3}),
    ("It weighs .5 kg, then 0.25 kg.", {Fraction(1, 2), Fraction(1, 4)}),
    ("She is 18.", {18}),              # a sentence end is no decimal point
    ("At 2:51 AM, 12-5 = 7", {2, 51, 12, 5, 7}),  # a minus is an operator, never a sign
    ("no numbers here", set()),
])
def test_values_in_text(text, values):
    assert values_in(text) == set(map(Fraction, values))


# Expressions built together with their exact value: the evaluator must agree.
_leaves = st.integers(min_value=0, max_value=999).map(lambda n: (str(n), Fraction(n))) | \
    st.integers(min_value=1, max_value=99).map(lambda n: (f".{n:02d}", Fraction(n, 100)))


def _combine(children):
    def join(pair_and_op):
        (left, lv), (right, rv), op = pair_and_op
        if op == "/" and rv == 0:
            return f"({left}+{right})", lv + rv
        value = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else None}[op]
        return f"({left}{op}{right})", value

    return st.tuples(children, children, st.sampled_from("+-*/")).map(join)


@settings(max_examples=200, deadline=None)
@given(st.recursive(_leaves, _combine, max_leaves=8))
def test_evaluate_agrees_with_the_exact_value(expression_and_value):
    expression, value = expression_and_value
    assert evaluate(expression) == value


@pytest.mark.parametrize("expression, value", [
    ("48/2", 24), ("100-50-30-15", 5), ("2*20*.01", Fraction(2, 5)), ("3 * (4 + 5)", 27),
    ("12-3*2", 6), ("-5+8", 3), ("+30+46", 76), ("560//10", 56), ("7//2", 3), ("3*+6", 18),
])
def test_evaluate_follows_precedence_and_gsm8k_forms(expression, value):
    assert evaluate(expression) == value


@pytest.mark.parametrize("expression", ["2^3", "4/0", "(1+2", "1+", "x*2", ""])
def test_what_is_not_plain_arithmetic_is_an_error(expression):
    with pytest.raises(ExpressionError):
        evaluate(expression)


@pytest.mark.parametrize("value, like, written", [
    (Fraction(13), "12", "13"), (Fraction(13), "12.00", "13.00"), (Fraction(27, 2), "12.00", "13.50"),
    (Fraction(7, 10), ".5", ".7"), (Fraction(17, 10), ".5", "1.7"), (Fraction(12345), "1,000", "12,345"),
    (Fraction(1, 4), "3", "0.25"), (Fraction(0), "5", "0"), (Fraction(90), ".9", "90"),
    (Fraction(3, 5), "0.50", "0.60"), (Fraction(11), "10.0", "11.0"), (Fraction(2), "1.5", "2"),
])
def test_a_value_is_written_like_the_number_it_replaces(value, like, written):
    assert format_like(value, like) == written and value_of(written) == value


def test_only_finite_non_negative_decimals_are_writable():
    assert is_writable(Fraction(3, 8)) and is_writable(Fraction(0))
    assert not is_writable(Fraction(1, 3)) and not is_writable(Fraction(-2))
    assert not is_writable(Fraction(1, 32))  # five decimals
    with pytest.raises(ValueError, match="exact decimal"):
        format_like(Fraction(1, 3), "2")


def test_replace_values_changes_every_mention_by_value_in_its_own_style():
    text = "He had $24.00, spent 24 of it: 1,024 - 24 = 1,000 left; 240 stays."
    changes = {Fraction(24): Fraction(25), Fraction(1000): Fraction(999)}
    assert replace_values(text, changes) == "He had $25.00, spent 25 of it: 1,024 - 25 = 999 left; 240 stays."
    assert replace_values(text, {}) == text
