"""Pairs from the student's own mistakes: a scripted student answers new
generated questions; its wrong CoTs become rejected sides next to the gold
CoTs, everything else is skipped and counted by reason; a killed run
resumes from its journal without asking again."""

from __future__ import annotations

import json
import re

import pytest

import edit_plugin.decode as decode
from edit_plugin.cli import main
from edit_plugin.dual_cot.tokenize import tokenize_dual
from edit_plugin.student_mistakes import JOURNAL, is_loop, judge, programmatic_mistakes
from edit_plugin.synthetic import object_counting
from edit_plugin.synthetic.base import fresh_items
from edit_plugin.text.schema import iter_records


def omit_first_item(gold: str) -> str:
    """The student's typical mistake: one listed object left out, the sum follows."""
    lines = gold.split("\n")
    items = [k for k, line in enumerate(lines) if line.startswith("- ")]
    counts = [int(re.search(r"\((\d+)\)", lines[k]).group(1)) for k in items]
    del lines[items[0]]
    kept = counts[1:]
    total = sum(kept)
    lines = [re.sub(r": [\d +]+ = \d+\.$", f": {' + '.join(map(str, kept))} = {total}.", line) for line in lines]
    lines[-1] = f"Therefore, the answer is {total}."
    return "\n".join(lines)


class ScriptedStudent:
    """Answers question k of each batch by rule k % 5: wrong (omission), right,
    no answer, a loop, cut at the cap."""

    def __init__(self):
        self.asked = []

    def __call__(self, model, tokenizer, prompts, max_new_tokens, batch_size, desc, samples, temperature, seed):
        gold = {prompt: item for prompt, item in fresh_items(object_counting, 40, seed=seed, by_key=True)}
        order = list(gold)
        for prompt in prompts:
            self.asked.append(prompt)
            item, rule = gold[prompt], (order.index(prompt) + 1) % 5
            text = {1: omit_first_item(item.chosen), 2: item.chosen, 3: "I cannot count these.",
                    4: "Let me see.\n" + "I have a plum.\n" * 6, 0: item.chosen[:40]}[rule]
            yield [(text, rule == 0)]


@pytest.fixture
def student(monkeypatch):
    scripted = ScriptedStudent()
    monkeypatch.setattr(decode, "load_for_decoding", lambda path: (None, None))
    monkeypatch.setattr(decode, "generate_batches", scripted)
    return scripted


def test_judge_names_why_an_answer_cannot_make_a_pair():
    gold = "Let's think step by step.\n- a plum (1)\nTherefore, the answer is 1."
    assert judge(gold, "1", "number", cut=False) == "right"
    assert judge(gold.replace("is 1", "is 2"), "1", "number", cut=False) == "wrong"
    assert judge("No idea.", "1", "number", cut=False) == "no_answer"
    assert judge("Therefore, the answer is 1 or 2.", "1", "number", cut=False) == "hedged"
    assert judge(gold, "1", "number", cut=True) == "cut"
    assert judge("a\n" + "b\n" * 3 + "Therefore, the answer is 2.", "1", "number", cut=False) == "loop"
    assert not is_loop("a\nb\na\nb\nTherefore, the answer is 2.")


def test_wrong_answers_become_student_pairs_and_the_rest_is_counted(tmp_path, student, chat_tokenizer):
    pairs, summary = programmatic_mistakes("scripted", {"object_counting": 10}, tmp_path, seed=0)
    assert summary["answers_by_outcome"] == {"wrong": 2, "right": 2, "no_answer": 2, "hedged": 0, "cut": 2,
                                             "loop": 2}
    assert summary["per_task"]["object_counting"]["wrong"] == 2 == len(pairs)
    gold = {prompt: item for prompt, item in fresh_items(object_counting, 10, seed=0, by_key=True)}
    for pair in pairs:
        assert pair["source"] == "student" and pair["chosen"] == gold[pair["prompt"]].chosen
        assert pair["rejected"] == omit_first_item(pair["chosen"])
        assert pair["rejected_answer"] != pair["answer"]
        # The pair differs where the student left the object out, and trains.
        assert pair["rejected"][pair["error_char_start"]:].startswith(pair["chosen"].split("\n")[3][:2]) or \
            pair["error_char_start"] > 0
        row, reason = tokenize_dual(chat_tokenizer, pair["prompt"], pair["chosen"], pair["rejected"], 512)
        assert reason is None and any(row["chosen_key_mask"]) and any(row["rejected_key_mask"])


def test_excluded_questions_are_never_asked(tmp_path, student):
    first = [item.question for _, item in fresh_items(object_counting, 5, seed=0, by_key=True)]
    keys = {object_counting.canonical_question(q) for q in first}
    programmatic_mistakes("scripted", {"object_counting": 5}, tmp_path, seed=0, exclude_keys={"object_counting": keys})
    assert not {object_counting.canonical_question(p.split("Q:")[1].split("\n")[0]) for p in student.asked} & keys


def test_a_killed_run_resumes_from_its_journal(tmp_path, student, monkeypatch):
    pairs, _ = programmatic_mistakes("scripted", {"object_counting": 10}, tmp_path, seed=0)
    journal = tmp_path / JOURNAL
    lines = journal.read_text().splitlines(True)
    journal.write_text("".join(lines[:6]) + lines[6][:20])  # killed while writing answer 7
    asked_before = len(student.asked)
    again, _ = programmatic_mistakes("scripted", {"object_counting": 10}, tmp_path, seed=0)
    assert len(student.asked) - asked_before == 4  # the torn line and the three after it
    assert again == pairs
    third, _ = programmatic_mistakes("scripted", {"object_counting": 10}, tmp_path, seed=0)
    assert third == pairs and len(student.asked) - asked_before == 4  # nothing asked twice


def test_the_cli_writes_pairs_and_a_summary(tmp_path, student, capsys):
    out = tmp_path / "mistakes"
    assert main(["generate", "--teacher", "synthetic", "--task", "object_counting", "--n", "5",
                 "--mistakes-from", "scripted", "--out", str(out)]) == 0
    pairs = list(iter_records(out / "dual_cot.jsonl"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pairs"] == len(pairs) == summary["answers_by_outcome"]["wrong"] and pairs
    assert main(["validate", str(out / "dual_cot.jsonl")]) == 0
    assert "dual pairs from the student's wrong answers" in capsys.readouterr().out


def test_with_an_llm_teacher_the_students_wrong_cots_are_rectified_with_the_answer_hint(tmp_path, monkeypatch):
    from edit_plugin.student_mistakes import mark_student_pairs, teacher_question_mistakes
    from edit_plugin.teacher.build import build_dual_cots
    from test_teacher_pipeline import ScriptedTeacher, cot, q

    questions = [q(1), q(2), q(3)]
    said = {"1 + 1 =": cot(3), "2 + 2 =": cot(4), "3 + 3 =": "Hmm."}  # wrong, right, no answer

    def student(model, tokenizer, prompts, *args):
        for prompt in prompts:
            yield [(said[prompt.split("Q:")[1].split("\n")[0].strip()], False)]

    monkeypatch.setattr(decode, "load_for_decoding", lambda path: (None, None))
    monkeypatch.setattr(decode, "generate_batches", student)
    known, counts = teacher_question_mistakes("scripted", questions, tmp_path)
    assert [m.question.id for m in known] == ["q1"] and known[0].cot == cot(3)
    assert counts["answers_by_outcome"]["right"] == counts["answers_by_outcome"]["no_answer"] == 1

    teacher = ScriptedTeacher({("1 + 1 =", "ahp"): [cot(2)]})
    build_dual_cots([], teacher, tmp_path, known=known, progress=False)
    assert teacher.calls == [("1 + 1 =", "ahp")]  # the teacher only rectifies
    assert mark_student_pairs(tmp_path, {m.question.id for m in known}) == 1
    (pair,) = iter_records(tmp_path / "dual_cot.jsonl")
    assert pair["source"] == "student" and pair["rejected"] == cot(3) and pair["chosen"] == cot(2)
    assert json.loads((tmp_path / "summary.json").read_text())["pairs"]["student"] == 1
