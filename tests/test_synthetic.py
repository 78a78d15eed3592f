import re

from edit_plugin.synthetic.arithmetic import generate_pairs, generate_questions
from edit_plugin.text.answers import extract_answer
from edit_plugin.text.schema import record_problem


def gold(prompt: str) -> int:
    expression = re.search(r"Q:(.*) =", prompt).group(1)
    return eval(expression)  # the question is plain integer arithmetic


def test_pairs_are_valid_and_differ_by_one_error():
    pairs = generate_pairs(60, seed=1)
    assert {p["error_type"] for p in pairs} == {"calculation", "order"}
    for p in pairs:
        assert record_problem(p) is None
        assert int(p["answer"]) == gold(p["prompt"])
        assert extract_answer(p["chosen"]) == p["answer"]
        assert extract_answer(p["rejected"]) == p["rejected_answer"] != p["answer"]
        chosen, rejected = p["chosen"].splitlines(), p["rejected"].splitlines()
        assert len(chosen) == len(rejected)
        # The error sits in one group line; everything before it is identical.
        first = next(i for i, (a, b) in enumerate(zip(chosen, rejected)) if a != b)
        assert chosen[:first] == rejected[:first]
        assert chosen[first].split(" = ")[0] in ("A", "B")
        assert p["chosen"][: p["error_char_start"]] == p["rejected"][: p["error_char_start"]]


def test_seeded_and_any_size():
    assert generate_pairs(5, seed=7) == generate_pairs(5, seed=7)
    assert generate_pairs(5, seed=7) != generate_pairs(5, seed=8)
    assert len(generate_pairs(123, seed=2)) == 123


def test_heldout_questions_are_disjoint_from_training():
    pairs = generate_pairs(200, seed=0)
    train_prompts = {p["prompt"] for p in pairs}
    questions = generate_questions(100, seed=0, exclude=train_prompts)
    assert not train_prompts & {q["prompt"] for q in questions}
    assert all(int(q["answer"]) == gold(q["prompt"]) for q in questions)


def test_intermediate_values_are_read_back_from_cots():
    from edit_plugin.synthetic.arithmetic import intermediate_values_right, parse_question

    for p in generate_pairs(20, seed=4):
        assert parse_question(p["prompt"]).answer() == int(p["answer"])
        assert intermediate_values_right(p["prompt"], p["chosen"]) == 1.0
        # One group is wrong in the rejected CoT, the other is right.
        assert intermediate_values_right(p["prompt"], p["rejected"]) == 0.5
    assert intermediate_values_right(p["prompt"], "no steps") == 0.0


def test_error_span_is_the_erroneous_step():
    for p in generate_pairs(30, seed=5):
        start, end = p["error_char_start"], p["error_char_end"]
        assert 0 < start < end <= len(p["rejected"])
        step = p["rejected"][start:end]
        assert "\n" not in step
        assert p["chosen"][:start] == p["rejected"][:start]
        line = p["rejected"][: end].splitlines()[-1]
        assert line.split(" = ")[0] in ("A", "B")
