"""Repeat sampling, the paper's fair baseline ("Std-CoT w/ repeat sampling"):
several CEP samples per question, every correct one kept as an SFT row; and
`match_rows`, which cuts such a set to the number of rows EDIT trains on.

Pure functions: the teacher calls are `DualCoTPipeline.sample`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from edit_plugin.files.jsonl import iter_jsonl
from edit_plugin.teacher.questions import TeacherQuestion
from edit_plugin.text.prompts import build_prompt
from edit_plugin.text.schema import SFT_FIELDS, DualCoTDataError, record_problem


def repeat_records(questions: Sequence[TeacherQuestion], samples: Mapping[str, Sequence[str]]) -> list[dict]:
    """SFT rows of the correct samples (``samples``: question id -> CoTs in
    sample order), in question order then sample order. A CoT sampled twice
    for one question is kept once (the first sample), so a teacher that
    repeats itself does not weigh a question twice."""
    records = []
    for q in questions:
        seen = set()
        for k, cot in enumerate(samples.get(q.id, ())):
            key = " ".join(cot.split())  # whitespace-only differences are the same CoT
            if key in seen or not q.is_correct(cot):
                continue
            seen.add(key)
            records.append({"id": q.id, "task": q.task, "prompt": build_prompt(q.question, q.description),
                            "chosen": cot, "answer": q.gold, "source": "teacher", "sample": k})
    return records


def repeat_summary(questions: Sequence[TeacherQuestion], samples: Mapping[str, Sequence[str]],
                   records: Sequence[dict], temperature: float) -> dict:
    """What the samples held: correct (before and after removing duplicates),
    hedged and unreadable samples, and how many questions got a row."""
    verdicts = [q.verdict(cot) for q in questions for cot in samples.get(q.id, ())]
    correct = verdicts.count("correct")
    return {"samples_per_question": max((len(v) for v in samples.values()), default=0),
            "temperature": temperature, "questions": len(questions),
            "questions_with_rows": len({r["id"] for r in records}), "samples": len(verdicts),
            "correct": correct, "duplicates": correct - len(records), "rows": len(records),
            "wrong": verdicts.count("wrong"), "hedged": verdicts.count("hedged"),
            "unreadable": verdicts.count("unreadable")}


def match_rows(records: Sequence[dict], n: int, seed: int = 0) -> list[dict]:
    """``n`` rows that cover each question (``id``) once before any question
    a second time: round r takes the r-th row of every question that has one.
    Which row a question gives in a round, and which questions fill the last,
    partial round, is drawn with ``seed``. The rows keep their input order."""
    if n < 0:
        raise ValueError(f"the number of rows must be >= 0, got {n}")
    if n > len(records):
        raise ValueError(f"asked for {n} rows but there are only {len(records)} "
                         f"(sample more per question, or match fewer rows)")
    by_question: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict) or "id" not in record:
            raise ValueError(f"row {index + 1} has no 'id' (the question a row answers)")
        by_question.setdefault(str(record["id"]), []).append(index)
    rng = random.Random(seed)
    for rows in by_question.values():
        rng.shuffle(rows)
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n:
        round_rows = [rows[depth] for rows in by_question.values() if len(rows) > depth]
        rng.shuffle(round_rows)
        chosen.extend(round_rows[: n - len(chosen)])
        depth += 1
    return [records[i] for i in sorted(chosen)]


def read_rows(path) -> list[dict]:
    """The rows of an SFT or dual-CoT JSONL file (``prompt`` and ``chosen``
    checked; a bad line is an error that names the file and the line)."""
    def problem(row: object) -> str | None:
        if not isinstance(row, dict):
            return f"expected a JSON object, got {type(row).__name__}"
        return record_problem({k: row[k] for k in SFT_FIELDS if k in row}, SFT_FIELDS)

    return [row for _, row in iter_jsonl(path, problem, DualCoTDataError)]
