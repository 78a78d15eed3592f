"""Programmatic mistakes like the student's (omission, copy, grouping), made
only when asked for: each gives a wrong answer its CoT follows, the rest of
the CoT unchanged; the default output stays byte for byte what it was."""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

import pytest

from edit_plugin.question_scoring import question_verdict
from edit_plugin.synthetic import TASK_FAMILIES
from edit_plugin.synthetic.base import known_error_types
from edit_plugin.synthetic.teacher import error_types_for, synthetic_teacher_run

ROOT = Path(__file__).resolve().parents[1]
NEW_KINDS = {"object_counting": ("omission", "copy"), "boolean_expressions": ("copy", "grouping"),
             "multistep_arithmetic": ("copy",), "word_sorting": ("omission",)}
CASES = [(task, kind) for task, kinds in NEW_KINDS.items() for kind in kinds]


def mistakes(task: str, kind: str, hard: bool, count: int = 40):
    """(item, wrong CoT, wrong answer) of ``count`` items that take the mistake."""
    family = TASK_FAMILIES[task]
    rng = random.Random(f"{task}-{kind}-{hard}")
    found = []
    for _ in range(50 * count):
        item = family.random_item(rng, hard=hard)
        wrong = family.corrupt(item, kind, rng)
        if wrong is not None:
            found.append((item, *wrong))
        if len(found) == count:
            return found
    raise AssertionError(f"{task} {kind}: only {len(found)} items took the mistake")


def changed_lines(chosen: str, rejected: str) -> list[int]:
    a, b = chosen.splitlines(), rejected.splitlines()
    return [i for i in range(max(len(a), len(b))) if i >= len(a) or i >= len(b) or a[i] != b[i]]


def eval_bool(text: str) -> bool:
    assert re.fullmatch(r"[ ()a-zA-Z]+", text) and set(text.split()) <= {"True", "False", "not", "and", "or", "(", ")"}
    return eval(text)  # noqa: S307 - only True/False/not/and/or/brackets, checked above


def eval_arithmetic(text: str) -> int:
    assert re.fullmatch(r"[-+* ()0-9]+", text)
    return eval(text)  # noqa: S307 - digits, signs and brackets only, checked above


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("task, kind", CASES)
def test_a_mistake_gives_a_wrong_answer_that_its_cot_states(task, kind, hard):
    family = TASK_FAMILIES[task]
    for item, text, answer in mistakes(task, kind, hard):
        row = {"task": task, "prompt": item.question, "answer": item.answer}
        assert question_verdict(text, row) == "wrong"
        assert question_verdict(text, {**row, "answer": answer}) == "correct"
        assert family.ANSWER_KIND  # the kind the verdicts above were read under


@pytest.mark.parametrize("hard", [False, True])
def test_object_counting_omission_leaves_one_object_out_and_adds_the_rest(hard):
    for item, text, answer in mistakes("object_counting", "omission", hard):
        chosen, rejected = item.chosen.splitlines(), text.splitlines()
        listed = [line for line in rejected if line.startswith("- ")]
        gold_listed = [line for line in chosen if line.startswith("- ")]
        assert len(listed) == len(gold_listed) - 1 and all(line in gold_listed for line in listed)
        assert [line for line in gold_listed if line in listed] == listed  # order kept
        quantities = [int(re.search(r"\((\d+)\)", line).group(1)) for line in listed]
        assert rejected[-2].endswith(f"{' + '.join(map(str, quantities))} = {sum(quantities)}.")
        assert answer == str(sum(quantities))
        assert rejected[:2] == chosen[:2]  # the rest unchanged


@pytest.mark.parametrize("hard", [False, True])
def test_object_counting_copy_miscopies_one_quantity_and_adds_it(hard):
    for item, text, answer in mistakes("object_counting", "copy", hard):
        chosen, rejected = item.chosen.splitlines(), text.splitlines()
        assert len(chosen) == len(rejected) and rejected[:2] == chosen[:2]
        differing = [i for i in changed_lines(item.chosen, text) if chosen[i].startswith("- ")]
        assert len(differing) == 1
        noun = chosen[differing[0]].split(" (")[0]
        assert rejected[differing[0]].split(" (")[0] == noun  # the same object, another quantity
        quantities = [int(re.search(r"\((\d+)\)", line).group(1)) for line in rejected if line.startswith("- ")]
        assert rejected[-2].endswith(f"{' + '.join(map(str, quantities))} = {sum(quantities)}.")
        assert answer == str(sum(quantities))
        assert set(changed_lines(item.chosen, text)) == {differing[0], len(chosen) - 2, len(chosen) - 1}


def operand_lines(lines):
    return {line[0]: i for i, line in enumerate(lines) if re.match(r"^[ABC] = ", line)}


def check_chain(line: str, answer: str) -> None:
    """"So A or B = v1 or v2 = ... = r.": each step applies one operator to its neighbours."""
    steps = line.rstrip(".").split(" = ")[1:]
    for before, after in zip(steps, steps[1:]):
        tokens, reduced = before.split(), after.split()
        assert len(reduced) == len(tokens) - 2
        assert any(tokens[:k] + [str(eval_bool(" ".join(tokens[k:k + 3])))] + tokens[k + 3:] == reduced
                   for k in range(0, len(tokens) - 2, 2))
    assert steps[-1] == answer


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("kind", ["copy", "grouping"])
def test_boolean_mistakes_change_one_operand_or_the_order_and_carry_on(kind, hard):
    for item, text, answer in mistakes("boolean_expressions", kind, hard):
        chosen, rejected = item.chosen.splitlines(), text.splitlines()
        operands = operand_lines(rejected)
        so_line = next(i for i, line in enumerate(rejected) if line.startswith("So "))
        changed = set(changed_lines(item.chosen, text))
        # One operand line at most, then only its consequences: the combination and the answer.
        assert changed <= set(operands.values()) | {so_line, so_line + 1} and so_line in changed
        assert len(changed & set(operands.values())) <= 1
        check_chain(rejected[so_line], answer)
        values = {name: rejected[i].rstrip(".").split(" = ")[-1] for name, i in operands.items()}
        assert rejected[so_line].split(" = ")[1] == " ".join(
            values.get(token, token) for token in rejected[so_line].split(" = ")[0][3:].split())
        for i in changed & set(operands.values()):
            segments = rejected[i].rstrip(".").split(" = ")[1:]
            if kind == "copy":
                # Self-consistent, but not the question's operand: one literal miscopied.
                assert all(eval_bool(s) == (segments[-1] == "True") for s in segments[:-1] if "=" not in s)
                gold = chosen[i].rstrip(".").split(" = ")[1]
                assert gold in item.question and len(gold.split()) == len(segments[0].split())
                assert sum(a != b for a, b in zip(gold.split(), segments[0].split())) == 1
            else:
                # The brackets after a "not" dropped: the first reading is the error, the rest follows it.
                assert segments[0].startswith("not (") and eval_bool(segments[0]) != (segments[-1] == "True")
                assert all(eval_bool(s) == (segments[-1] == "True") for s in segments[1:-1])
        if not changed & set(operands.values()):  # the precedence error: "or" before "and"
            assert kind == "grouping" and hard


@pytest.mark.parametrize("hard", [False, True])
def test_arithmetic_copy_flips_one_sign_and_computes_on(hard):
    for item, text, answer in mistakes("multistep_arithmetic", "copy", hard):
        chosen, rejected = item.chosen.splitlines(), text.splitlines()
        changed = changed_lines(item.chosen, text)
        assert changed[0] in (1, 2) and set(changed) <= {changed[0], 3, 4}
        segments = rejected[changed[0]].rstrip(".").split(" = ")
        gold_group = chosen[changed[0]].split(" = ")[1]
        assert gold_group in item.question and segments[1] != gold_group
        assert sorted(abs(int(n)) for n in re.findall(r"-?\d+", segments[1])) == \
            sorted(abs(int(n)) for n in re.findall(r"-?\d+", gold_group))
        assert all(eval_arithmetic(s) == int(segments[-1]) for s in segments[1:])
        a, b = (int(rejected[i].rstrip(".").split(" = ")[-1]) for i in (1, 2))
        so = rejected[3].rstrip(".").split(" = ")
        assert eval_arithmetic(so[1]) == int(so[2]) == int(answer)
        assert so[1].split(" ")[0] == str(a) and so[1].split(" ")[-1] == str(b)


@pytest.mark.parametrize("hard", [False, True])
def test_word_sorting_omission_sorts_all_but_one_word(hard):
    for item, text, answer in mistakes("word_sorting", "omission", hard):
        words = item.question.split("List:")[1].split()
        assert len(answer.split()) == len(words) - 1 and set(answer.split()) < set(words)
        assert answer.split() == sorted(answer.split())
        assert text.splitlines()[0] == item.chosen.splitlines()[0]


# --- chosen per run; the default stays what it was ----------------------------

def test_a_run_makes_the_mistakes_asked_for_in_turn_and_records_them():
    dual, sft, summary = synthetic_teacher_run("object_counting", 20, seed=3, error_types=("omission", "copy"))
    assert [r["error_type"] for r in dual] == ["omission", "copy"] * 10
    assert summary["error_types"] == ["omission", "copy"]
    assert set(summary["pairs_per_error_type"]) == {"omission", "copy"}
    assert [s["chosen"] for s in sft] == [r["chosen"] for r in dual]
    mixed, _, _ = synthetic_teacher_run("boolean_expressions", 12, seed=3,
                                        error_types=("calculation", "logic", "copy", "grouping"))
    assert [r["error_type"] for r in mixed] == ["calculation", "logic", "copy", "grouping"] * 3


def test_unknown_kinds_are_refused_with_the_family_kinds():
    with pytest.raises(ValueError, match="object_counting cannot make a 'grouping' mistake; "
                                         "its kinds: knowledge, calculation, omission, copy"):
        synthetic_teacher_run("object_counting", 4, error_types=("grouping",))
    assert error_types_for("boolean_expressions", ["omission", "copy", "grouping"]) == ("copy", "grouping")
    assert error_types_for("object_counting", None) is None
    with pytest.raises(ValueError, match="dyck_languages makes none of the mistakes omission"):
        error_types_for("dyck_languages", ["omission"])
    assert known_error_types(TASK_FAMILIES["object_counting"]) == ("knowledge", "calculation", "omission", "copy")


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


# Digests of today's default output, computed before the new kinds existed:
# the committed experiments' data must regenerate exactly.
DEFAULT_RUNS = {
    "boolean_expressions": ("0ba3c78a4a56ae22", "e107c363356c8f52", "6f19c60cfd26701b", "b31ad4b7f03ebb65"),
    "date_arithmetic": ("223a4b7f0f11c2be", "1b58deb067dad7c2", "548728d8fe510a1e", "09bcf1d6da132b4a"),
    "dyck_languages": ("b68eccdcbcfe16d7", "3bbeb358639cfe72", "80ea538a78bcf922", "bf97941888c3ea3a"),
    "multistep_arithmetic": ("0c3e575e67a3125c", "f86b888925ac9a63", "e9baa0a006a4dd89", "56d901b935a9df02"),
    "object_counting": ("ff5137f7d5f77b1d", "1f23a636f1de347a", "f3b555befc0519e0", "2923c9095f88506e"),
    "tracking_shuffled_objects": ("9080e91020e63e40", "f549421fa7dfac15", "4d5f9bcfff0349fd", "7b6a017fbbda62a1"),
    "word_sorting": ("c568df70928dd23e", "4ff6af1bee6bd910", "7069d03adcbcb53c", "33906c8530a84e6f"),
}


@pytest.mark.parametrize("task", sorted(DEFAULT_RUNS))
def test_the_default_output_is_unchanged(task):
    family = TASK_FAMILIES[task]
    run, pairs, questions, hard = DEFAULT_RUNS[task]
    assert digest(synthetic_teacher_run(task, 60, seed=0, mistake_rate=0.25)) == run
    assert digest(family.generate_pairs(50, seed=3)) == pairs
    assert digest(family.generate_questions(30, seed=1)) == questions
    assert digest(family.generate_questions(30, seed=7, hard=True)) == hard
    # Asking for the default kinds by name gives the same pairs.
    asked, _, _ = synthetic_teacher_run(task, 60, seed=0, error_types=family.ERROR_TYPES)
    assert asked == synthetic_teacher_run(task, 60, seed=0)[0]


def test_the_cpu_experiment_data_regenerates_byte_for_byte(tmp_path):
    from edit_plugin.experiment.data import file_digest, prepare_data
    from edit_plugin.experiment.plan import load_plan

    data = prepare_data(load_plan(ROOT / "experiments" / "cpu.yml"), tmp_path / "data")
    expected = {"eval-cpu/heldout_pairs.jsonl": "3d1826a2ca8f1525", "eval-cpu/questions_ind.jsonl": "63dcb6d849fc179e",
                "eval-cpu/questions_ood_hard.jsonl": "5ac4ebcfbf9e8191", "pairs_all.jsonl": "bd99ce14b3b877c5",
                "pairs_corrupted.jsonl": "e19831898d084313", "sft_all_correct.jsonl": "d1cb6a976617ed3c",
                "sft_teacher.jsonl": "b58314c73dff4d94"}
    assert {name: file_digest(data.folder / name) for name in expected} == expected


# --- plans and the command line -----------------------------------------------

def plan_with(error_types):
    from edit_plugin.experiment.plan import parse_plan

    return parse_plan({"student": {"recipes": str(ROOT / "recipes" / "smollm2-135m")},
                       "data": {"synthetic": {"tasks": ["object_counting", "boolean_expressions"],
                                              "questions_per_task": 8, "error_types": error_types}},
                       "conditions": ["edit"], "seeds": [1],
                       "evaluation": {"benchmarks": [{"name": "ind", "heldout": 4}], "teacher_forced": 2}})


def test_a_plan_mixes_in_the_new_kinds(tmp_path):
    from edit_plugin.experiment.data import _train_spec, prepare_data
    from edit_plugin.text.schema import iter_records

    plan = plan_with(["knowledge", "omission", "copy", "grouping"])
    data = prepare_data(plan, tmp_path / "data")
    kinds = {(r["task"], r["error_type"]) for r in iter_records(data.pairs("all"))}
    assert kinds == {("object_counting", k) for k in ("knowledge", "omission", "copy")} | \
        {("boolean_expressions", k) for k in ("copy", "grouping")}
    held_out = {(r["task"], r["error_type"]) for r in iter_records(data.heldout_pairs)}
    assert held_out <= kinds
    # A plan without the key keeps the spec (and so the data folder) it always had.
    assert _train_spec(plan_with(None)) != _train_spec(plan)


@pytest.mark.parametrize("error_types, message", [
    (["typo"], "no family of the plan makes 'typo' mistakes"),
    (["omission"], "boolean_expressions makes none of the mistakes omission"),
    ([], "a non-empty list"),
])
def test_a_plan_with_kinds_no_family_can_make_is_refused(error_types, message):
    from edit_plugin.experiment.plan import PlanError

    with pytest.raises(PlanError, match=message):
        plan_with(error_types)


def test_generate_takes_error_types(tmp_path, capsys):
    from edit_plugin.cli import main
    from edit_plugin.text.schema import iter_records

    out = tmp_path / "teacher"
    assert main(["generate", "--teacher", "synthetic", "--task", "boolean_expressions", "--n", "6",
                 "--error-types", "copy,grouping", "--out", str(out)]) == 0
    assert [r["error_type"] for r in iter_records(out / "dual_cot.jsonl")] == ["copy", "grouping"] * 3
    assert json.loads((out / "summary.json").read_text())["error_types"] == ["copy", "grouping"]
    with pytest.raises(SystemExit, match="cannot make a 'omission' mistake"):
        main(["generate", "--teacher", "synthetic", "--task", "boolean_expressions", "--n", "2",
              "--error-types", "omission", "--out", str(out)])
    with pytest.raises(SystemExit, match="--error-types chooses the programmatic teacher's mistakes"):
        main(["generate", "--teacher", "reference", "--questions", "gsm8k", "--error-types", "copy",
              "--out", str(out)])
