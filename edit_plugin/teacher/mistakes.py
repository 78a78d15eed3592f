"""Existing incorrect CoTs (D-) read from BIG-Bench Mistake files.

Instead of asking a teacher for CoTs and keeping its wrong ones, a user may
bring wrong CoTs that already exist, such as BIG-Bench Mistake
(WHGTyen/BIG-Bench-Mistake): PaLM 2 traces on five BBH-style tasks, one JSON
object a line with ``input``, ``steps`` (list of strings), ``target`` and
``mistake_index`` (0-based index of the first wrong step, or null). ``answer``
is not read: whether a trace is wrong is judged by the question's own scorer.

Each trace's question is rewritten in the BBH format of its task (BIG-Bench
Mistake drops the dyck / word_sorting instruction, rewrites logical deduction
as a bullet list and ends tracking options with a period), then matched to a
BBH document by whitespace-normalised text. A question of the BBH test part is
an evaluation question and is skipped by default; unmatched questions are kept
with the trace's own target as gold.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edit_plugin.eval_sets.bbh import BBH_KINDS, bbh_description, bbh_docs, bbh_exemplars
from edit_plugin.eval_sets.documents import options_from_text
from edit_plugin.files.jsonl import iter_jsonl
from edit_plugin.teacher.questions import TeacherQuestion
from edit_plugin.text.prompts import ANSWER_PHRASE, COT_OPENING
from edit_plugin.text.schema import DualCoTDataError, record_problem
from edit_plugin.text.scoring import canonical

_SIZES = ("three", "five", "seven")
# BIG-Bench Mistake file stem -> the BBH tasks its questions come from.
MISTAKE_FILE_TASKS = {
    "dyck_languages": ("dyck_languages",),
    "word_sorting": ("word_sorting",),
    "multistep_arithmetic": ("multistep_arithmetic_two",),
    "logical_deduction": tuple(f"logical_deduction_{size}_objects" for size in _SIZES),
    "tracking_shuffled_objects": tuple(f"tracking_shuffled_objects_{size}_objects" for size in _SIZES),
}
_SIZE_BY_OBJECT_COUNT = {3: "three", 5: "five", 7: "seven"}

# The instructions BBH writes before the question, where BIG-Bench Mistake has none.
_BBH_PREFIXES = {
    "dyck_languages": ("Complete the rest of the sequence, making sure that the parentheses are closed "
                       "properly. Input: "),
    "word_sorting": "Sort the following words alphabetically: List: ",
}
_LOGICAL_DEDUCTION_PREFIX = ("The following paragraphs each describe a set of {size} objects arranged in a fixed "
                             "order. The statements are logically consistent within each paragraph. ")
_OPTION_LINE_RE = re.compile(r"^\([A-Z]\) ")
# The trace's closing phrase: "So the answer is X" in most files, a sentence
# "The answer is X" in word_sorting and a few logical_deduction traces.
_CLOSING_PHRASE_RE = re.compile(r"(?:So t|T)he answer is")

STRING_FIELDS = ("input", "target")
COUNT_KEYS = ("read", "matched_train", "matched_test", "unmatched", "in_bbh_test", "answer_correct", "kept",
              "kept_without_span", "kept_without_answer", "target_disagrees")


class MistakeDataError(DualCoTDataError):
    """A BIG-Bench Mistake row is malformed; the message names file, line and field."""


@dataclass
class KnownMistake:
    question: TeacherQuestion
    cot: str                      # COT_OPENING + the steps, one a line, ending with ANSWER_PHRASE
    error_char_start: int | None  # cot[start:end] is the first wrong step, where one is marked
    error_char_end: int | None
    bbh_id: str | None = None     # the matched BBH document ("task-index"), None when unmatched


# --- questions in the BBH format -------------------------------------------

def _option_lines_without_period(lines: list[str]) -> list[str]:
    """BBH's option lines end without a period; BIG-Bench Mistake's with one."""
    return [line[:-1] if _OPTION_LINE_RE.match(line) and line.endswith(".") else line for line in lines]


def _object_count(text: str) -> int:
    """Logical deduction and tracking questions have one option per object."""
    return sum(1 for line in text.splitlines() if _OPTION_LINE_RE.match(line.strip()))


def _sized_task(file_stem: str, text: str) -> str:
    count = _object_count(text)
    if count not in _SIZE_BY_OBJECT_COUNT:
        raise ValueError(f"has {count} options; expected 3, 5 or 7 (one per object)")
    return f"{file_stem}_{_SIZE_BY_OBJECT_COUNT[count]}_objects"


def _logical_deduction_question(text: str, task: str) -> str:
    """The bullet-list form ("- statement" lines, a "Q: Given the above
    statements..." line) as BBH's one paragraph followed by the options."""
    if text.startswith("The following paragraphs"):
        return "\n".join(_option_lines_without_period(text.split("\n")))  # already BBH's form
    lines = text.split("\n")
    if "Options:" not in lines:
        raise ValueError("has no 'Options:' line")
    options_at = lines.index("Options:")
    statements = [line[2:].strip() for line in lines[:options_at] if line.startswith("- ")]
    if not statements:
        raise ValueError("has no '- ' statement lines")
    size = task.split("_")[-2]
    paragraph = _LOGICAL_DEDUCTION_PREFIX.format(size=size) + " ".join(statements)
    return "\n".join([paragraph, "Options:", *_option_lines_without_period(lines[options_at + 1:])])


def bbh_format_question(file_stem: str, text: str) -> tuple[str, str]:
    """(BBH task, question as BBH writes it) of a BIG-Bench Mistake input.

    Raises ValueError when the input does not have its file's form."""
    text = text.strip()
    if file_stem in _BBH_PREFIXES:
        prefix = _BBH_PREFIXES[file_stem]
        return file_stem, text if text.startswith(prefix) else prefix + text
    if file_stem == "multistep_arithmetic":
        return "multistep_arithmetic_two", text
    task = _sized_task(file_stem, text)
    if file_stem == "logical_deduction":
        return task, _logical_deduction_question(text, task)
    return task, "\n".join(_option_lines_without_period(text.split("\n")))


# --- CoT and error span ----------------------------------------------------

def _with_answer_phrase(step: str) -> str:
    """The last closing phrase of a step turned into the project's ANSWER_PHRASE."""
    matches = list(_CLOSING_PHRASE_RE.finditer(step))
    if not matches:
        return step
    last = matches[-1]
    return step[:last.start()] + ANSWER_PHRASE + step[last.end():]


def cot_with_step_spans(steps: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The CoT in the project's format and each step's character span in it."""
    steps = [*steps[:-1], _with_answer_phrase(steps[-1])]
    spans, position = [], len(COT_OPENING) + 1
    for step in steps:
        spans.append((position, position + len(step)))
        position += len(step) + 1
    return COT_OPENING + "\n" + "\n".join(steps), spans


# --- reading rows ----------------------------------------------------------

def _row_problem(row: object) -> str | None:
    # Only our string fields go to record_problem: it also checks the
    # dual-CoT field 'source', which means something else here.
    if not isinstance(row, dict):
        return record_problem(row)
    problem = record_problem({name: row.get(name) for name in STRING_FIELDS}, STRING_FIELDS)
    if problem:
        return problem
    steps = row.get("steps")
    if not isinstance(steps, list) or not steps or not all(isinstance(step, str) for step in steps):
        return "field 'steps' must be a non-empty list of strings"
    if "mistake_index" not in row:
        return "field 'mistake_index' is missing (null when no step is marked)"
    index = row["mistake_index"]
    if index is None:
        return None
    if not isinstance(index, int) or isinstance(index, bool):
        return f"field 'mistake_index' must be an integer or null, got {type(index).__name__}"
    if not 0 <= index < len(steps):
        return f"field 'mistake_index' is {index}, out of range for {len(steps)} steps"
    return None


def _rows(path: Path):
    """(0-based line index, row) of every non-blank line, checked."""
    for line_no, row in iter_jsonl(path, _row_problem, MistakeDataError):
        yield line_no - 1, row


def mistake_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"{path} has no .jsonl files")
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"no such file or folder: {path}")
    for file in files:
        if file.stem not in MISTAKE_FILE_TASKS:
            raise MistakeDataError(f"{file}: unknown BIG-Bench Mistake file; its name must be one of "
                                   f"{sorted(f + '.jsonl' for f in MISTAKE_FILE_TASKS)}")
    return files


# --- BBH lookup ------------------------------------------------------------

class _BBHIndex:
    """BBH documents by whitespace-normalised question, read once per task."""

    def __init__(self):
        self._by_task: dict[str, tuple[dict, set[str]]] = {}

    def _task(self, task: str) -> tuple[dict, set[str]]:
        if task not in self._by_task:
            test_ids = {doc["id"] for doc in bbh_docs(task, "test")}
            by_text: dict[str, dict] = {}
            for doc in bbh_docs(task, "full"):
                key = _normalised(doc["question"])
                # A question asked twice counts as a test question if either copy is one.
                if key not in by_text or doc["id"] in test_ids:
                    by_text[key] = doc
            self._by_task[task] = (by_text, test_ids)
        return self._by_task[task]

    def match(self, task: str, question: str) -> tuple[dict | None, bool]:
        """(matched document or None, whether it is in the test part)."""
        by_text, test_ids = self._task(task)
        doc = by_text.get(_normalised(question))
        return doc, bool(doc) and doc["id"] in test_ids


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _unmatched_question(qid: str, task: str, question: str, gold: str) -> TeacherQuestion:
    kind = BBH_KINDS.get(task, "choice")
    labels, texts = options_from_text(question) if kind == "choice" else ([], [])
    return TeacherQuestion(qid, task, bbh_description(task), question, gold, kind, labels, texts,
                           bbh_exemplars(task))


def _matched_question(qid: str, task: str, doc: dict) -> TeacherQuestion:
    return TeacherQuestion(qid, task, doc["description"], doc["question"], doc["target"], doc["kind"],
                           doc["option_labels"], doc["option_texts"], bbh_exemplars(task))


def _targets_agree(question: TeacherQuestion, trace_target: str) -> bool:
    def form(answer: str) -> str:
        return canonical(answer, question.kind, question.option_labels, question.option_texts)

    return form(trace_target) == form(question.gold)


# --- the reader ------------------------------------------------------------

def read_mistakes(path: str | Path, exclude_test: bool = True) -> tuple[list[KnownMistake], dict]:
    """Wrong CoTs of a BIG-Bench Mistake file (or a folder of them) as D-.

    Returns the kept mistakes and counts, overall, per file and kept per BBH
    task. Per file: read = matched_train + matched_test + unmatched, and
    read = kept + in_bbh_test (skipped test questions, 0 unless exclude_test)
    + answer_correct (skipped: the trace reaches the gold answer). Ids are
    ``bbh_mistake-{file stem}-{0-based line index}``.
    """
    index = _BBHIndex()
    mistakes: list[KnownMistake] = []
    totals: Counter = Counter()
    per_file: dict[str, dict] = {}
    kept_by_task: Counter = Counter()
    for file in mistake_files(path):
        counts: Counter = Counter()
        for line_index, row in _rows(file):
            counts["read"] += 1
            mistake = _read_row(file, line_index, row, index, exclude_test, counts)
            if mistake:
                mistakes.append(mistake)
                kept_by_task[mistake.question.task] += 1
        per_file[file.stem] = {key: counts[key] for key in COUNT_KEYS}
        totals.update(counts)
    stats = {**{key: totals[key] for key in COUNT_KEYS}, "files": per_file,
             "kept_by_task": dict(sorted(kept_by_task.items()))}
    return mistakes, stats


def _read_row(file: Path, line_index: int, row: dict, index: _BBHIndex, exclude_test: bool,
              counts: Counter) -> KnownMistake | None:
    """One trace as a KnownMistake, or None (counted) when it is skipped."""
    try:
        task, question_text = bbh_format_question(file.stem, row["input"])
    except ValueError as err:
        raise MistakeDataError(f"{file}, line {line_index + 1}: field 'input' {err}") from err
    qid = f"bbh_mistake-{file.stem}-{line_index}"
    doc, in_test = index.match(task, question_text)
    counts["unmatched" if doc is None else "matched_test" if in_test else "matched_train"] += 1
    if in_test and exclude_test:
        counts["in_bbh_test"] += 1
        return None
    if doc is None:
        question = _unmatched_question(qid, task, question_text, row["target"].strip())
    else:
        question = _matched_question(qid, task, doc)
        counts["target_disagrees"] += not _targets_agree(question, row["target"])
    cot, spans = cot_with_step_spans(row["steps"])
    if question.is_correct(cot):
        counts["answer_correct"] += 1
        return None
    counts["kept"] += 1
    counts["kept_without_answer"] += ANSWER_PHRASE not in cot
    bbh_id = doc["id"] if doc else None
    marked = row["mistake_index"]
    if marked is None:
        counts["kept_without_span"] += 1
        return KnownMistake(question, cot, None, None, bbh_id)
    start, end = spans[marked]
    return KnownMistake(question, cot, start, end, bbh_id)
