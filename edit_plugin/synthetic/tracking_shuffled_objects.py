"""Tracking shuffled objects in the BBH style: players swap balls in turn; who
holds which ball at the end?

The CoT writes the holdings after every swap. Errors:
- ``calculation``: one swap written wrongly (the state after it is wrong,
  later swaps applied correctly to that wrong state);
- ``logic``: two consecutive swaps applied in the wrong order.
"""

from __future__ import annotations

import random
import sys

from edit_plugin.synthetic.base import Item, build_pairs, build_questions, first_wrong
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

TASK = "tracking_shuffled_objects"
ANSWER_KIND = "choice"  # how `scoring.verdict` reads its answers
DESCRIPTION = "A task requiring determining the final positions of a set of objects given their initial positions and a description of a sequence of swaps."
ERROR_TYPES = ("calculation", "logic")
PLAYERS = ("Alice", "Bob", "Claire", "Dave", "Eve", "Fred", "Gertrude")
COLOURS = ("red", "blue", "green", "yellow", "purple", "white", "black", "pink")


def _state_text(state: dict) -> str:
    return ", ".join(f"{p}: {ball}" for p, ball in state.items())


def write_cot(players, start, swaps, asked, labels, balls, broken_step=None, reorder_at=None):
    order = list(range(len(swaps)))
    if reorder_at is not None:
        order[reorder_at], order[reorder_at + 1] = order[reorder_at + 1], order[reorder_at]
    state = dict(start)
    lines = [COT_OPENING, f"(0) At the start: {_state_text(state)}."]
    for step, k in enumerate(order, 1):
        x, y = swaps[k]
        state[x], state[y] = state[y], state[x]
        if broken_step == step:
            # Wrong bookkeeping: x's ball is written as the third player's.
            z = next(p for p in players if p not in (x, y))
            state[x], state[z] = state[z], state[x]
        lines.append(f"({step}) {x} and {y} swap balls: {_state_text(state)}.")
    ball = state[asked]
    label = labels[balls.index(ball)]
    lines.append(f"At the end of the game, {asked} has the {ball} ball.")
    lines.append(format_answer_sentence(f"({label})"))
    return "\n".join(lines), f"({label})"


def _ordinal(i: int, n: int) -> str:
    return "First" if i == 0 else "Finally" if i == n - 1 else "Then"


def random_item(rng: random.Random, hard: bool = False) -> Item:
    """``hard``: 6 or 7 players and two more swaps than players (3-5 players, as many swaps, otherwise)."""
    players = list(PLAYERS[: rng.choice([6, 7]) if hard else rng.choice([3, 4, 5])])
    balls = rng.sample(COLOURS, len(players))
    start = dict(zip(players, balls))
    swaps = [tuple(rng.sample(players, 2)) for _ in range(len(players) + (2 if hard else 0))]
    asked = rng.choice(players)
    labels = [chr(65 + i) for i in range(len(balls))]
    names = ", ".join(players[:-1]) + f", and {players[-1]}"
    held = [f"{p} has a {b} ball" for p, b in start.items()]
    holding = ", ".join(held[:-1]) + f", and {held[-1]}"
    steps = " ".join(f"{_ordinal(i, len(swaps))}, {x} and {y} swap balls." for i, (x, y) in enumerate(swaps))
    options = "\n".join(f"({label}) {ball} ball" for label, ball in zip(labels, balls))
    question = (f"{names} are playing a game. At the start of the game, they are each holding a ball: "
                f"{holding}. As the game progresses, pairs of players trade balls. {steps} "
                f"At the end of the game, {asked} has the\nOptions:\n{options}")
    data = (players, start, swaps, asked, labels, balls)
    chosen, answer = write_cot(*data)
    return Item(question, answer, chosen, data=data)


def corrupt(item: Item, error_type: str, rng: random.Random) -> tuple[str, str] | None:
    steps = list(range(1, len(item.data[2]) + 1))
    rng.shuffle(steps)
    if error_type == "calculation":
        wrong_cots = (write_cot(*item.data, broken_step=step) for step in steps)
    else:  # swapping a step with the next: the last step has no next
        wrong_cots = (write_cot(*item.data, reorder_at=step - 1) for step in steps if step < len(steps))
    return first_wrong(wrong_cots, item.answer)


def generate_pairs(n: int, seed: int = 0, error_types=ERROR_TYPES) -> list[dict]:
    return build_pairs(sys.modules[__name__], n, seed, error_types)


def generate_questions(n: int, seed: int = 1, exclude: set[str] | None = None,
                       hard: bool = False) -> list[dict]:
    return build_questions(sys.modules[__name__], n, seed, exclude, hard)
