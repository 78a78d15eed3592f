"""One answer rule for held-out questions: `scoring.verdict` under the
question's answer kind (its own, its family's, or its gold answer's)."""

from __future__ import annotations

import json

import pytest

from edit_plugin.decode import score
from edit_plugin.question_scoring import QuestionKindError, answer_kind, is_right, question_verdict
from edit_plugin.synthetic import TASK_FAMILIES


def test_a_parenthetical_aside_is_no_second_answer():
    # The case the two old rules disagreed on: verdict reads 18.
    row = {"task": "object_counting", "prompt": "Q: how many?\n\nA:", "answer": "18"}
    assert is_right("Therefore, the answer is 18 (10 + 8).", row)
    assert question_verdict("Therefore, the answer is 18 or 19.", row) == "hedged"
    assert question_verdict("There are 18.", row) == "unreadable"
    assert is_right("So the answer is 18.0.", row) and is_right("The answer is: 18", row)


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_every_generated_question_is_scored_under_its_family_kind(task):
    family = TASK_FAMILIES[task]
    for question in family.generate_questions(5, seed=4):
        assert answer_kind(question) == family.ANSWER_KIND
        assert is_right(f"Some steps. Therefore, the answer is {question['answer']}.", question)


def test_a_row_kind_wins_then_the_family_then_the_gold():
    assert answer_kind({"prompt": "", "answer": "7", "kind": "words"}) == "words"
    assert answer_kind({"prompt": "", "answer": "9", "task": "date_arithmetic"}) == "words"
    assert answer_kind({"prompt": "", "answer": "-7", "task": "mine"}) == "number"
    assert answer_kind({"prompt": "", "answer": "True"}) == "bool"
    assert answer_kind({"prompt": "", "answer": "no"}) == "yesno"
    assert answer_kind({"prompt": "", "answer": "invalid"}) == "validity"
    prompt = "Q: Which?\nOptions:\n(A) red ball\n(B) blue ball\n\nA:"
    assert answer_kind({"prompt": prompt, "answer": "(B)"}) == "choice"
    # Options are read from the prompt: the option's text names it too.
    assert is_right("Therefore, the answer is blue ball.", {"prompt": prompt, "answer": "(B)"})


def test_a_row_that_names_no_kind_it_can_have_is_refused():
    with pytest.raises(QuestionKindError, match="cannot infer the answer kind of 'apple pear'.*field 'kind'"):
        answer_kind({"prompt": "", "answer": "apple pear"})
    with pytest.raises(QuestionKindError, match="field 'kind' must be one of"):
        answer_kind({"prompt": "", "answer": "7", "kind": "integer"})
    with pytest.raises(QuestionKindError, match="'seven' is not a 'number' answer"):
        question_verdict("the answer is 7", {"prompt": "", "answer": "seven", "kind": "number"})


def test_decode_score_uses_the_rule():
    rows = [{"task": "object_counting", "prompt": "", "answer": "18"},
            {"task": "boolean_expressions", "prompt": "", "answer": "False"}]
    result = score(["Therefore, the answer is 18 (10 + 8).", "No answer."], rows)
    assert result == {"n": 2, "correct": 1, "accuracy": 0.5, "answered": 0.5}


def test_a_question_file_without_a_kind_it_can_infer_is_refused_when_the_data_is_prepared(tmp_path):
    from pathlib import Path

    from edit_plugin.experiment.data import prepare_data
    from edit_plugin.experiment.plan import PlanError, parse_plan

    root = Path(__file__).resolve().parents[1]
    questions = tmp_path / "mine.jsonl"

    def plan():
        return parse_plan({"student": {"recipes": str(root / "recipes" / "smollm2-135m")},
                           "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8}},
                           "conditions": ["std_cot"], "seeds": [1],
                           "evaluation": {"benchmarks": [{"name": "mine", "questions": str(questions)}]}})

    rows = [{"prompt": "Q: Sort: pear apple\n\nA:", "answer": "apple pear"}]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(PlanError, match=r"'mine'.*question 1: cannot infer the answer kind"):
        prepare_data(plan(), tmp_path / "data")
    questions.write_text(json.dumps({**rows[0], "kind": "words"}) + "\n")
    data = prepare_data(plan(), tmp_path / "data2")
    assert json.loads(data.questions("mine").read_text())["kind"] == "words"
