"""Date arithmetic in the style of BBH date_understanding: "Today is March 5,
2021. What is the date 10 days ago in MM/DD/YYYY?"

The CoT crosses one month boundary in two steps: to the month's edge, then
the remaining days (the hard variant's longer offsets cross whole months in
between, one step each). Errors:
- ``knowledge``: a wrong number of days in a month (a wrong fact);
- ``calculation``: the remaining days counted one off.
"""

from __future__ import annotations

import calendar
import datetime
import random
import sys

from edit_plugin.synthetic.base import Item, build_pairs, build_questions
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "date_arithmetic"
ANSWER_KIND = "words"  # how `scoring.verdict` reads its answers
DESCRIPTION = "Infer the date from context."
ERROR_TYPES = ("knowledge", "calculation")


def _fmt(year: int, month: int, day: int) -> str:
    return f"{month:02d}/{day:02d}/{year}"


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def _next(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def _edge_line(verb: str, days: int, year: int, month: int, length: int, more: bool) -> str:
    return (f"Going {verb} {days}{' more' if more else ''} days takes us to {_fmt(year, month, length)}, the last "
            f"day of {calendar.month_name[month]}, which has {length} days in {year}.")


def write_cot(today: datetime.date, days: int, back: bool, month_length_shift: int = 0,
              remaining_shift: int = 0) -> tuple[str, str]:
    """To the first month edge, across whole months while the rest still
    passes one (only hard questions do), then the remaining days. Errors:
    ``month_length_shift`` on the first edge month's length,
    ``remaining_shift`` on the last step's day."""
    lines = [COT_OPENING, f"Today is {_fmt(today.year, today.month, today.day)}."]
    if back:
        # The previous month: its last day, then count back the rest.
        year, month = _previous(today.year, today.month)
        length = calendar.monthrange(year, month)[1] + month_length_shift
        rest = days - today.day
        lines.append(_edge_line("back", today.day, year, month, length, more=False))
        while rest >= length:  # back over the whole month, to the previous one's last day
            step, rest = length, rest - length
            year, month = _previous(year, month)
            length = calendar.monthrange(year, month)[1]
            lines.append(_edge_line("back", step, year, month, length, more=True))
        day = length - rest + remaining_shift
    else:
        year, month = today.year, today.month
        length = calendar.monthrange(year, month)[1] + month_length_shift
        first = length - today.day
        rest = days - first
        lines.append(_edge_line("forward", first, year, month, length, more=False))
        year, month = _next(year, month)
        while rest > calendar.monthrange(year, month)[1]:  # over the whole next month
            length = calendar.monthrange(year, month)[1]
            rest -= length
            lines.append(_edge_line("forward", length, year, month, length, more=True))
            year, month = _next(year, month)
        day = rest + remaining_shift
    lines.append(f"The remaining {rest} days take us to {_fmt(year, month, day)}.")
    answer = _fmt(year, month, day)
    lines.append(format_answer_sentence(answer))
    return "\n".join(lines), answer


def random_item(rng: random.Random, hard: bool = False) -> Item:
    """``hard``: offsets of up to about 230 days, crossing two or more month edges (one otherwise)."""
    today = datetime.date(rng.randint(1950, 2030), rng.randint(1, 12), 1)
    today = today.replace(day=rng.randint(1, calendar.monthrange(today.year, today.month)[1]))
    back = rng.random() < 0.5
    if back:
        previous = today.replace(day=1) - datetime.timedelta(days=1)
        days = today.day + (rng.randint(previous.day, previous.day + 170) if hard else rng.randint(1, previous.day - 2))
        truth = today - datetime.timedelta(days=days)
        if hard and (truth + datetime.timedelta(days=1)).day == 1:
            # Not onto a month's last day: the last step would count back 0 days.
            days, truth = days + 1, truth - datetime.timedelta(days=1)
    else:
        length = calendar.monthrange(today.year, today.month)[1]
        # Not on the month's last day: the first step must move forward.
        today = today.replace(day=min(today.day, length - 1))
        after_edge = calendar.monthrange(*_next(today.year, today.month))[1]
        days = (length - today.day) + (rng.randint(after_edge + 1, after_edge + 170) if hard else rng.randint(1, 27))
        truth = today + datetime.timedelta(days=days)
    chosen, answer = write_cot(today, days, back)
    assert answer == _fmt(truth.year, truth.month, truth.day)  # the CoT is right
    when = f"{days} days ago" if back else f"{days} days from today"
    question = f"Today is {calendar.month_name[today.month]} {today.day}, {today.year}. What is the date {when} in MM/DD/YYYY?"
    return Item(question, answer, chosen, data=(today, days, back))


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    today, days, back = item.data
    if error_type == "knowledge":
        # A plausible wrong length: 31 <-> 30, and February off by one.
        if back:
            edge = today.replace(day=1) - datetime.timedelta(days=1)
        else:
            edge = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        shift = -1 if edge.day in (29, 31) else 1
        if not back and edge.day + shift <= today.day:
            return None  # the wrong month would end before today
        text, answer = write_cot(today, days, back, month_length_shift=shift)
    else:
        text, answer = write_cot(today, days, back, remaining_shift=rng.choice([-1, 1]))
    day = int(answer.split("/")[1])
    return (text, answer) if answer != item.answer and 1 <= day <= 31 else None


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)
