"""Dual pairs from the student's own mistakes (``edit-cot generate --mistakes-from``).

The student answers new questions; each wrong CoT becomes the rejected side
of a pair (``source: student``) and its correct twin the chosen side: with
the programmatic teacher, the gold CoT (the student's CoT up to its first
wrong line is the gold prefix, so the pair differs where the student went
wrong); with an LLM teacher, the teacher's rectification of the student's
CoT (`edit_plugin.teacher.pipeline`, as for the teacher's own D-).

Answers that cannot make a pair are skipped and counted by reason: right,
no answer, a hedge, cut at the token cap, a repetition loop. Every answer
goes to a journal first, so a killed run resumes without asking again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from edit_plugin.files.jsonl import scan_jsonl, write_json, write_records
from edit_plugin.synthetic.base import error_step
from edit_plugin.text.answers import extract_answer
from edit_plugin.text.scoring import verdict

WRONG = "wrong"
SKIP_REASONS = ("right", "no_answer", "hedged", "cut", "loop")
JOURNAL = "journal.jsonl"


def is_loop(text: str, repeats: int = 3) -> bool:
    """True when the text repeats itself: a non-blank line said ``repeats``
    times in a row, or the same line said 2 × ``repeats`` times in all."""
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    run = 1
    for before, line in zip(lines, lines[1:]):
        run = run + 1 if line == before else 1
        if run >= repeats:
            return True
    return bool(lines) and Counter(lines).most_common(1)[0][1] >= 2 * repeats


def judge(completion: str, gold: str, kind: str, cut: bool) -> str:
    """``WRONG`` (a pair can be made) or the `SKIP_REASONS` entry that says why not."""
    return judge_doc(completion, {"kind": kind, "target": gold}, cut)


def judge_doc(completion: str, doc: dict, cut: bool) -> str:
    """`judge` against a scoring document (`scoring.verdict`'s: kind, target, options)."""
    if cut:
        return "cut"
    if is_loop(completion):
        return "loop"
    return {"correct": "right", "hedged": "hedged", "unreadable": "no_answer"}.get(verdict(completion, doc), WRONG)


def student_pair(question: dict, gold_cot: str, completion: str, pair_id: str) -> dict:
    """The pair (gold CoT, the student's wrong CoT) of one question row
    (``prompt``, ``answer``, ``task``)."""
    rejected = completion.strip()
    start, end = error_step(gold_cot, rejected)
    return {"id": pair_id, "task": question.get("task", ""), "prompt": question["prompt"],
            "chosen": gold_cot, "rejected": rejected, "answer": question["answer"],
            "rejected_answer": extract_answer(rejected) or "", "source": "student", "error_type": "student",
            "error_char_start": start, "error_char_end": end}


def answer_questions(model_path: str, questions: list[dict], out: Path, *, max_new_tokens: int = 192,
                     batch_size: int = 32, samples: int = 1, temperature: float = 0.0, seed: int = 0,
                     desc: str = "student answers") -> dict[str, list[dict]]:
    """The student's answers per question id ({completion, cut} each),
    journaled in ``out/journal.jsonl``: answered questions are not asked again."""
    journal = Path(out) / JOURNAL
    answers: dict[str, list[dict]] = {}
    if journal.is_file():
        for _, row, broken in scan_jsonl(journal, lambda row: None):
            if not broken:  # a line torn by a kill is asked again
                answers[row["id"]] = row["answers"]
    pending = [q for q in questions if q["id"] not in answers]
    if pending:
        from edit_plugin.decode import generate_batches, load_for_decoding

        model, tokenizer = load_for_decoding(model_path)
        journal.parent.mkdir(parents=True, exist_ok=True)
        torn = journal.is_file() and journal.stat().st_size and not journal.read_bytes().endswith(b"\n")
        with open(journal, "a", encoding="utf-8") as handle:
            if torn:
                handle.write("\n")  # the torn line stays unreadable; the next answers start a line of their own
            batches = generate_batches(model, tokenizer, [q["prompt"] for q in pending], max_new_tokens,
                                       batch_size, desc, samples, temperature, seed)
            for q, outputs in zip(pending, batches):
                answers[q["id"]] = [{"completion": text, "cut": cut} for text, cut in outputs]
                handle.write(json.dumps({"id": q["id"], "answers": answers[q["id"]]}, ensure_ascii=False) + "\n")
                handle.flush()
    return answers


def pairs_from_answers(questions: Iterable[dict], gold_cots: dict[str, str], answers: dict[str, list[dict]],
                       kinds: dict[str, str]) -> tuple[list[dict], Counter]:
    """Pairs from the wrong answers (one per distinct wrong CoT of a
    question), and the count of answers by (task, what they were)."""
    pairs, counts = [], Counter()
    for q in questions:
        seen: set[str] = set()
        for answer in answers.get(q["id"], []):
            reason = judge(answer["completion"], q["answer"], kinds[q["task"]], answer["cut"])
            counts[q["task"], reason] += 1
            if reason != WRONG or answer["completion"].strip() in seen:
                continue
            seen.add(answer["completion"].strip())
            pairs.append(student_pair(q, gold_cots[q["prompt"]], answer["completion"], f"{q['id']}-{len(seen)}"))
    return pairs, counts


def programmatic_mistakes(model_path: str, tasks: dict[str, int], out: Path, seed: int = 0,
                          exclude_keys: dict[str, set[str]] | None = None, **answering) -> tuple[list[dict], dict]:
    """The student answers ``tasks[task]`` new generated questions of each
    family (none of whose keys is in ``exclude_keys``); pairs with the gold
    CoTs, and a summary with the skips counted by reason."""
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import fresh_items

    questions, gold_cots, kinds = [], {}, {}
    for i, (task, n) in enumerate(tasks.items()):
        family = TASK_FAMILIES[task]
        kinds[task] = family.ANSWER_KIND
        drawn = fresh_items(family, n, seed + 10 * i, (exclude_keys or {}).get(task, set()), by_key=True)
        for k, (prompt, item) in enumerate(drawn):
            questions.append({"id": f"{task}-student-{seed}-{k}", "task": task, "prompt": prompt,
                              "answer": item.answer})
            gold_cots[prompt] = item.chosen
    answers = answer_questions(model_path, questions, out, seed=seed, **answering)
    pairs, counts = pairs_from_answers(questions, gold_cots, answers, kinds)
    outcomes = (WRONG,) + SKIP_REASONS
    summary = {"teacher": "synthetic", "mistakes_from": str(model_path), "seed": seed, "questions": len(questions),
               "answers": sum(counts.values()), "pairs": len(pairs),
               "answers_by_outcome": {reason: sum(counts[task, reason] for task in tasks) for reason in outcomes},
               "per_task": {task: {reason: counts[task, reason] for reason in outcomes} for task in tasks}}
    return pairs, summary


def write_mistake_files(out: Path, pairs: list[dict], summary: dict) -> None:
    write_records(Path(out) / "dual_cot.jsonl", pairs)
    write_json(Path(out) / "summary.json", summary)


def teacher_question_mistakes(model_path: str, questions: list, out: Path, **answering) -> tuple[list, dict]:
    """For an LLM teacher: the student answers ``questions`` (`TeacherQuestion`s,
    in the training prompt format); its wrong CoTs come back as
    `KnownMistake`s for the pipeline to rectify with the answer hint, and the
    answers are counted by what they were."""
    from edit_plugin.teacher.mistakes import KnownMistake
    from edit_plugin.text.prompts import build_prompt

    rows = [{"id": q.id, "task": q.task, "prompt": build_prompt(q.question, q.description), "answer": q.gold}
            for q in questions]
    answers = answer_questions(model_path, rows, Path(out) / "student", **answering)
    known, counts = [], Counter()
    for q in questions:
        for answer in answers[q.id]:
            reason = judge_doc(answer["completion"], q.doc(), answer["cut"])
            counts[reason] += 1
            if reason == WRONG and q.id not in {m.question.id for m in known}:  # one pair per question
                known.append(KnownMistake(q, answer["completion"].strip(), None, None))
    return known, {"mistakes_from": str(model_path), "questions": len(questions),
                   "answers_by_outcome": {reason: counts[reason] for reason in (WRONG,) + SKIP_REASONS}}


def mark_student_pairs(out: Path, student_ids: set[str]) -> int:
    """Relabel the pairs the pipeline built from the student's CoTs ``source:
    student`` (in ``dual_cot.jsonl`` and the summary's pair counts)."""
    from edit_plugin.text.schema import iter_records

    path, summary_path = Path(out) / "dual_cot.jsonl", Path(out) / "summary.json"
    pairs = list(iter_records(path)) if path.is_file() else []
    for pair in pairs:
        if pair.get("id") in student_ids and pair.get("source") == "rectified":
            pair["source"] = "student"
    write_records(path, pairs)
    marked = sum(p.get("source") == "student" for p in pairs)
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        counts = summary.get("pairs", {})
        counts["rectified"] = counts.get("rectified", 0) - marked
        counts["student"] = marked
        write_json(summary_path, summary)
    return marked
