"""The on-policy path of `edit-cot experiment` on a tiny random Llama: the
stage-1 model's (scripted) wrong answers become its seed's pairs, stage 2
reads them, both models are scored on the held-out ones; a second run finds
everything done and asks nothing again."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import edit_plugin.student_mistakes as student_mistakes
from edit_plugin.experiment.plan import parse_plan
from edit_plugin.experiment.runner import ExperimentRunner
from edit_plugin.text.schema import iter_records

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def plan_for(model: Path):
    return parse_plan({
        "name": "tiny-onpolicy",
        "student": {"recipes": str(ROOT / "recipes" / "smollm2-135m"), "base_model": str(model)},
        "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8},
                 "onpolicy": {"from": "edit_wo_krsl", "questions": {"object_counting": 6},
                              "train_pairs": 4, "heldout_pairs": 2, "max_new_tokens": 8}},
        "custom_conditions": {"onpolicy_edit": {"like": "edit", "pairs": "onpolicy"}},
        "conditions": ["edit_wo_krsl", "onpolicy_edit"],
        "seeds": [0],
        "overrides": {"all": {"micro_batch_size": 4, "num_epochs": 1, "learning_rate": 1.0e-2,
                              "warmup_ratio": 0.0, "sequence_len": 256}},
        "evaluation": {"max_new_tokens": 8, "batch_size": 4, "teacher_forced": 2,
                       "benchmarks": [{"name": "ind", "heldout": 2}]},
    })


def wrong_by_one(model_path, questions, out, **answering):
    """The scripted student: every answer one more than the gold one."""
    return {q["id"]: [{"completion": f"I counted.\nTherefore, the answer is {int(q['answer']) + 1}.",
                       "cut": False}] for q in questions}


def test_onpolicy_pairs_are_mined_trained_on_and_scored(tmp_path, tiny_llama, monkeypatch):
    monkeypatch.setattr(student_mistakes, "answer_questions", wrong_by_one)
    plan, out = plan_for(tiny_llama), tmp_path / "run"
    dry = io.StringIO()
    ExperimentRunner(plan, out, stream=dry).dry_run()
    assert "mine-s1-all_correct-seed0" in dry.getvalue()
    assert "serves edit_wo_krsl, onpolicy_edit" in dry.getvalue()
    assert "at most 4 rows (made by the mine stage)" in dry.getvalue()

    results = ExperimentRunner(plan, out, stream=io.StringIO()).run()
    folder = results / "onpolicy" / "seed0"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["answers_by_outcome"]["wrong"] == 6 and summary["train_pairs"] == 4
    train, heldout = list(iter_records(folder / "pairs.jsonl")), list(iter_records(folder / "heldout.jsonl"))
    assert len(train) == 4 and len(heldout) == 2 and {p["source"] for p in train} == {"student"}
    assert not {p["prompt"] for p in train} & {p["prompt"] for p in heldout}
    # New questions: none is a training or evaluation question of the plan.
    keys = json.loads((out / "data" / "eval-tiny-onpolicy" / "question_keys.json").read_text())["object_counting"]
    from edit_plugin.synthetic import object_counting

    assert not {object_counting.canonical_question(p["prompt"].split("Q:")[1].split("\n")[0])
                for p in train + heldout} & set(keys)
    config = (out / "configs" / "s2-onpolicy_edit-seed0.yml").read_text()
    assert str(folder / "pairs.jsonl") in config
    rows = [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]
    scored = {(r["condition"], r["benchmark"]) for r in rows}
    assert {("edit_wo_krsl", "heldout_onpolicy"), ("onpolicy_edit", "heldout_onpolicy"),
            ("onpolicy_edit", "ind")} <= scored

    def ask_nothing(*args, **kwargs):
        raise AssertionError("asked again")

    monkeypatch.setattr(student_mistakes, "answer_questions", ask_nothing)
    log = io.StringIO()
    ExperimentRunner(plan, out, stream=log).run()
    assert "0 stages" not in log.getvalue() and "mine-" not in log.getvalue().split("work folder")[1]
