"""The dual-CoT pipeline with a scripted teacher covering every branch, and
resuming after a kill without losing or repeating an answer."""

from __future__ import annotations

import pytest

from edit_plugin.records import record_problem
from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.pipeline import DualCoTPipeline, dual_records, sft_records, summary
from edit_plugin.teacher.questions import TeacherQuestion


def q(i: int, task: str = "math") -> TeacherQuestion:
    return TeacherQuestion(id=f"q{i}", task=task, description="Compute.", question=f"{i} + {i} =",
                           gold=str(2 * i), kind="number")


def cot(value) -> str:
    return f"Let's think step by step.\nWe add the two numbers.\nTherefore, the answer is {value}."


class ScriptedTeacher:
    """Answers by (question, stage): each stage has a list of answers, one
    per attempt. Counts every prompt it is sent."""

    def __init__(self, script: dict[tuple[str, str], list[str]], fail_after: int | None = None):
        self.script = script
        self.calls: list[tuple[str, str]] = []
        self.prompts: list[str] = []
        self.fail_after = fail_after

    @staticmethod
    def stage(prompt: str) -> str:
        if "Right Response:" in prompt:
            return "ccp"
        return "ahp" if "H: The correct answer is" in prompt else "cep"

    def __call__(self, prompts, temperature, seeds):
        out = []
        for prompt in prompts:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise KeyboardInterrupt("killed")
            question = prompt.rsplit("Q: ", 1)[1].split("\n", 1)[0]
            key = (question, self.stage(prompt))
            attempt = sum(1 for c in self.calls if c == key)
            self.calls.append(key)
            self.prompts.append(prompt)
            answers = self.script[key]
            out.append(answers[min(attempt, len(answers) - 1)])
        return out


QUESTIONS = [q(1), q(2), q(3), q(4), q(5)]
SCRIPT = {
    # correct, then corrupted at the first CCP attempt
    ("1 + 1 =", "cep"): [cot(2)], ("1 + 1 =", "ccp"): [cot(3)],
    # incorrect, rectified at the first AHP attempt
    ("2 + 2 =", "cep"): [cot(5)], ("2 + 2 =", "ahp"): [cot(4)],
    # incorrect, rectification fails on every attempt
    ("3 + 3 =", "cep"): [cot(7)], ("3 + 3 =", "ahp"): [cot(8), "no idea", cot(9)],
    # correct, corruption keeps the right answer (or none) on every attempt
    ("4 + 4 =", "cep"): [cot(8)], ("4 + 4 =", "ccp"): [cot(8), "garbled", cot(8)],
    # correct, corrupted only at the second attempt; rectified after one miss
    ("5 + 5 =", "cep"): [cot(10)], ("5 + 5 =", "ccp"): [cot(10), cot(11)],
}


def run(tmp_path, teacher, chunk_size=8):
    pipeline = DualCoTPipeline(teacher, Journal(tmp_path / "journal.jsonl"), ahp_attempts=3, ccp_attempts=3,
                               chunk_size=chunk_size)
    return pipeline.run(QUESTIONS)


def test_every_branch(tmp_path):
    teacher = ScriptedTeacher(SCRIPT)
    result = run(tmp_path, teacher)
    assert set(result.correct) == {"q1", "q4", "q5"} and set(result.incorrect) == {"q2", "q3"}
    assert set(result.rectified) == {"q2"} and result.failed_rectify == ["q3"]
    assert set(result.corrupted) == {"q1", "q5"} and result.failed_corrupt == ["q4"]
    assert teacher.calls.count(("3 + 3 =", "ahp")) == 3 and teacher.calls.count(("4 + 4 =", "ccp")) == 3

    records = dual_records(QUESTIONS, result)
    assert [(r["id"], r["source"]) for r in records] == [("q1", "corrupted"), ("q2", "rectified"), ("q5", "corrupted")]
    assert all(record_problem(r) is None for r in records)
    rectified = records[1]
    assert rectified["chosen"].endswith("answer is 4.") and rectified["rejected"].endswith("answer is 5.")
    assert [r["id"] for r in sft_records(QUESTIONS, result)] == ["q1", "q2", "q4", "q5"]
    stats = summary(QUESTIONS, result)
    assert stats["teacher_accuracy"] == 0.6 and stats["rectify_success"] == 0.5
    assert stats["corrupt_success"] == pytest.approx(2 / 3)


def test_ccp_samples_triples_from_rectified_pairs_of_the_task(tmp_path):
    teacher = ScriptedTeacher(SCRIPT)
    run(tmp_path, teacher)
    ccp_prompts = [p for p in teacher.prompts if "Right Response:" in p]
    # q2 was rectified before any CCP call: its pair is the in-context triple.
    assert all(p.count("Right Response:") == 2 for p in ccp_prompts)
    assert all("Q: 2 + 2 =" in p for p in ccp_prompts)


def test_zero_shot_ccp_when_no_pair_exists(tmp_path):
    script = {k: v for k, v in SCRIPT.items() if not k[0].startswith(("2 ", "3 "))}
    teacher = ScriptedTeacher(script)
    pipeline = DualCoTPipeline(teacher, Journal(tmp_path / "j.jsonl"))
    pipeline.run([q(1), q(4), q(5)])
    assert all(p.count("Right Response:") == 1 for p in teacher.prompts if "Right Response:" in p)


@pytest.mark.parametrize("chunk_size", [1, 2])
def test_resume_after_a_kill_loses_and_repeats_nothing(tmp_path, chunk_size):
    reference = ScriptedTeacher(SCRIPT)
    expected = run(tmp_path / "ref", reference, chunk_size)
    for kill_at in (1, 4, 7, 10, 13):
        folder = tmp_path / f"kill{kill_at}"
        first = ScriptedTeacher(SCRIPT, fail_after=kill_at)
        with pytest.raises(KeyboardInterrupt):
            run(folder, first, chunk_size)
        journal = folder / "journal.jsonl"
        journaled = len(journal.read_text().splitlines()) if journal.exists() else 0
        # Everything answered before the kill is on disk, but the chunk in flight.
        assert kill_at - chunk_size < journaled <= kill_at
        second = ScriptedTeacher(SCRIPT)
        second.calls = first.calls[:journaled]  # the script's attempts that were kept
        resumed = run(folder, second, chunk_size)
        assert resumed == expected
        # Only what was not journaled is asked again; nothing is journaled twice.
        assert len(second.calls) == len(reference.calls)
        assert len((folder / "journal.jsonl").read_text().splitlines()) == len(reference.calls)


def test_journal_skips_a_line_cut_by_a_kill(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.add("q1", "cep", 0, "answer one")
    with open(path, "a") as handle:
        handle.write('{"id": "q2", "stage": "cep", "attem')
    reread = Journal(path)
    assert reread.get("q1", "cep", 0) == "answer one" and reread.get("q2", "cep", 0) is None


@pytest.mark.slow
def test_generate_with_a_real_lm_eval_teacher_and_resume(tmp_path, student_path):
    """`edit-cot generate` with lm-eval's hf backend serving the embedded
    student (a poor teacher: this checks the plumbing, not its accuracy)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("needs ../shared/data")
    out = tmp_path / "gen"
    cmd = [sys.executable, "-m", "edit_plugin.cli", "generate", "--teacher", "hf",
           "--model-args", f"pretrained={student_path}", "--tasks", "navigate", "--limit", "2",
           "--attempts", "1", "--max-gen-toks", "32", "--out", str(out)]
    env = {**os.environ, "EDIT_DATA_DIR": str(shared)}
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=900)
    stats = json.loads((out / "summary.json").read_text())
    assert stats["questions"] == 2 and stats["correct"] + stats["incorrect"] == 2
    journal = (out / "journal.jsonl").read_text().splitlines()
    # CEP for both, then one AHP or CCP attempt each.
    assert len(journal) == 4
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=900)
    assert (out / "journal.jsonl").read_text().splitlines() == journal  # resumed: nothing asked again
    assert json.loads((out / "summary.json").read_text()) == stats
