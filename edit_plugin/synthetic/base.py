"""What every task family of the programmatic teacher shares.

A family module defines ``TASK``, ``ANSWER_KIND`` (a `scoring.KINDS` entry),
``DESCRIPTION``, ``ERROR_TYPES`` (the mistakes it makes by default),
optionally ``EXTRA_ERROR_TYPES`` (mistakes like a student's, made only when
asked for, so that default runs reproduce),
``random_item(rng, hard=False) -> Item`` (a question, its gold answer and a
correct CoT; ``hard``: longer inputs in the same CoT format, for
out-of-distribution tests)
and ``corrupt(item, error_type, rng) -> (wrong CoT, wrong answer) | None``
(the same CoT with one error of that type, consistent after it, ending in a
wrong answer; None when this item cannot take that error). A family that can
also read its BBH task's questions defines ``BBH_TASK`` and
``item_from_question(text) -> Item | None``. The functions here turn a family
into dual-CoT records and held-out questions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from edit_plugin.prompts import build_prompt


@dataclass
class Item:
    question: str
    answer: str
    chosen: str
    data: Any = field(default=None, repr=False)  # what the family needs to corrupt it


def error_step(chosen: str, rejected: str) -> tuple[int, int]:
    """Character span of the erroneous step in ``rejected``: from the first
    difference to the end of its line."""
    start = next((i for i, (a, b) in enumerate(zip(chosen, rejected)) if a != b), min(len(chosen), len(rejected)))
    end = rejected.find("\n", start)
    return start, end if end != -1 else len(rejected)


def first_wrong(variants, gold: str) -> tuple[str, str] | None:
    """The first (CoT, answer) of ``variants`` whose answer is not ``gold``: an
    injected error counts only where it changes the answer. ``variants`` may
    be lazy, so that later ones (and their random draws) are made only if needed."""
    for text, answer in variants:
        if str(answer) != gold:
            return text, str(answer)
    return None


def _draws(family, rng: random.Random, n: int, wanted: str, hard: bool = False):
    """Random items, lazily (so the rng is used as if drawn inline), up to a
    bound: a family with fewer distinct questions than asked fails, not hangs.
    The caller stops drawing once it has ``n``."""
    if n <= 0:
        return
    # The default call stays ``random_item(rng)``: its draws are what seeds reproduce.
    draw = (lambda: family.random_item(rng, hard=True)) if hard else (lambda: family.random_item(rng))
    for _ in range(100 * n + 1000):
        yield draw()
    raise RuntimeError(f"{family.TASK}: cannot find {n} distinct {wanted}")


def known_error_types(family) -> tuple[str, ...]:
    """Every mistake ``family`` can make: its default ones, then the others."""
    return tuple(family.ERROR_TYPES) + tuple(getattr(family, "EXTRA_ERROR_TYPES", ()))


def checked_error_types(family, error_types) -> tuple[str, ...]:
    """``error_types`` (default: the family's ``ERROR_TYPES``), refused when
    the family cannot make one of them."""
    error_types = tuple(error_types or family.ERROR_TYPES)
    unknown = [kind for kind in error_types if kind not in known_error_types(family)]
    if unknown:
        raise ValueError(f"{family.TASK} cannot make a {unknown[0]!r} mistake; "
                         f"its kinds: {', '.join(known_error_types(family))}")
    return error_types


def build_pairs(family, n: int, seed: int = 0, error_types=None) -> list[dict]:
    """``n`` records: a correct CoT (chosen) and its one-error twin (rejected),
    error types taken in turn."""
    error_types = checked_error_types(family, error_types)
    rng = random.Random(seed)
    records: list[dict] = []
    seen: set[str] = set()
    for item in _draws(family, rng, n, f"questions for {error_types}"):
        if item.question in seen:
            continue
        error_type = error_types[len(records) % len(error_types)]
        wrong = family.corrupt(item, error_type, rng)
        if wrong is None:
            continue
        seen.add(item.question)
        records.append(_record(family, item, wrong, error_type, f"{family.TASK}-{seed}-{len(records)}"))
        if len(records) == n:
            break
    return records


def pairs_from_questions(family, questions: list[dict], seed: int = 0, error_types=None) -> tuple[list[dict], dict]:
    """Records for given questions (``id``, ``question``, ``target``; e.g. the
    BBH train part) that the family can read and solve, and counts of those
    it could not: ``unreadable`` (outside what its CoT can express),
    ``answer_disagrees`` (its solution is not the target: never silently
    trained on) and ``no_error_fits``."""
    error_types = checked_error_types(family, error_types)
    rng = random.Random(seed)
    records: list[dict] = []
    skipped = {"unreadable": 0, "answer_disagrees": 0, "no_error_fits": 0}
    for question in questions:
        item = family.item_from_question(question["question"])
        if item is None:
            skipped["unreadable"] += 1
            continue
        if " ".join(item.answer.split()) != " ".join(question["target"].split()):
            skipped["answer_disagrees"] += 1
            continue
        first = len(records) % len(error_types)  # types in turn; another where the first cannot apply
        for error_type in error_types[first:] + error_types[:first]:
            wrong = family.corrupt(item, error_type, rng)
            if wrong is not None:
                records.append(_record(family, item, wrong, error_type, question["id"]))
                break
        else:
            skipped["no_error_fits"] += 1
    return records, skipped


def _record(family, item: Item, wrong: tuple[str, str], error_type: str, record_id: str) -> dict:
    rejected, wrong_answer = wrong
    start, end = error_step(item.chosen, rejected)
    return {
        "id": record_id,
        "task": family.TASK,
        "prompt": build_prompt(item.question, family.DESCRIPTION),
        "chosen": item.chosen,
        "rejected": rejected,
        "answer": item.answer,
        "rejected_answer": wrong_answer,
        "source": "corrupted",
        "error_type": error_type,
        "error_char_start": start,
        "error_char_end": end,
    }


def build_questions(family, n: int, seed: int = 1, exclude: set[str] | None = None,
                    hard: bool = False) -> list[dict]:
    """Held-out questions with gold answers, disjoint from ``exclude`` prompts;
    ``hard``: the family's longer variant (ids ``<task>-heldout-hard-...``)."""
    rng = random.Random(seed)
    exclude = exclude or set()
    out: list[dict] = []
    seen: set[str] = set()
    kind = "heldout-hard" if hard else "heldout"
    for item in _draws(family, rng, n, f"{'hard ' if hard else ''}held-out questions", hard):
        prompt = build_prompt(item.question, family.DESCRIPTION)
        if prompt in exclude or prompt in seen:
            continue
        seen.add(prompt)
        out.append({"id": f"{family.TASK}-{kind}-{seed}-{len(out)}", "task": family.TASK,
                    "prompt": prompt, "answer": item.answer})
        if len(out) == n:
            break
    return out
