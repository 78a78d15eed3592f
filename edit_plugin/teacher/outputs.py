"""What a pipeline run writes: the dual pairs (optionally filtered), the SFT
set, and a summary per stage and per task."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict

from edit_plugin.teacher.filters import PairFilter
from edit_plugin.teacher.pipeline import PipelineResult
from edit_plugin.teacher.questions import TeacherQuestion
from edit_plugin.text.prompts import build_prompt


def dual_records(questions: list[TeacherQuestion], result: PipelineResult,
                 error_spans: Mapping[str, tuple[int, int]] | None = None) -> list[dict]:
    """(D-+, D-) and (D+, D+-) pairs in the dual-CoT JSONL format.
    ``error_spans``: question id -> the marked error's character span in a
    given D- CoT (the rejected side), kept for the key-step report."""
    error_spans = error_spans or {}
    records = []
    for q in questions:
        if q.id in result.rectified:
            chosen, rejected, source = result.rectified[q.id], result.incorrect[q.id], "rectified"
        elif q.id in result.corrupted:
            chosen, rejected, source = result.correct[q.id], result.corrupted[q.id], "corrupted"
        else:
            continue
        record = {"id": q.id, "task": q.task, "prompt": build_prompt(q.question, q.description),
                  "chosen": chosen, "rejected": rejected, "answer": q.gold, "source": source}
        if source == "rectified" and q.id in error_spans:
            record["error_char_start"], record["error_char_end"] = error_spans[q.id]
        records.append(record)
    return records


def filter_pairs(records: list[dict], pair_filter: PairFilter | None) -> tuple[list[dict], dict[str, str]]:
    """The records that pass, and id -> reason for those dropped."""
    if pair_filter is None or not pair_filter.active:
        return records, {}
    kept, dropped = [], {}
    for record in records:
        reason = pair_filter.rejection(record["chosen"], record["rejected"])
        if reason:
            dropped[record["id"]] = reason
        else:
            kept.append(record)
    return kept, dropped


def sft_records(questions: list[TeacherQuestion], result: PipelineResult) -> list[dict]:
    """D+ (``source: teacher``) and D-+ (``source: rectified``): every correct
    CoT, for the SFT stage (filters do not apply: a correct CoT stays a good
    SFT target even if its pair is dropped)."""
    out = []
    for q in questions:
        cot, source = result.correct.get(q.id), "teacher"
        if not cot:
            cot, source = result.rectified.get(q.id), "rectified"
        if cot:
            out.append({"id": q.id, "task": q.task, "prompt": build_prompt(q.question, q.description),
                        "chosen": cot, "answer": q.gold, "source": source})
    return out


def _rate(numerator: int, denominator: int) -> float | None:
    """None where nothing was tried (no answer is not a 0% answer)."""
    return numerator / denominator if denominator else None


def _counts(ids: set[str], result: PipelineResult, pairs: list[dict], dropped: Mapping[str, str]) -> dict:
    # Questions the teacher was asked (CEP); one it never answered readably
    # counts as not correct.
    answered = ids - result.given_incorrect
    unreadable = len(ids & result.unreadable)
    never_read = len(ids & result.dropped)
    correct = len(ids & result.correct.keys())
    incorrect = len(ids & result.incorrect.keys())
    rectified = len(ids & result.rectified.keys())
    corrupted = len(ids & result.corrupted.keys())
    pair_sources = Counter(r["source"] for r in pairs if r["id"] in ids)
    return {
        "questions": len(ids),
        "correct": correct, "incorrect": incorrect, "hedged": len(ids & result.hedged),
        "unreadable": {"at_first": unreadable, "recovered": unreadable - never_read, "dropped": never_read},
        "given_incorrect": len(ids & result.given_incorrect),
        "rectified": rectified, "corrupted": corrupted,
        "teacher_accuracy": _rate(correct, len(answered)),
        "rectify_success": _rate(rectified, incorrect),
        "corrupt_success": _rate(corrupted, correct),
        "filtered": dict(sorted(Counter(reason for i, reason in dropped.items() if i in ids).items())),
        "pairs": {"rectified": pair_sources["rectified"], "corrupted": pair_sources["corrupted"]},
    }


def summary(questions: list[TeacherQuestion], result: PipelineResult, pairs: list[dict] | None = None,
            dropped: Mapping[str, str] | None = None) -> dict:
    """Overall and per-task counts, success rates and teacher accuracy, and
    each stage attempt (questions covered, asked of the teacher, succeeded).
    ``pairs`` / ``dropped``: the written records and the filtered ids."""
    pairs = dual_records(questions, result) if pairs is None else pairs
    dropped = dropped or {}
    by_task: dict[str, set[str]] = {}
    for q in questions:
        by_task.setdefault(q.task, set()).add(q.id)
    overall = _counts({q.id for q in questions}, result, pairs, dropped)
    return {**overall,
            "stages": [asdict(s) for s in result.stages],
            "per_task": {task: _counts(ids, result, pairs, dropped) for task, ids in sorted(by_task.items())}}
