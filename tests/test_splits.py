"""Questions that are the same up to operand order count as one: every set
an experiment draws (training, each evaluation set, held-out pairs, new
on-policy questions) is disjoint from every other, at the plan's sizes; a
plan that asks a family for more than it has is refused."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from edit_plugin.experiment.data import prepare_data, question_keys
from edit_plugin.experiment.plan import PlanError, load_plan, parse_plan
from edit_plugin.synthetic import boolean_expressions, object_counting
from edit_plugin.synthetic.base import distinct_questions, fresh_items, question_key
from edit_plugin.text.schema import iter_records

ROOT = Path(__file__).resolve().parents[1]


def test_operand_order_does_not_make_a_new_boolean_question():
    key = boolean_expressions.canonical_question
    assert key("( True and False ) or not True is") == key("not True or ( False and True ) is")
    assert key("not ( True or False ) and True is") == key("True and not ( False or True ) is")
    # "and" binds first: swapping across an "or" of and-chains keeps the meaning, inside them too.
    a, b, c = "not True", "( False or True )", "not ( True and True )"
    assert key(f"{a} and {b} or {c} is") == key(f"{c} or {b} and {a} is")
    assert key(f"{a} and {b} or {c} is") != key(f"{a} and {c} or {b} is")
    assert key("( True and False ) or not True is") != key("( True or False ) or not True is")


def test_object_order_does_not_make_a_new_counting_question():
    key = object_counting.canonical_question
    a = "I have a plum, two violins, and a goat. How many fruits do I have?"
    b = "I have a goat, a plum, and two violins. How many fruits do I have?"
    assert key(a) == key(b)
    assert key(a) != key(a.replace("fruits", "animals")) != key(a.replace("two violins", "three violins"))


def _all_operands() -> list[str]:
    values = ("True", "False")
    return ([f"not {v}" for v in values]
            + [f"( {v} {op} {w} )" for v in values for op in ("and", "or") for w in values]
            + [f"not ( {v} {op} {w} )" for v in values for op in ("and", "or") for w in values])


@pytest.mark.parametrize("hard", [False, True])
def test_the_boolean_family_size_is_every_question_it_can_ask(hard):
    operands, n = _all_operands(), 3 if hard else 2
    questions = {" ".join(f"{part} {op}" for part, op in zip(parts, ops)) + f" {parts[-1]} is"
                 for parts in itertools.product(operands, repeat=n)
                 for ops in itertools.product(("and", "or"), repeat=n - 1)}
    keys = {boolean_expressions.canonical_question(q) for q in questions}
    assert distinct_questions(boolean_expressions, hard) == len(keys)
    assert distinct_questions(object_counting) is None  # more than any plan asks for


def test_fresh_items_skip_excluded_keys_and_other_orders_of_drawn_ones():
    first = [item.question for _, item in fresh_items(boolean_expressions, 50, seed=1, by_key=True)]
    keys = [question_key(boolean_expressions, q) for q in first]
    assert len(set(keys)) == 50
    again = [item.question for _, item in fresh_items(boolean_expressions, 50, seed=2, exclude=set(keys),
                                                     by_key=True)]
    assert not {question_key(boolean_expressions, q) for q in again} & set(keys)


def _sets(folder: Path, plan) -> dict[str, list[dict]]:
    eval_folder = folder / f"eval-{plan.name}"
    sets = {"training": list(iter_records(folder / "sft_all_correct.jsonl", fields=("prompt", "chosen"))),
            "heldout_pairs": list(iter_records(eval_folder / "heldout_pairs.jsonl"))}
    for bench in plan.benchmarks:
        if bench.heldout is not None:
            sets[bench.name] = list(iter_records(eval_folder / f"questions_{bench.name}.jsonl",
                                                 fields=("prompt", "answer")))
    return sets


def test_every_set_of_the_onpolicy_plan_is_disjoint_from_every_other(tmp_path):
    plan = load_plan(ROOT / "experiments" / "cpu_onpolicy.yml")
    data = prepare_data(plan, tmp_path / "data")
    sets = {name: question_keys(rows) for name, rows in _sets(tmp_path / "data", plan).items()}
    ind = plan.benchmark("ind")
    for task in plan.synthetic.tasks:
        assert len(sets["ind"][task]) == ind.heldout_for(task)  # the sizes the plan asks for, all distinct
        for (a, keys_a), (b, keys_b) in itertools.combinations(sets.items(), 2):
            assert not keys_a.get(task, set()) & keys_b.get(task, set()), (task, a, b)
    # New on-policy questions are drawn outside all of them.
    recorded = json.loads(data.question_keys.read_text())
    for task, n in plan.onpolicy.questions.items():
        drawn = {question_key(object_counting, item.question)
                 for _, item in fresh_items(object_counting, n, seed=101, exclude=set(recorded[task]), by_key=True)}
        assert len(drawn) == n and not drawn & set(recorded[task])
        assert set(recorded[task]) == set().union(*(keys.get(task, set()) for keys in sets.values()))


def _plan(ind: int, **synthetic) -> dict:
    return {"name": "p", "student": {"recipes": str(ROOT / "recipes" / "smollm2-135m")},
            "data": {"synthetic": {"tasks": ["boolean_expressions"], "questions_per_task": 120, **synthetic}},
            "conditions": ["std_cot"],
            "evaluation": {"benchmarks": [{"name": "ind", "heldout": ind}]}}


def test_a_plan_asking_for_more_distinct_questions_than_a_family_has_is_refused(tmp_path):
    with pytest.raises(PlanError, match=r"boolean_expressions .*210"):
        prepare_data(parse_plan(_plan(200)), tmp_path / "data")
    prepare_data(parse_plan(_plan(100)), tmp_path / "ok")  # 86 training questions + 100 fit in 210


def test_plans_drawn_by_prompt_keep_their_data_spec():
    # Finished results of plans written before question keys still resume.
    from edit_plugin.experiment.data import _train_spec

    legacy = parse_plan(_plan(10, distinct="prompt"))
    spec_before = parse_plan(_plan(10))
    assert _train_spec(legacy) != _train_spec(spec_before)
    raw = yaml.safe_load((ROOT / "experiments" / "cpu.yml").read_text())
    assert raw["data"]["synthetic"]["distinct"] == "prompt"
