"""The programmatic teacher as a whole run, with the files the LLM pipeline
writes: ``dual_cot.jsonl``, ``sft.jsonl`` and ``summary.json``.

Like a teacher LLM, it answers a share of the questions wrongly
(``mistake_rate``). Every question gives one correct CoT and its one-error
twin (`edit_plugin.synthetic.base`); the mistake decides what they are:

- answered rightly (D+): the twin is the corruption (D+-); the pair is
  ``source: corrupted`` and the SFT row ``source: teacher``;
- answered wrongly (D-): the twin is the teacher's own CoT and the correct
  CoT its rectification (D-+); the pair is ``source: rectified`` and the SFT
  row too.

Which questions are wrong is drawn by a generator of its own, after the
questions and CoTs: runs with different rates (same seed) share every
question and CoT, and only the labels differ.
"""

from __future__ import annotations

import math
import os
import random
from collections import Counter
from pathlib import Path

from edit_plugin.files.jsonl import write_json, write_records
from edit_plugin.synthetic import TASK_FAMILIES
from edit_plugin.synthetic.base import build_pairs, known_error_types, pairs_from_questions

SFT_FIELDS = ("id", "task", "prompt", "chosen", "answer")


def family_of(task: str):
    if task not in TASK_FAMILIES:
        raise ValueError(f"unknown synthetic task family {task!r}; known: {', '.join(sorted(TASK_FAMILIES))}")
    return TASK_FAMILIES[task]


def check_mistake_rate(rate: float) -> float:
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"the mistake rate is a share of the questions, from 0 to 1; got {rate!r}")
    return float(rate)


def mistaken_indices(count: int, mistake_rate: float, seed: int, task: str) -> set[int]:
    """The positions of the questions answered wrongly: ``mistake_rate`` of
    ``count``, rounded half up. They are the first ones of one seeded
    permutation, so a higher rate keeps a lower rate's mistakes and adds some."""
    order = list(range(count))
    random.Random(f"{task}-mistakes-{seed}").shuffle(order)
    return set(order[: math.floor(check_mistake_rate(mistake_rate) * count + 0.5)])


def error_types_for(task: str, requested) -> tuple[str, ...] | None:
    """The kinds of ``requested`` that family ``task`` can make, in their
    order (None for None: the family's default kinds). A mix asked of
    several families gives each the kinds it knows; one that knows none of
    them is refused."""
    if requested is None:
        return None
    known = known_error_types(family_of(task))
    chosen = tuple(kind for kind in requested if kind in known)
    if not chosen:
        raise ValueError(f"{task} makes none of the mistakes {', '.join(requested)}; its kinds: {', '.join(known)}")
    return chosen


def label_pairs(pairs: list[dict], wrong: set[int]) -> list[dict]:
    """The pairs at positions ``wrong`` become (rectified, the teacher's wrong CoT)."""
    return [{**pair, "source": "rectified"} if i in wrong else pair for i, pair in enumerate(pairs)]


def sft_rows(dual: list[dict]) -> list[dict]:
    """D+ ∪ D-+: the correct CoT of every question, marked with where it came from."""
    return [{**{k: pair[k] for k in SFT_FIELDS},
             "source": "rectified" if pair["source"] == "rectified" else "teacher"} for pair in dual]


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None  # nothing tried is not 0%


def run_summary(task: str, seed: int, mistake_rate: float, dual: list[dict], extra: dict) -> dict:
    """Counts in the LLM pipeline's terms. Every kept question yields a pair,
    so rectifying and corrupting always succeed (a question that takes no
    error is not kept: it is redrawn, or counted under ``skipped``)."""
    sources = Counter(pair["source"] for pair in dual)
    wrong, right = sources["rectified"], sources["corrupted"]
    per_error: dict[str, dict[str, int]] = {}
    for pair in dual:
        entry = per_error.setdefault(pair["error_type"], {"rectified": 0, "corrupted": 0})
        entry[pair["source"]] += 1
    return {
        "teacher": "synthetic", "task": task, "seed": seed, "mistake_rate": mistake_rate, **extra,
        "questions": len(dual), "correct": right, "incorrect": wrong, "given_incorrect": 0,
        "rectified": wrong, "corrupted": right,
        "teacher_accuracy": _rate(right, len(dual)),
        "rectify_success": _rate(wrong, wrong), "corrupt_success": _rate(right, right),
        "pairs": {"rectified": wrong, "corrupted": right},
        "pairs_per_error_type": dict(sorted(per_error.items())),
        "sft": {"teacher": right, "rectified": wrong},
    }


def synthetic_teacher_run(task: str, n: int | None, seed: int = 0, mistake_rate: float = 0.25,
                          questions: list[dict] | None = None,
                          error_types: tuple[str, ...] | None = None) -> tuple[list[dict], list[dict], dict]:
    """(dual records, SFT records, summary) of the programmatic teacher on
    ``n`` generated questions of family ``task``, or on given ``questions``
    (``id``, ``question``, ``target``; e.g. BBH's train part; the first ``n``
    when ``n`` is not None) that the family can read and solve; its mistakes
    are ``error_types`` in turn (default: the family's ``ERROR_TYPES``). The
    same arguments give the same records."""
    family = family_of(task)
    mistake_rate = check_mistake_rate(mistake_rate)
    # Only a run that asks for kinds says so: a default run's summary is as it always was.
    extra: dict = {} if error_types is None else {"error_types": list(error_types)}
    if questions is None:
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n, the number of generated questions, must be a whole number >= 0; got {n!r}")
        pairs = build_pairs(family, n, seed, error_types)
        extra.update(question_set="generated")
    else:
        given = list(questions) if n is None else list(questions)[:n]
        pairs, skipped = pairs_from_questions(family, given, seed, error_types)
        extra.update(question_set="given", questions_read=len(given), skipped=skipped)
    dual = label_pairs(pairs, mistaken_indices(len(pairs), mistake_rate, seed, task))
    return dual, sft_rows(dual), run_summary(task, seed, mistake_rate, dual, extra)


def bbh_train_questions(task: str, limit: int | None = None) -> list[dict]:
    """The BBH train questions of the family's BBH task (a family that reads them)."""
    bbh_task = getattr(family_of(task), "BBH_TASK", None)
    if bbh_task is None:
        readers = sorted(name for name, f in TASK_FAMILIES.items() if hasattr(f, "BBH_TASK"))
        raise ValueError(f"the synthetic {task} family generates its questions; "
                         f"families that read BBH questions: {', '.join(readers)}")
    from edit_plugin.eval_sets.bbh import bbh_docs

    return bbh_docs(bbh_task, "train")[:limit]


def write_teacher_files(out_dir: str | os.PathLike, dual: list[dict], sft: list[dict], summary: dict) -> Path:
    """``dual_cot.jsonl``, ``sft.jsonl`` and ``summary.json`` in ``out_dir``, each written atomically."""
    out = Path(out_dir)
    write_records(out / "dual_cot.jsonl", dual)
    write_records(out / "sft.jsonl", sft)
    write_json(out / "summary.json", summary)
    return out
