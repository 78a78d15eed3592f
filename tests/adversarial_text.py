"""Degenerate model outputs for timing tests: long runs of what a small
model in a loop emits (spaces, separators, half an answer, digits), and a
time limit that interrupts a call instead of waiting minutes for it.

Each text is `SIZE` characters: quadratic work on it takes minutes to hours,
linear work milliseconds, so a limit of seconds cannot be flipped by a slow
or busy machine.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

SIZE = 200_000
# Whitespace a tokenizer can emit in a row: spaces, tabs, the rarer
# separators that `\s` also matches, a no-break and an em space.
WHITESPACE_MIX = " \t\r\x0b\x0c\u00a0\u2003"

# name -> (text before the run, the repeated unit, text after the run)
PATTERNS: dict[str, tuple[str, str, str]] = {
    "spaces inside the answer": ("So the answer is (A)", " ", "x."),
    "spaces before a second candidate": ("So the answer is B", " ", "C"),
    "whitespace mix inside the answer": ("So the answer is (A)", WHITESPACE_MIX, "(B)."),
    "whitespace only": ("", " ", ""),
    "newlines after the phrase": ("the answer is ", "\n", "(A)"),
    "answer phrase repeated": ("", "the answer is ", ""),
    "candidates and commas": ("the answer is ", "(A), ", ""),
    "bare labels and connectors": ("the answer is ", "A or B and C / ", ""),
    "separators with spaces": ("the answer is A", " , ; ", "B"),
    "connector words without candidates": ("the answer is ", " or and nor vs. / & ", ""),
    "open parentheses": ("the answer is ", "(", ""),
    "nested parentheses": ("the answer is ", "((1)", ""),
    "digits and commas": ("the answer is ", "1,", "x"),
    "one long number": ("the answer is ", "9", ""),
    "minus signs and points": ("the answer is ", "-.", ""),
    "arithmetic without a result": ("the answer is ", "1 + 2 = ", "x"),
    "true and false": ("the answer is ", "True and False ", ""),
    "brackets": ("the answer is ", "[](){}<>", ""),
    "sentence ends": ("the answer is (A)", ". ", ""),
    "label, spaces, text on two lines": ("the answer is (B)", " ", "blue\nsky"),
}


def adversarial(name: str, size: int = SIZE) -> str:
    """The pattern ``name`` as a text of exactly ``size`` characters."""
    before, unit, after = PATTERNS[name]
    repeats = max(0, size - len(before) - len(after)) // len(unit) + 1
    run = (unit * repeats)[: max(0, size - len(before) - len(after))]
    return before + run + after


class TooSlow(AssertionError):
    """A call ran past its time limit (interrupted, not waited for)."""


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM; Python's regular
    expression engine checks for signals, so a runaway match stops too).
    Main thread only, as pytest runs tests."""
    def interrupt(signum, frame):
        raise TooSlow(f"{what}: still running after {seconds} s (linear work takes milliseconds)")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
