"""Question sets for the teacher: a question, its gold answer and how answers
compare (the evaluation's scorer, `edit_plugin.text.scoring`), plus the task's
exemplars if it has any.

The named sets come from the benchmark modules (`edit_plugin.eval_sets`):
each is formatted exactly like the evaluation documents of its kind, and
none of them hands out an evaluated document unless the caller opts in with
``allow_eval_overlap``: training on them would contaminate the scores. The
user's own sets are ``.jsonl`` files (`jsonl_questions`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edit_plugin.eval_sets import question_sets
from edit_plugin.eval_sets.documents import choice_doc, option_labels, options_from_text
from edit_plugin.eval_sets.spec import of_tasks
from edit_plugin.files.jsonl import iter_jsonl
from edit_plugin.text.schema import record_problem
from edit_plugin.text.scoring import KINDS, canonical_target, inferred_kind, verdict
from edit_plugin.text.teacher_prompts import Exemplar

QUESTION_SETS = tuple(question_sets())


@dataclass
class TeacherQuestion:
    id: str
    task: str
    description: str
    question: str
    gold: str
    kind: str = "choice"
    option_labels: list[str] = field(default_factory=list)
    option_texts: list[str] = field(default_factory=list)
    exemplars: tuple[Exemplar, ...] = ()

    def doc(self) -> dict:
        return {"target": self.gold, "kind": self.kind, "option_labels": self.option_labels,
                "option_texts": self.option_texts}

    def verdict(self, cot: str) -> str:
        """correct, wrong, hedged or unreadable (`edit_plugin.text.scoring.verdict`)."""
        return verdict(cot, self.doc())

    def is_correct(self, cot: str) -> bool:
        return self.verdict(cot) == "correct"

    def is_wrong(self, cot: str) -> bool:
        """One readable answer that is not the gold one: what CCP must produce.
        A hedge ("(A) or (B)") is no clean wrong CoT, an unreadable answer no answer."""
        return self.verdict(cot) == "wrong"

    def is_readable(self, cot: str) -> bool:
        """The CoT states an answer (a hedge counts: it is a wrong answer)."""
        return self.verdict(cot) != "unreadable"


def from_doc(doc: dict, exemplars: tuple[Exemplar, ...] = ()) -> TeacherQuestion:
    """The question of an evaluation-schema document (`edit_plugin.eval_sets.documents`)."""
    return TeacherQuestion(doc["id"], doc["task"], doc["description"], doc["question"], doc["target"],
                           doc["kind"], doc["option_labels"], doc["option_texts"], exemplars)


# --- the user's own questions -------------------------------------------------

class QuestionFileError(ValueError):
    """A line of a user question file is malformed; the message says where."""


QUESTION_FIELDS = ("question", "answer")
_OPTIONAL_TEXT_FIELDS = ("id", "task", "description", "kind")


def jsonl_questions(path: str | os.PathLike) -> list[TeacherQuestion]:
    """The user's questions, one JSON object per line.

    Required: ``question`` and ``answer`` (the gold: "(B)", "42", "True", ...).
    Optional: ``id`` (default ``<file stem>-<0-based line index>``), ``task``
    (default the file stem), ``description`` (default ""), ``options`` (option
    texts: lettered A, B, ... and appended to the question as the evaluation
    does), ``kind`` (an answer kind of `edit_plugin.text.scoring`;
    inferred when the question is multiple choice or the answer is a number,
    True/False, Yes/No or valid/invalid, required otherwise).
    """
    path = Path(path)
    questions, first_line_of = [], {}
    for line_no, record in iter_jsonl(path, _record_problem, QuestionFileError):
        try:
            question = _question_from_record(path, line_no, record)
        except QuestionFileError as err:
            raise QuestionFileError(f"{path}, line {line_no}: {err}") from None
        if question.id in first_line_of:
            raise QuestionFileError(f"{path}, line {line_no}: duplicate id {question.id!r} "
                                    f"(first on line {first_line_of[question.id]})")
        first_line_of[question.id] = line_no
        questions.append(question)
    return questions


def _question_from_record(path: Path, line_no: int, record: dict) -> TeacherQuestion:
    """One line's question; a QuestionFileError says what is wrong (the caller adds where)."""
    doc_id = record.get("id") or f"{path.stem}-{line_no - 1}"
    task, description = record.get("task") or path.stem, record.get("description", "")
    question_text, answer = record["question"].strip(), record["answer"].strip()
    options = _options_field(record)
    if options:
        labels, texts = option_labels(len(options)), options
    else:
        labels, texts = options_from_text(question_text)
    kind = _answer_kind(record, answer, has_options=len(labels) >= 2)
    if kind != "choice":
        question = TeacherQuestion(doc_id, task, description, question_text, answer, kind)
        if not canonical_target(question.doc()):
            raise QuestionFileError(f"field 'answer' {answer!r} is not a {kind!r} answer")
        return question
    gold_label = _choice_label(answer, labels, texts)
    if options:  # lettered and appended to the question, as the evaluation does
        return from_doc(choice_doc(doc_id, task, question_text, labels, texts, gold_label, description))
    return TeacherQuestion(doc_id, task, description, question_text, f"({gold_label})", kind, labels, texts)


def _record_problem(record: object) -> str | None:
    # Only the question fields: `source` means something else in dual-CoT files.
    problem = record_problem({k: record[k] for k in QUESTION_FIELDS if k in record}
                             if isinstance(record, dict) else record, QUESTION_FIELDS)
    if problem:
        return problem
    for name in _OPTIONAL_TEXT_FIELDS:
        if name in record and not isinstance(record[name], str):
            return f"field '{name}' must be a string, got {type(record[name]).__name__}"
    return None


def _options_field(record: dict) -> list[str]:
    options = record.get("options")
    if options is None:
        return []
    if not isinstance(options, list) or len(options) < 2 or \
            not all(isinstance(o, str) and o.strip() for o in options):
        raise QuestionFileError("field 'options' must be a list of at least two non-empty strings")
    return [o.strip() for o in options]


def _answer_kind(record: dict, answer: str, has_options: bool) -> str:
    kind = record.get("kind") or _inferred_kind(answer, has_options)
    if kind not in KINDS:
        raise QuestionFileError(f"field 'kind' must be one of {KINDS}, got {kind!r}")
    if "options" in record and kind != "choice":
        raise QuestionFileError(f"field 'options' needs kind 'choice', got {kind!r}")
    return kind


def _inferred_kind(answer: str, has_options: bool) -> str:
    kind = inferred_kind(answer, has_options)
    if kind is None:
        raise QuestionFileError(f"cannot infer the answer kind of {answer!r}; set field 'kind' to one of {KINDS}")
    return kind


def _choice_label(answer: str, labels: list[str], texts: list[str]) -> str:
    """The option label an answer names ("(B)", "B" or the option's text)."""
    if not labels:
        raise QuestionFileError("kind 'choice' needs options: an 'options' list or '(A) ...' lines "
                                "in the question")
    label = canonical_target({"target": answer, "kind": "choice", "option_labels": labels, "option_texts": texts})
    if not label:
        raise QuestionFileError(f"field 'answer' {answer!r} names none of the options {', '.join(labels)}")
    return label


# --- one entry point ----------------------------------------------------------

def question_set(name: str, tasks: Sequence[str] | None = None, limit: int | None = None,
                 allow_eval_overlap: bool = False) -> list[TeacherQuestion]:
    """The questions of a named set or of a ``.jsonl`` file.

    ``tasks`` keeps some tasks only (BBH tasks, BB-sub subtasks, AGIEval
    subsets, the ``task`` values of a file); ``limit`` keeps at most that
    many questions per task, in order. ``allow_eval_overlap`` permits
    evaluated questions (AGIEval); it never selects them where a set has
    others (BBH: the train part, BB-sub: unpinned examples, ARC and GSM8K:
    the train split).
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of questions per task, got {limit}")
    named = question_sets()
    if name in named:
        entry = named[name]
        questions = [from_doc(doc, entry.exemplars(doc["task"])) for doc in entry.docs(tasks, allow_eval_overlap)]
    elif name.endswith(".jsonl") or Path(name).is_file():
        questions = of_tasks(jsonl_questions(name), tasks, name, task_of=lambda q: q.task)
    else:
        raise ValueError(f"unknown question set {name!r}; expected one of {', '.join(QUESTION_SETS)} "
                         "or the path of a .jsonl file")
    return at_most_per_task(questions, limit)


def at_most_per_task(items: list, limit: int | None, task_of=lambda q: q.task) -> list:
    """The first ``limit`` items of each task, in order (all with no limit)."""
    if limit is None:
        return items
    counts: dict[str, int] = {}
    kept = []
    for item in items:
        task = task_of(item)
        counts[task] = counts.get(task, 0) + 1
        if counts[task] <= limit:
            kept.append(item)
    return kept
