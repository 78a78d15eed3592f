"""Question sets for the teacher."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest


def test_bbh_questions_come_from_the_train_part_only():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("needs ../shared/data")
    import os

    from edit_plugin.eval_sets import bbh, source
    from edit_plugin.teacher.questions import question_set

    os.environ[source.DATA_DIR_ENV] = str(shared)
    try:
        bbh.bbh_examples.cache_clear()
        questions = question_set("bbh", tasks=["navigate"])
        test_ids = {d["id"] for d in bbh.bbh_docs("navigate", "test")}
    finally:
        del os.environ[source.DATA_DIR_ENV]
        bbh.bbh_examples.cache_clear()
    assert len(questions) == 200 and not {q.id for q in questions} & test_ids
    assert len(questions[0].exemplars) == 3


# --- zero-shot sets, user files, the dispatcher -------------------------------

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
SOME_SUBTASKS = ["anachronisms", "goal_step_wikihow__step_inference"]


@pytest.fixture
def local_data(monkeypatch):
    from edit_plugin.eval_sets import bbh, source

    monkeypatch.setenv(source.DATA_DIR_ENV, str(SHARED))
    bbh.bbh_examples.cache_clear()
    yield SHARED
    bbh.bbh_examples.cache_clear()


def gold_cot(question) -> str:
    from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

    return f"{COT_OPENING}\n... {format_answer_sentence(question.gold)}"


def stem(question_text: str) -> str:
    return question_text.split("\nAnswer Choices:\n")[0]


@needs_shared
def test_bbsub_questions_are_unpinned_examples_formatted_like_the_evaluation(local_data):
    from edit_plugin.eval_sets.bbsub import bbsub_docs, fingerprint, manifest
    from edit_plugin.teacher.questions import question_set

    questions = question_set("bbsub", SOME_SUBTASKS)
    pinned = {fp for entry in manifest()["subtasks"].values() for fp in entry["fingerprints"]}
    for subtask in SOME_SUBTASKS:
        mine = [q for q in questions if q.task == f"bbsub_{subtask}"]
        docs = bbsub_docs(subtask)
        assert mine and [q.id for q in mine] == [f"bbsub_{subtask}-train-{k}" for k in range(len(mine))]
        assert not {q.question for q in mine} & {d["question"] for d in docs}
        assert not {stem(q.question) for q in mine} & {stem(d["question"]) for d in docs}
        assert not {fingerprint(stem(q.question), q.option_texts) for q in mine} & pinned
        for q in mine:
            assert q.description == docs[0]["description"] and q.kind == "choice" and not q.exemplars
            assert q.option_labels == [chr(65 + i) for i in range(len(q.option_texts))]
            assert q.option_texts == sorted(q.option_texts) and q.gold in {f"({x})" for x in q.option_labels}
            assert "\nAnswer Choices:\n(A) " in q.question
            assert q.is_correct(gold_cot(q))
    # 500 local examples, 100 pinned, 3 more share a pinned example's input.
    assert len([q for q in questions if q.task == "bbsub_goal_step_wikihow__step_inference"]) == 397


def test_bbsub_subtask_questions_need_the_local_copy(monkeypatch):
    from edit_plugin.eval_sets import source
    from edit_plugin.teacher.questions import question_set

    monkeypatch.delenv(source.DATA_DIR_ENV, raising=False)
    with pytest.raises(source.BenchmarkDataUnavailable, match="subtasks apart.*EDIT_DATA_DIR"):
        question_set("bbsub", ["cause_and_effect__one_sentence"])
    with pytest.raises(ValueError, match="unknown BB-sub subtask 'nope'"):
        question_set("bbsub", ["nope"])


@needs_shared
def test_arc_test_split_only_on_request_and_train_split_needs_the_data(local_data):
    from edit_plugin.eval_sets import arc, source
    from edit_plugin.teacher.questions import from_doc, question_set

    with pytest.raises(ValueError, match="contaminates.*allow_eval_overlap=True"):
        arc.teacher_docs("arc_challenge", "test")
    questions = [from_doc(d) for d in arc.teacher_docs("arc_challenge", "test", allow_eval_overlap=True)]
    docs = arc.arc_docs("arc_challenge")
    assert [(q.id, q.question, q.gold, q.option_labels) for q in questions] == \
        [(d["id"], d["question"], d["target"], d["option_labels"]) for d in docs]
    assert all(q.is_correct(gold_cot(q)) for q in questions[:200])
    missing = rf"{source.DATA_DIR_ENV}=.* has no arc/arc_easy_train.jsonl"
    with pytest.raises(source.BenchmarkDataUnavailable, match=missing):
        arc.teacher_docs("arc_easy")
    with pytest.raises(source.BenchmarkDataUnavailable, match=missing):
        question_set("arc_easy", allow_eval_overlap=True)


@needs_shared
def test_agieval_only_on_request(local_data):
    from edit_plugin.eval_sets import agieval
    from edit_plugin.teacher.questions import question_set

    with pytest.raises(ValueError, match="only a test split.*allow_eval_overlap=True"):
        question_set("agieval", ["lsat-ar"])
    with pytest.raises(ValueError, match="only a test split"):
        question_set("agieval")
    questions = question_set("agieval", tasks=["lsat-ar", "sat-math"], allow_eval_overlap=True)
    docs = agieval.agieval_docs("lsat-ar") + agieval.agieval_docs("sat-math")
    assert [(q.id, q.task, q.question, q.gold) for q in questions] == \
        [(d["id"], d["task"], d["question"], d["target"]) for d in docs]
    assert all(q.is_correct(gold_cot(q)) for q in questions)


def write_lines(path, *records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_jsonl_questions_defaults_inferred_kinds_and_options(tmp_path):
    from edit_plugin.teacher.questions import jsonl_questions, question_set

    path = write_lines(
        tmp_path / "mine.jsonl",
        {"question": "Which is a fruit?", "options": ["carrot", "apple", "leek"], "answer": "(B)",
         "description": "Pick one."},
        "",
        {"question": "How many legs has a spider?", "answer": "8", "task": "counting"},
        {"id": "q-lie", "question": "Is 'not True' True?", "answer": "False"},
        {"question": "Which is bigger?\nOptions:\n(A) mouse\n(B) elephant", "answer": "elephant"},
        {"question": "Is the sky green?", "answer": "No"},
        {"question": "Sort: b a", "answer": "a b", "kind": "words"},
    )
    questions = jsonl_questions(path)
    assert [q.id for q in questions] == ["mine-0", "mine-2", "q-lie", "mine-4", "mine-5", "mine-6"]
    assert [q.kind for q in questions] == ["choice", "number", "bool", "choice", "yesno", "words"]
    assert [q.task for q in questions] == ["mine", "counting", "mine", "mine", "mine", "mine"]
    fruit, _, _, bigger, _, _ = questions
    assert fruit.question == "Which is a fruit?\nAnswer Choices:\n(A) carrot\n(B) apple\n(C) leek"
    assert (fruit.option_labels, fruit.option_texts) == (["A", "B", "C"], ["carrot", "apple", "leek"])
    assert fruit.gold == "(B)"
    assert fruit.description == "Pick one." and questions[1].description == ""
    assert (bigger.option_labels, bigger.gold) == (["A", "B"], "(B)")
    assert all(q.is_correct(gold_cot(q)) for q in questions)
    assert not fruit.is_correct("Therefore, the answer is (A).")
    assert [q.id for q in question_set(str(path), tasks=["counting"])] == ["mine-2"]
    assert len(question_set(str(path), limit=2)) == 3  # two of "mine", one of "counting"


@pytest.mark.parametrize("bad_line, message", [
    ({"question": "2+2?"}, "line 2: field 'answer' is missing"),
    ('{"question": "2+2?", "answer": "4"', "line 2: invalid JSON"),
    ({"id": "first", "question": "3+3?", "answer": "6"}, "line 2: duplicate id 'first' .first on line 1."),
    ({"question": "2+2?", "answer": 4}, "line 2: field 'answer' must be a string"),
    ({"question": "Name it.", "answer": "Paris"}, "line 2: cannot infer .* set field 'kind'"),
    ({"question": "2+2?", "answer": "4", "kind": "text"}, "line 2: field 'kind' must be one of"),
    ({"question": "Pick.", "options": ["x", "y"], "answer": "(C)"}, "line 2: field 'answer' '.C.' names none"),
    ({"question": "Pick.", "options": "x y", "answer": "(A)"}, "line 2: field 'options' must be a list"),
    ({"question": "2+2?", "options": ["3", "4"], "answer": "4", "kind": "number"},
     "line 2: field 'options' needs kind 'choice'"),
    ({"question": "2+2?", "answer": "four", "kind": "number"}, "line 2: field 'answer' 'four' is not a 'number'"),
])
def test_jsonl_questions_bad_lines_name_file_line_and_field(tmp_path, bad_line, message):
    from edit_plugin.teacher.questions import QuestionFileError, jsonl_questions

    path = write_lines(tmp_path / "bad.jsonl", {"id": "first", "question": "1+1?", "answer": "2"}, bad_line)
    with pytest.raises(QuestionFileError, match=re.escape(str(path)) + ", " + message):
        jsonl_questions(path)


@needs_shared
def test_question_set_dispatches_filters_and_limits_per_task(local_data):
    from edit_plugin.teacher.questions import question_set

    questions = question_set("bbsub", tasks=SOME_SUBTASKS, limit=5)
    assert [q.id for q in questions] == [q.id for t in SOME_SUBTASKS for q in question_set("bbsub", [t])[:5]]
    bbh_tasks = ["navigate", "date_understanding"]
    bbh = question_set("bbh", tasks=bbh_tasks, limit=3)
    assert [q.id for q in bbh] == [q.id for t in bbh_tasks for q in question_set("bbh", [t])[:3]]
    assert all(q.is_correct(gold_cot(q)) for q in bbh + questions)
    with pytest.raises(ValueError, match="unknown question set 'mmlu'; expected one of bbh, bbsub, agieval, arc_easy"):
        question_set("mmlu")
    gsm8k = question_set("gsm8k", limit=4)
    assert [q.id for q in gsm8k] == [f"gsm8k-train-{i}" for i in range(4)] and {q.task for q in gsm8k} == {"gsm8k"}
    with pytest.raises(ValueError, match="unknown BBH task 'nope'"):
        question_set("bbh", tasks=["nope"])
    with pytest.raises(ValueError, match="limit must be a positive"):
        question_set("bbh", limit=0)
