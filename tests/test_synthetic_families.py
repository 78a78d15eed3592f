"""Every family of the programmatic teacher: chosen reaches the gold answer,
rejected a wrong one, the error step lies inside the rejected CoT and the two
texts are identical before it."""

import pytest

from edit_plugin.question_scoring import question_verdict
from edit_plugin.synthetic import TASK_FAMILIES
from edit_plugin.text.schema import record_problem


def solve(task: str, prompt: str) -> str:
    """An independent solver for the question in a prompt."""
    question = prompt.split("Q:", 1)[1].rsplit("\n\nA:", 1)[0]
    if task == "multistep_arithmetic":
        return str(eval(question.rstrip(" =")))
    if task == "boolean_expressions":
        return str(eval(question.removesuffix(" is")))
    if task == "object_counting":
        from edit_plugin.synthetic.object_counting import _NUMBER_WORDS, CATEGORIES, _phrase

        category = question.rsplit("How many ", 1)[1].removesuffix(" do I have?")
        listing = question.rsplit(". How many", 1)[0].removeprefix("I have ")
        total = 0
        for noun in CATEGORIES[category]:
            for count in _NUMBER_WORDS:
                phrase = _phrase(noun, count)
                if f" {phrase}," in f" {listing}," or listing.endswith(f"and {phrase}"):
                    total += count
        return str(total)
    if task == "word_sorting":
        return " ".join(sorted(question.split("List: ", 1)[1].split()))
    if task == "tracking_shuffled_objects":
        import re

        state = dict(re.findall(r"(\w+) has a (\w+) ball", question.split("As the game")[0]))
        for x, y in re.findall(r"(\w+) and (\w+) swap balls", question):
            state[x], state[y] = state[y], state[x]
        asked = re.search(r"At the end of the game, (\w+) has the", question).group(1)
        options = dict((ball, label) for label, ball in re.findall(r"\((\w)\) (\w+) ball", question))
        return f"({options[state[asked]]})"
    if task == "dyck_languages":
        from edit_plugin.synthetic.dyck_languages import PAIRS, open_brackets

        tokens = question.split("Input: ", 1)[1].split()
        return " ".join(PAIRS[b] for b in reversed(open_brackets(tokens)))
    if task == "date_arithmetic":
        import datetime
        import re

        month, day, year, days, way = re.match(
            r"Today is (\w+) (\d+), (\d+)\. What is the date (\d+) days (ago|from today)", question).groups()
        today = datetime.datetime.strptime(f"{month} {day} {year}", "%B %d %Y").date()
        delta = datetime.timedelta(days=int(days))
        return (today - delta if way == "ago" else today + delta).strftime("%m/%d/%Y")
    raise AssertionError(task)


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_family_pairs(task):
    family = TASK_FAMILIES[task]
    pairs = family.generate_pairs(60, seed=3)
    assert len(pairs) == 60 and len({p["prompt"] for p in pairs}) == 60
    assert {p["error_type"] for p in pairs} == set(family.ERROR_TYPES)
    for p in pairs:
        assert record_problem(p) is None
        assert p["answer"] == solve(task, p["prompt"])
        assert question_verdict(p["chosen"], p) == "correct"
        assert question_verdict(p["rejected"], {**p, "answer": p["rejected_answer"]}) == "correct"
        assert question_verdict(p["rejected"], p) == "wrong"
        start, end = p["error_char_start"], p["error_char_end"]
        assert 0 < start < end <= len(p["rejected"])
        assert p["chosen"][:start] == p["rejected"][:start]
        assert p["chosen"][start] != p["rejected"][start]


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_family_is_seeded_and_questions_are_held_out(task):
    family = TASK_FAMILIES[task]
    assert family.generate_pairs(5, seed=9) == family.generate_pairs(5, seed=9)
    train = {p["prompt"] for p in family.generate_pairs(50, seed=0)}
    questions = family.generate_questions(30, seed=5, exclude=train)
    assert not train & {q["prompt"] for q in questions}
    assert all(q["answer"] == solve(task, q["prompt"]) for q in questions)


def test_cli_lists_every_family():
    from edit_plugin.cli import TASK_FAMILY_NAMES

    assert sorted(TASK_FAMILY_NAMES) == sorted(TASK_FAMILIES)


def test_asking_for_more_questions_than_exist_fails_instead_of_hanging():
    from edit_plugin.synthetic import boolean_expressions

    with pytest.raises(RuntimeError, match="cannot find 2000 distinct new questions"):
        boolean_expressions.generate_questions(2000, seed=0)


def test_date_steps_always_move():
    from edit_plugin.synthetic import date_arithmetic

    for p in date_arithmetic.generate_pairs(1500, seed=4):
        for text in (p["chosen"], p["rejected"]):
            assert "Going forward 0 days" not in text and "Going forward -" not in text


def test_families_read_bbh_style_questions_they_can_express():
    from edit_plugin.synthetic import dyck_languages, word_sorting

    dyck = "Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: "
    item = dyck_languages.item_from_question(dyck + "< [ ( ) [")
    assert item is not None and item.answer == "] ] >" and item.question == dyck + "< [ ( ) ["
    assert dyck_languages.item_from_question(dyck + "< ]") is None       # mismatched closer
    assert dyck_languages.item_from_question(dyck + "( )") is None       # nothing left open
    assert dyck_languages.item_from_question(dyck + "( x") is None       # not a bracket
    assert dyck_languages.item_from_question("Input: ( [") is None       # not the BBH question

    words = "Sort the following words alphabetically: List: "
    item = word_sorting.item_from_question(words + "pear apple zoo")
    assert item is not None and item.answer == "apple pear zoo"
    assert word_sorting.item_from_question(words + "pear plum zoo") is None  # first letters repeat


def test_pairs_from_questions_never_trains_on_a_disagreeing_target():
    from edit_plugin.synthetic import dyck_languages
    from edit_plugin.synthetic.base import pairs_from_questions

    text = "Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: "
    questions = [{"id": "a", "question": text + "( [", "target": "] )"},
                 {"id": "b", "question": text + "( [", "target": ") ]"},
                 {"id": "c", "question": "What is 2 + 2?", "target": "4"}]
    records, skipped = pairs_from_questions(dyck_languages, questions)
    assert [r["id"] for r in records] == ["a"]
    assert skipped == {"unreadable": 1, "answer_disagrees": 1, "no_error_fits": 0}
    rejected = records[0]["rejected"]
    assert records[0]["chosen"][:records[0]["error_char_start"]] == rejected[:records[0]["error_char_start"]]


# sha256 (first 16 hex digits) of json.dumps([generate_pairs(40, seed=0), generate_questions(20,
# seed=1000, exclude=their prompts)]), taken before the hard variants existed: the default
# generation, which seeds reproduce, must not move.
DEFAULT_FINGERPRINTS = {
    "boolean_expressions": "1f3e9920acbae841",
    "date_arithmetic": "cfaa69b63eb2ec05",
    "dyck_languages": "5c08938184a44c14",
    "multistep_arithmetic": "81e622e9808d9432",
    "object_counting": "939250d61bea7cca",
    "tracking_shuffled_objects": "dde57d5945e3712a",
    "word_sorting": "f082c606eeddb711",
}


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_default_generation_is_byte_identical_to_before(task):
    import hashlib
    import json

    family = TASK_FAMILIES[task]
    pairs = family.generate_pairs(40, seed=0)
    questions = family.generate_questions(20, seed=1000, exclude={p["prompt"] for p in pairs})
    digest = hashlib.sha256(json.dumps([pairs, questions]).encode()).hexdigest()[:16]
    assert digest == DEFAULT_FINGERPRINTS[task]


def _size(task: str, item) -> int:
    """How long an input is, in the family's own terms."""
    import re

    question = item.question
    if task == "multistep_arithmetic":
        return max(abs(int(x)) for x in re.findall(r"-?\d+", question))
    if task == "boolean_expressions":
        return len(re.findall(r"^[A-Z] = ", item.chosen, re.MULTILINE))  # operands
    if task == "object_counting":
        return question.count(", ") + 1  # listed objects
    if task == "tracking_shuffled_objects":
        return question.count(" has a ")  # players
    if task == "word_sorting":
        return len(question.split("List: ", 1)[1].split())
    if task == "dyck_languages":
        return len(question.split("Input: ", 1)[1].split())
    if task == "date_arithmetic":
        return item.chosen.count("Going ")  # month edges crossed
    raise AssertionError(task)


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_hard_items_are_longer_and_their_cot_reaches_the_gold_answer(task):
    import random

    from edit_plugin.text.prompts import build_prompt

    family = TASK_FAMILIES[task]
    rng = random.Random(11)
    default = [family.random_item(rng) for _ in range(200)]
    hard = [family.random_item(rng, hard=True) for _ in range(200)]
    assert min(_size(task, i) for i in hard) > max(_size(task, i) for i in default)
    corrupted = dict.fromkeys(family.ERROR_TYPES, 0)
    for item in hard:
        gold = solve(task, build_prompt(item.question, family.DESCRIPTION))
        row = {"task": task, "prompt": build_prompt(item.question, family.DESCRIPTION), "answer": gold}
        assert item.answer == gold and question_verdict(item.chosen, row) == "correct"
        for error_type in family.ERROR_TYPES:  # the errors still fit the longer CoTs
            wrong = family.corrupt(item, error_type, rng)
            if wrong is not None:
                text, answer = wrong
                assert question_verdict(text, {**row, "answer": answer}) == "correct"
                assert question_verdict(text, row) == "wrong"
                corrupted[error_type] += 1
    assert all(count >= 20 for count in corrupted.values()), corrupted


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_hard_heldout_questions_are_right_seeded_and_disjoint_from_training(task):
    family = TASK_FAMILIES[task]
    train = {p["prompt"] for p in family.generate_pairs(50, seed=0)}
    hard = family.generate_questions(40, seed=2, exclude=train, hard=True)
    assert len(hard) == 40 and not train & {q["prompt"] for q in hard}
    assert all(q["id"].startswith(f"{task}-heldout-hard-2-") for q in hard)
    assert all(q["answer"] == solve(task, q["prompt"]) for q in hard)
    assert family.generate_questions(40, seed=2, exclude=train, hard=True) == hard
    assert not {q["prompt"] for q in hard} & {q["prompt"] for q in family.generate_questions(40, seed=2)}
