"""One wrong calculation in an annotated solution, carried through: on
hand-written problems (every rule) and on GSM8K's train problems (every pair
the reference teacher makes)."""

from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest

from edit_plugin.gsm8k.corrupt import (Edit, Unclean, apply_edit, corrupt_solution, is_consistent_after,
                                       logic_edits, skip_reason, visible_expression)
from edit_plugin.gsm8k.solution import SolutionFormatError, parse_solution, strip_annotations

QUESTION = ("A baker makes 36 muffins in the morning and a third as many in the afternoon. "
            "He sells 40 of them. How many muffins are left?")
SOLUTION = ("In the afternoon he makes 36/3 = <<36/3=12>>12 muffins.\n"
            "In all he makes 36+12 = <<36+12=48>>48 muffins.\n"
            "He has 48-40 = <<48-40=8>>8 muffins left.\n"
            "#### 8")


def muffins(solution: str = SOLUTION):
    return parse_solution(solution)


def test_a_solution_parses_into_annotations_and_a_plain_cot():
    solution = muffins()
    assert solution.answer == "8"
    assert [(a.expression, a.result) for a in solution.annotations] == [("36/3", "12"), ("36+12", "48"),
                                                                        ("48-40", "8")]
    assert all(a.is_right() for a in solution.annotations)
    assert solution.cot() == ("Let's think step by step.\nIn the afternoon he makes 36/3 = 12 muffins.\n"
                              "In all he makes 36+12 = 48 muffins.\nHe has 48-40 = 8 muffins left.\n"
                              "Therefore, the answer is 8.")
    with pytest.raises(SolutionFormatError, match="####"):
        parse_solution("He has 8 muffins.")
    with pytest.raises(SolutionFormatError, match="malformed"):
        parse_solution("He has <<48-40=8 muffins.\n#### 8")
    with pytest.raises(SolutionFormatError, match="not a number"):
        parse_solution("He has 48-40 = <<48-40=8>>8 muffins.\n#### eight")
    assert parse_solution("It falls 5-12 = <<5-12=-7>>-7 degrees.\n#### -7").answer == "-7"


def test_a_wrong_result_is_carried_through_every_later_calculation():
    wrong = apply_edit(QUESTION, muffins(), Edit(0, "36/3", Fraction(13)), "calculation")
    assert wrong.body == ("In the afternoon he makes 36/3 = <<36/3=13>>13 muffins.\n"
                          "In all he makes 36+13 = <<36+13=49>>49 muffins.\n"
                          "He has 49-40 = <<49-40=9>>9 muffins left.")
    assert wrong.answer == "9" and wrong.error_type == "calculation" and wrong.index == 0
    assert is_consistent_after(wrong.body, 0)


def test_a_swapped_operator_changes_the_text_and_the_annotation():
    solution = muffins()
    edits = logic_edits(QUESTION, solution.body, solution.annotations[2], 2)
    swap = next(e for e in edits if e.expression == "48+40")
    wrong = apply_edit(QUESTION, solution, swap, "logic")
    assert wrong.body.endswith("He has 48+40 = <<48+40=88>>88 muffins left.") and wrong.answer == "88"
    # A quantity of the question in the wrong place is a logic error too.
    assert {e.expression for e in edits} >= {"48+40", "36-40", "48-36"}


@pytest.mark.parametrize("prefix, expression, shown", [
    ("Natalia sold 48/2 = ", "48/2", ["48", "/", "2"]),
    ("she earned 0.2 x 50 = $", "0.2*50", ["0.2", "x", "50"]),
    ("He pays $12 + $3 = $", "12+3", ["12", "+", "3"]),
    ("The total is (3 + 4) * 2 = ", "(3+4)*2", ["3", "+", "4", "*", "2"]),
])
def test_the_visible_calculation_is_found_before_its_annotation(prefix, expression, shown):
    found = visible_expression(prefix, expression)
    assert [text for text, _, _ in found] == shown
    assert all(prefix[start:end] == text for text, start, end in found)


@pytest.mark.parametrize("prefix, expression", [
    ("In all he makes ", "36+12"),          # the text shows no calculation
    ("He gets 2*48/2 = ", "48/2"),          # the text's calculation is longer
    ("4.8 L / 1.2 L/hour = ", "4.8/1.2"),   # units between the numbers
    ("He sold 48/3 = ", "48/2"),            # another number
])
def test_a_calculation_the_text_does_not_show_exactly_is_not_edited(prefix, expression):
    assert visible_expression(prefix, expression) is None


def _reason(question, solution, edit):
    with pytest.raises(Unclean) as refused:
        apply_edit(question, solution, edit, "calculation")
    return refused.value.reason


def test_each_unclean_change_is_refused_with_its_reason():
    solution = muffins()
    twelve_in_question = QUESTION.replace("He sells 40", "He eats 12 and sells 40")
    assert _reason(twelve_in_question, solution, Edit(0, "36/3", Fraction(13))) == "value_appears_earlier"
    assert _reason(QUESTION, solution, Edit(0, "36/3", Fraction(36))) == "values_collide"
    assert _reason(QUESTION, solution, Edit(0, "36/3", Fraction(25, 3))) == "unwritable_value"
    assert _reason(QUESTION, solution, Edit(0, "36/3", Fraction(2))) == "unwritable_value"  # 38 - 40 < 0
    assert _reason(QUESTION, solution, Edit(0, "36/3", Fraction(12))) == "answer_unchanged"
    side_line = SOLUTION.replace("\n#### 8", "\nHe also bakes 5*7 = <<5*7=35>>35 rolls.\n#### 8")
    assert _reason(QUESTION, muffins(side_line), Edit(3, "5*7", Fraction(34))) == "answer_unchanged"
    unannotated = SOLUTION.replace("\n#### 8", "\nThat is 4 fewer than 12.\n#### 8")
    assert _reason(QUESTION, muffins(unannotated), Edit(0, "36/3", Fraction(13))) == "unannotated_line"
    mental = SOLUTION.replace("He has 48-40 = <<", "He has 48-40 = 50-42 = <<")
    assert _reason(QUESTION, muffins(mental), Edit(0, "36/3", Fraction(13))) == "unannotated_line"
    # A later calculation whose result equals a changed value would disagree with itself.
    shared = SOLUTION.replace("\n#### 8", "\nHe gives away 6*2 = <<6*2=12>>12 too.\n#### 8")
    assert _reason(QUESTION, muffins(shared), Edit(0, "36/3", Fraction(13))) == "values_collide"


def test_problems_that_cannot_be_corrupted_say_why():
    rng = random.Random(0)
    corruption, reasons = corrupt_solution(QUESTION, muffins("He has 8 muffins left.\n#### 8"),
                                           ("calculation", "logic"), rng)
    assert corruption is None and skip_reason(reasons) == "no_annotation"
    corruption, reasons = corrupt_solution(QUESTION, muffins(SOLUTION.replace("=12>>", "=13>>")),
                                           ("calculation",), rng)
    assert corruption is None and skip_reason(reasons) == "wrong_annotation"
    no_text = muffins(SOLUTION.replace("He has 48-40 = <<", "So he has <<"))
    with pytest.raises(Unclean, match="no_visible_expression"):
        logic_edits(QUESTION, no_text.body, no_text.annotations[2], 2)
    # A logic error then goes to a calculation the text shows.
    for seed in range(8):
        corruption, _ = corrupt_solution(QUESTION, no_text, ("logic",), random.Random(seed))
        assert corruption.error_type == "logic" and corruption.index != 2


def test_the_same_seed_gives_the_same_corruption():
    def run(seed):
        return corrupt_solution(QUESTION, muffins(), ("logic", "calculation"), random.Random(seed))[0]

    assert run(3) == run(3)
    assert len({run(seed).body for seed in range(12)}) > 1  # the seed does choose


# --- every pair the reference teacher makes from GSM8K's train problems --------

from pathlib import Path  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
_PLAIN_EXPRESSION_RE = re.compile(r"[\d.+\-*/() ]+")


@pytest.fixture(scope="module")
def train_run():
    if not (SHARED / "gsm8k" / "train.jsonl").is_file():
        pytest.skip("needs ../shared/data/gsm8k beside the checkout")
    from edit_plugin.eval_sets import gsm8k, source
    from edit_plugin.gsm8k.teacher import reference_pairs

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(source.DATA_DIR_ENV, str(SHARED))
        problems = gsm8k.gsm8k_problems("train")
    pairs, sft, skipped = reference_pairs(problems, seed=0)
    return problems, pairs, sft, skipped


def _python_value(expression: str) -> Fraction:
    """An oracle independent of edit_plugin's evaluator: Python's own parser,
    on exact numbers."""
    assert _PLAIN_EXPRESSION_RE.fullmatch(expression), expression  # digits and operators only
    return eval(re.sub(r"\d*\.?\d+", lambda m: f"Fraction('{m.group(0)}')", expression))


def test_most_train_problems_yield_a_pair(train_run):
    problems, pairs, sft, skipped = train_run
    assert len(problems) == len(sft) == 7473
    assert len(pairs) + sum(skipped.values()) == len(problems)
    assert len(pairs) / len(problems) >= 0.60
    assert {p.corruption.error_type for p in pairs} == {"calculation", "logic"}


def test_every_pair_is_right_then_wrong_with_one_consistent_error(train_run):
    from edit_plugin.text.scoring import verdict

    _, pairs, _, _ = train_run
    for pair in pairs:
        record = pair.record()
        gold = {"target": record["answer"], "kind": "number"}
        assert verdict(record["chosen"], gold) == "correct", pair.id
        assert verdict(record["rejected"], gold) == "wrong", pair.id
        start, end = record["error_char_start"], record["error_char_end"]
        assert record["chosen"][:start] == record["rejected"][:start] and start < end, pair.id
        assert record["rejected"] == pair.rejected and "<<" not in record["rejected"]
        # The annotated wrong solution: the changed calculation is wrong in
        # its way, every later one is right and stated as its result.
        wrong = parse_solution(pair.corruption.body + "\n#### " + pair.corruption.answer)
        changed, original = wrong.annotations[pair.corruption.index], pair.solution.annotations[pair.corruption.index]
        changed_value = _python_value(changed.expression)
        if pair.corruption.error_type == "calculation":
            assert changed.expression == original.expression and changed_value != Fraction(changed.result)
        else:
            assert changed.expression != original.expression and changed_value == Fraction(changed.result)
        for later in wrong.annotations[pair.corruption.index + 1:]:
            assert _python_value(later.expression) == Fraction(later.result), pair.id
            stated = re.match(r"\s*\$?([\d,]*\.?\d+)", wrong.body[later.end:]).group(1)
            assert Fraction(stated.replace(",", "")) == Fraction(later.result), pair.id
        # The error step ends its line, the changed calculation's.
        wrong_lines = strip_annotations(pair.corruption.body).split("\n")
        line_start = record["rejected"].rfind("\n", 0, start) + 1
        line = record["rejected"][line_start:end]
        assert line in wrong_lines and wrong_lines.index(line) == wrong.body[:changed.start].count("\n"), pair.id


def test_a_run_on_the_first_problems_gives_the_first_pairs(train_run):
    from edit_plugin.gsm8k.teacher import reference_pairs

    problems, pairs, _, _ = train_run
    head, _, _ = reference_pairs(problems[:300], seed=0)
    assert [p.record() for p in head] == [p.record() for p in pairs[:len(head)]]
    other, _, _ = reference_pairs(problems[:300], seed=1)
    assert [p.record() for p in other] != [p.record() for p in head]
