"""Where a student's CoT first leaves the gold CoT, for generated questions.

The programmatic teacher's CoTs follow fixed templates, so a wrong answer can
be traced to the first line that differs from the gold CoT and named by what
went wrong there. The names reuse the families' error types where the
mistake is one the dual pairs teach (``knowledge``, ``calculation``,
``logic``); the others (``copy``, ``omission``, ``format``) are mistakes no
pair shows. This tells whether KRSL's key tokens cover the student's errors.
"""

from __future__ import annotations

import random
import re

from edit_plugin.files.markdown import markdown_table
from edit_plugin.synthetic import TASK_FAMILIES
from edit_plugin.synthetic.base import _draws
from edit_plugin.text.prompts import build_prompt

CLASSIFIED_TASKS = ("object_counting", "boolean_expressions")
_QUESTION_ID = re.compile(r"^(?P<task>[a-z_]+)-(?P<kind>heldout(?:-hard)?)-(?P<seed>\d+)-\d+$")


def gold_cots(questions: list[dict]) -> dict[str, str]:
    """Gold CoT per prompt of held-out questions made by ``generate_questions``
    (their ids name the seed and variant that re-draw them)."""
    wanted: dict[tuple[str, int, bool], set[str]] = {}
    for q in questions:
        match = _QUESTION_ID.match(q["id"])
        if not match or match["task"] not in TASK_FAMILIES:
            raise ValueError(f"question {q['id']!r} is not a generated held-out question")
        key = (match["task"], int(match["seed"]), match["kind"].endswith("hard"))
        wanted.setdefault(key, set()).add(q["prompt"])
    cots = {}
    for (task, seed, hard), prompts in wanted.items():
        family, missing = TASK_FAMILIES[task], set(prompts)
        try:  # the draws, and their bound, of `generate_questions`
            for item in _draws(family, random.Random(seed), len(prompts), "re-drawn questions", hard):
                prompt = build_prompt(item.question, family.DESCRIPTION)
                if prompt in missing:
                    cots[prompt] = item.chosen
                    missing.discard(prompt)
                    if not missing:
                        break
        except RuntimeError:
            raise ValueError(f"{len(missing)} {task} questions (seed {seed}) were not re-drawn") from None
    return cots


def first_error(task: str, gold_cot: str, completion: str) -> str:
    """What went wrong at the first line where ``completion`` leaves ``gold_cot``."""
    if task not in CLASSIFIED_TASKS:
        raise ValueError(f"no error classes for {task}; known: {CLASSIFIED_TASKS}")
    gold, got = gold_cot.strip().split("\n"), completion.strip().split("\n")
    for k, line in enumerate(gold):
        said = got[k] if k < len(got) else ""
        if said.strip() == line.strip():
            continue
        if task == "object_counting":
            return _object_counting_error(line, said, gold, got)
        return _boolean_error(line, said)
    return "format" if len(got) > len(gold) else "none"


def _object_counting_error(line: str, said: str, gold: list[str], got: list[str]) -> str:
    if line.startswith("- ") or said.startswith("- "):
        def nouns(lines):
            return {x.split(" (")[0] for x in lines if x.startswith("- ")}
        if nouns(got) - nouns(gold):
            return "knowledge"  # an object of another category counted
        if nouns(gold) - nouns(got):
            return "omission"
        return "copy"  # the right objects with a wrong quantity
    if line.startswith("Now,") and said.startswith("Now,"):
        return "calculation"
    return "format"


def _boolean_error(line: str, said: str) -> str:
    if re.match(r"[ABC] = ", line) and re.match(r"[ABC] = ", said):
        # "A = <operand as written> = <steps> = <value>.": a wrong operand is a copy error
        return "calculation" if line.split(" = ")[:2] == said.split(" = ")[:2] else "copy"
    if line.startswith("So ") and said.startswith("So "):
        return "logic"
    return "format"


def taught(task: str, label: str) -> bool:
    """Whether the family's dual pairs show mistakes of this kind."""
    return label in TASK_FAMILIES[task].ERROR_TYPES


def count_first_errors(questions: list[dict], outcomes: list[dict]) -> dict[tuple[str, str], int]:
    """(task, first error) -> wrong answers, for one model's scored questions
    (rows with ``question_id``, ``correct`` and ``completion``)."""
    by_id = {q["id"]: q for q in questions}
    cots = gold_cots(questions)
    counts: dict[tuple[str, str], int] = {}
    for row in outcomes:
        if row["correct"]:
            continue
        q = by_id.get(row["question_id"])
        if q is None:
            raise ValueError(f"outcome {row['question_id']!r} is not in the questions file")
        key = (q["task"], first_error(q["task"], cots[q["prompt"]], row["completion"]))
        counts[key] = counts.get(key, 0) + 1
    return counts


def first_error_table(counts_by_model: dict[str, dict[tuple[str, str], int]]) -> str:
    """Markdown: one row per model, wrong answers by first error; ``taught``
    is the share of them that are of a kind the dual pairs show."""
    columns = sorted({key for counts in counts_by_model.values() for key in counts})
    head = ["model", "wrong"] + [f"{task} {label}{'' if taught(task, label) else ' (not taught)'}"
                                 for task, label in columns] + ["taught"]
    body = []
    for model, counts in counts_by_model.items():
        wrong = sum(counts.values())
        covered = sum(n for (task, label), n in counts.items() if taught(task, label))
        share = f"{covered / wrong:.0%}" if wrong else "–"
        body.append([model, str(wrong)] + [str(counts.get(c, 0)) for c in columns] + [share])
    return markdown_table(head, body)
