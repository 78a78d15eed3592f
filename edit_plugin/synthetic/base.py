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
``item_from_question(text) -> Item | None``. A family whose questions can
say the same thing in another operand order defines
``canonical_question(text) -> str`` (one string for all such orders) and the
number of its distinct questions, ``DISTINCT_QUESTIONS = {hard: count}``.
The functions here turn a family into dual-CoT records and held-out questions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from edit_plugin.text.prompts import build_prompt


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


def question_key(family, question: str) -> str:
    """One string for every wording of the same question: the family's
    canonical form (operand order does not count) where it has one."""
    canonical = getattr(family, "canonical_question", None)
    return canonical(question) if canonical else question


def distinct_questions(family, hard: bool = False) -> int | None:
    """How many distinct questions (up to operand order) the family can ask;
    None: more than any plan asks for."""
    return getattr(family, "DISTINCT_QUESTIONS", {}).get(hard)


def fresh_items(family, n: int, seed: int, exclude: set[str] | None = None, hard: bool = False,
                by_key: bool = False):
    """Up to ``n`` (prompt, item) of distinct new questions, in draw order.
    ``exclude`` holds prompts, or with ``by_key`` question keys
    (`question_key`), so that another operand order of an excluded or
    already drawn question is not new either."""
    rng = random.Random(seed)
    exclude = exclude or set()
    seen: set[str] = set()
    count = 0
    for item in _draws(family, rng, n, f"{'hard ' if hard else ''}new questions", hard):
        prompt = build_prompt(item.question, family.DESCRIPTION)
        key = question_key(family, item.question) if by_key else prompt
        if key in exclude or key in seen:
            continue
        seen.add(key)
        count += 1
        yield prompt, item
        if count == n:
            return


def build_questions(family, n: int, seed: int = 1, exclude: set[str] | None = None,
                    hard: bool = False, by_key: bool = False) -> list[dict]:
    """Held-out questions with gold answers, disjoint from ``exclude`` (prompts,
    or question keys with ``by_key``); ``hard``: the family's longer variant
    (ids ``<task>-heldout-hard-...``)."""
    kind = "heldout-hard" if hard else "heldout"
    return [{"id": f"{family.TASK}-{kind}-{seed}-{i}", "task": family.TASK, "prompt": prompt, "answer": item.answer}
            for i, (prompt, item) in enumerate(fresh_items(family, n, seed, exclude, hard, by_key))]


def fresh_pairs(family, n: int, seed: int, exclude_keys: set[str] | None = None, error_types=None,
                id_prefix: str = "fresh") -> list[dict]:
    """``n`` dual records on new questions: none shares a question key
    (`question_key`) with ``exclude_keys`` or with another; error types in
    turn, another where the first cannot apply. Raises `RuntimeError` when
    the family has fewer such questions."""
    error_types = tuple(error_types or family.ERROR_TYPES)
    corrupt_rng = random.Random(f"{family.TASK}-fresh-pairs-{seed}")
    records: list[dict] = []
    for _, item in fresh_items(family, 100 * n + 1000, seed, exclude_keys, by_key=True):
        first = len(records) % len(error_types)
        for error_type in error_types[first:] + error_types[:first]:
            wrong = family.corrupt(item, error_type, corrupt_rng)
            if wrong is not None:
                records.append(_record(family, item, wrong, error_type, f"{family.TASK}-{id_prefix}-{seed}-{len(records)}"))
                break
        if len(records) == n:
            return records
    raise RuntimeError(f"{family.TASK}: cannot find {n} new questions for pairs (found {len(records)})")
