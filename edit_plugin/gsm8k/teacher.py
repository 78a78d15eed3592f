"""The reference teacher: GSM8K's own solutions as a teacher that is always
right, and their one-error twins as its dual CoTs.

Every problem's reference solution, its annotations stripped, is a correct
CoT (``sft.jsonl``, ``source: teacher``). Where one calculation can be
changed cleanly (`edit_plugin.gsm8k.corrupt`), the pair (correct, wrong) is a
``source: corrupted`` dual pair (``dual_cot.jsonl``) with its error step
marked; the other problems are counted in ``summary.json`` by reason. Error
types are taken in turn, the other one where the first cannot apply, and
each problem draws its changes from a generator seeded by the run's seed and
the problem's id: the same seed gives the same files, and a run on the first
N problems gives the first pairs of a run on all of them. It takes seconds
and asks no model, so there is nothing to resume.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from edit_plugin.gsm8k.corrupt import ERROR_TYPES, SKIP_REASONS, Corruption, corrupt_solution, skip_reason
from edit_plugin.gsm8k.solution import (ANNOTATION_RE, Solution, SolutionFormatError, parse_solution, render_cot,
                                        strip_annotations)
from edit_plugin.synthetic.base import error_step
from edit_plugin.text.prompts import build_prompt
from edit_plugin.text.scoring import verdict

TASK = "gsm8k"
# Besides the corruption's own reasons: a solution that cannot be read at all.
REFERENCE_SKIP_REASONS = ("malformed_solution",) + SKIP_REASONS


@dataclass(frozen=True)
class ReferencePair:
    """A problem, its reference solution and the solution's wrong twin, both
    kept annotated so that every calculation can be checked."""
    id: str
    question: str
    solution: Solution
    corruption: Corruption

    @property
    def chosen(self) -> str:
        return self.solution.cot()

    @cached_property
    def rejected(self) -> str:
        return render_cot(strip_annotations(self.corruption.body), self.corruption.answer)

    def record(self) -> dict:
        start, end = error_step(self.chosen, self.rejected)
        return {"id": self.id, "task": TASK, "prompt": build_prompt(self.question), "chosen": self.chosen,
                "rejected": self.rejected, "answer": self.solution.answer,
                "rejected_answer": self.corruption.answer, "source": "corrupted",
                "error_type": self.corruption.error_type, "error_char_start": start, "error_char_end": end}


def sft_record(problem_id: str, question: str, solution: Solution) -> dict:
    return {"id": problem_id, "task": TASK, "prompt": build_prompt(question), "chosen": solution.cot(),
            "answer": solution.answer, "source": "teacher"}


def reference_pairs(problems: list[dict], seed: int = 0) -> tuple[list[ReferencePair], list[dict], Counter]:
    """(pairs, SFT records, skipped problems by reason) for ``problems``
    (``id``, ``question``, ``solution``: `edit_plugin.eval_sets.gsm8k.gsm8k_problems`)."""
    pairs: list[ReferencePair] = []
    sft: list[dict] = []
    skipped: Counter = Counter()
    for problem in problems:
        try:
            solution = parse_solution(problem["solution"])
        except SolutionFormatError:
            skipped["malformed_solution"] += 1
            continue
        sft.append(sft_record(problem["id"], problem["question"], solution))
        first = len(pairs) % len(ERROR_TYPES)
        corruption, reasons = corrupt_solution(problem["question"], solution, ERROR_TYPES[first:] + ERROR_TYPES[:first],
                                               random.Random(f"{seed}-{problem['id']}"))
        if corruption is None:
            skipped[skip_reason(reasons)] += 1
            continue
        pair = ReferencePair(problem["id"], problem["question"], solution, corruption)
        if verdict(pair.rejected, {"target": solution.answer, "kind": "number"}) != "wrong":
            skipped["answer_unchanged"] += 1  # e.g. a new value that the scorer reads as the gold one
            continue
        pairs.append(pair)
    return pairs, sft, skipped


def reference_teacher_run(problems: list[dict], seed: int = 0, split: str = "train"
                          ) -> tuple[list[dict], list[dict], dict]:
    """(dual records, SFT records, summary), in the layout of the other teachers."""
    pairs, sft, skipped = reference_pairs(problems, seed)
    dual = [pair.record() for pair in pairs]
    per_error: dict[str, dict[str, int]] = {}
    for record in dual:
        entry = per_error.setdefault(record["error_type"], {"rectified": 0, "corrupted": 0})
        entry["corrupted"] += 1
    correct = sum(verdict(row["chosen"], {"target": row["answer"], "kind": "number"}) == "correct" for row in sft)
    summary = {
        "teacher": "reference", "task": TASK, "question_set": "gsm8k", "split": split, "seed": seed,
        "questions": len(problems),
        "annotated": sum(bool(ANNOTATION_RE.search(p["solution"])) for p in problems),
        "correct": correct, "incorrect": 0, "given_incorrect": 0, "rectified": 0, "corrupted": len(dual),
        "teacher_accuracy": correct / len(problems) if problems else None,
        "rectify_success": None, "corrupt_success": len(dual) / len(sft) if sft else None,
        "pairs": {"rectified": 0, "corrupted": len(dual)},
        "pairs_per_error_type": dict(sorted(per_error.items())),
        "sft": {"teacher": len(sft), "rectified": 0},
        "skipped": {reason: skipped[reason] for reason in REFERENCE_SKIP_REASONS},
    }
    return dual, sft, summary
