"""Tracing wrong answers to generated questions to their first wrong step."""

import pytest

from edit_plugin.synthetic import boolean_expressions, object_counting
from edit_plugin.synthetic.first_error import count_first_errors, first_error, first_error_table, gold_cots

GOLD_COUNT = ("Let's think step by step.\nWe first identify the fruits on the list and include their quantity "
              "in parentheses:\n- plum (2)\n- apple (1)\nNow, let's add the numbers in parentheses: 2 + 1 = 3.\n"
              "Therefore, the answer is 3.")
GOLD_BOOL = ("Let's think step by step.\nRemember that brackets come first, then \"not\", then \"and\", then \"or\".\n"
             "A = not ( True and False ) = not False = True.\nB = not True = False.\n"
             "So A or B = True or False = True.\nTherefore, the answer is True.")


@pytest.mark.parametrize("completion, expected", [
    (GOLD_COUNT, "none"),
    (GOLD_COUNT.replace("- apple (1)\n", "- apple (1)\n- goat (2)\n"), "knowledge"),
    (GOLD_COUNT.replace("- apple (1)\n", ""), "omission"),
    (GOLD_COUNT.replace("apple (1)", "apple (3)"), "copy"),
    (GOLD_COUNT.replace("= 3.", "= 4.").replace("is 3.", "is 4."), "calculation"),
    (GOLD_COUNT.split("\n", 1)[1], "format"),
])
def test_object_counting_errors_are_named_by_their_first_wrong_line(completion, expected):
    assert first_error("object_counting", GOLD_COUNT, completion) == expected


@pytest.mark.parametrize("completion, expected", [
    (GOLD_BOOL, "none"),
    (GOLD_BOOL.replace("not False = True.", "not False = False."), "calculation"),
    (GOLD_BOOL.replace("not ( True and False ) = not False", "not ( True or False ) = not True"), "copy"),
    (GOLD_BOOL.replace("True or False = True.", "True or False = False."), "logic"),
    (GOLD_BOOL + "\nTherefore, the answer is False.", "format"),
])
def test_boolean_errors_are_named_by_their_first_wrong_line(completion, expected):
    assert first_error("boolean_expressions", GOLD_BOOL, completion) == expected


def test_families_without_error_classes_are_refused():
    with pytest.raises(ValueError, match="no error classes for word_sorting"):
        first_error("word_sorting", "a", "a")


def test_gold_cots_are_re_drawn_from_question_ids():
    questions = object_counting.generate_questions(5, seed=3) + boolean_expressions.generate_questions(
        4, seed=9, hard=True)
    cots = gold_cots(questions)
    assert len(cots) == 9
    for q in questions:
        assert cots[q["prompt"]].endswith(f"the answer is {q['answer']}.")
    with pytest.raises(ValueError, match="not a generated held-out question"):
        gold_cots([{"id": "bbh-1", "prompt": "x"}])


def test_a_table_counts_wrong_answers_and_the_share_the_pairs_teach():
    questions = object_counting.generate_questions(3, seed=3)
    cots = gold_cots(questions)
    first, second, third = questions
    intruder = cots[first["prompt"]].replace("\n- ", "\n- goat (9)\n- ", 1)
    outcomes = [{"question_id": first["id"], "correct": False, "completion": intruder},
                {"question_id": second["id"], "correct": False, "completion": "I do not know."},
                {"question_id": third["id"], "correct": True, "completion": cots[third["prompt"]]}]
    counts = count_first_errors(questions, outcomes)
    assert counts == {("object_counting", "knowledge"): 1, ("object_counting", "format"): 1}
    table = first_error_table({"m": counts})
    assert "object_counting format (not taught)" in table and "| m | 2 | 1 | 1 | 50% |" in table
    with pytest.raises(ValueError, match="not in the questions file"):
        count_first_errors(questions[:1], outcomes[1:2])
