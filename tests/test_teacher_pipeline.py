"""The dual-CoT pipeline with a scripted teacher covering every branch, and
resuming after a kill without losing or repeating an answer."""

from __future__ import annotations

import pytest

from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.outputs import dual_records, sft_records, summary
from edit_plugin.teacher.pipeline import DualCoTPipeline
from edit_plugin.teacher.questions import TeacherQuestion
from edit_plugin.text.schema import record_problem


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
        self.seeds: list[int] = []
        self.temperatures: list[float] = []

    @staticmethod
    def stage(prompt: str) -> str:
        if "Right Response:" in prompt:
            return "ccp"
        return "ahp" if "H: The correct answer is" in prompt else "cep"

    def __call__(self, prompts, temperature, seed):
        self.seeds.append(seed)
        self.temperatures.append(temperature)
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
    sft = sft_records(QUESTIONS, result)  # D+ and D-+, each marked with where its CoT came from
    assert [(r["id"], r["source"]) for r in sft] == [("q1", "teacher"), ("q2", "rectified"), ("q4", "teacher"),
                                                     ("q5", "teacher")]
    assert all(record_problem(r, ("prompt", "chosen")) is None for r in sft)
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
        asked_again = sum(stage.asked for stage in resumed.stages)
        assert asked_again == len(reference.calls) - journaled
        for stage in resumed.stages:
            stage.asked = None
        for stage in expected.stages:
            stage.asked = None
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
    # The cut line is gone: the next answer gets a line of its own and survives a reload.
    reread.add("q2", "cep", 0, "answer two")
    assert Journal(path).get("q2", "cep", 0) == "answer two"
    assert len(path.read_text().splitlines()) == 2


def test_an_answer_is_reused_only_for_the_same_prompt(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.add("q1", "cep", 0, "old answer", "Q: 1 + 1 =")
    assert Journal(tmp_path / "j.jsonl").get("q1", "cep", 0, "Q: 1 + 1 =") == "old answer"
    assert Journal(tmp_path / "j.jsonl").get("q1", "cep", 0, "Q: 2 + 2 =") is None


def test_a_changed_question_file_is_asked_anew(tmp_path):
    teacher = ScriptedTeacher(SCRIPT)
    run(tmp_path, teacher)
    # Same ids, other questions (a line was inserted in the user's file).
    shifted = [TeacherQuestion(id=x.id, task=x.task, description=x.description, question=y.question,
                               gold=y.gold, kind=y.kind) for x, y in zip(QUESTIONS, QUESTIONS[1:] + QUESTIONS[:1])]
    again = ScriptedTeacher(SCRIPT)
    result = DualCoTPipeline(again, Journal(tmp_path / "journal.jsonl")).run(shifted)
    assert ("2 + 2 =", "cep") in again.calls and result.correct["q5"].endswith("is 2.")


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
           "--attempts", "1", "--max-gen-toks", "32", "--cep-samples", "2", "--samples", "2", "--out", str(out)]
    env = {**os.environ, "EDIT_DATA_DIR": str(shared)}
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=900)
    stats = json.loads((out / "summary.json").read_text())
    dropped = stats["unreadable"]["dropped"]
    assert stats["questions"] == 2 and stats["correct"] + stats["incorrect"] + dropped == 2
    journal = (out / "journal.jsonl").read_text().splitlines()
    stages = [(row["stage"], row["attempt"]) for row in map(json.loads, journal)]
    # CEP for both (and retries of unreadable answers), one AHP or CCP attempt
    # for each readable one, and two repeat samples each.
    assert stages.count(("cep", 0)) == 2 and stages.count(("repeat", 0)) == stages.count(("repeat", 1)) == 2
    assert sum(s[0] in ("ahp", "ccp") for s in stages) == 2 - dropped
    assert stats["repeat"]["samples"] == 4 and (out / "repeat.jsonl").exists()
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=900)
    assert (out / "journal.jsonl").read_text().splitlines() == journal  # resumed: nothing asked again
    resumed = json.loads((out / "summary.json").read_text())
    assert sum(stage["asked"] for stage in resumed.pop("stages")) == 0
    assert sum(stage["asked"] for stage in stats.pop("stages")) == len(journal)
    assert resumed == stats


def test_given_incorrect_cots_skip_cep_and_keep_their_error_span(tmp_path):
    from edit_plugin.teacher.build import build_dual_cots
    from edit_plugin.teacher.mistakes import KnownMistake

    wrong = cot(7)
    span = (wrong.index("We add"), wrong.index("We add") + len("We add the two numbers."))
    known = [KnownMistake(q(3), wrong, *span)]
    teacher = ScriptedTeacher({**SCRIPT, ("3 + 3 =", "ahp"): [cot(6)]})
    stats = build_dual_cots([q(1), q(2)], teacher, tmp_path, known=known, progress=False)
    assert ("3 + 3 =", "cep") not in teacher.calls and ("3 + 3 =", "ahp") in teacher.calls
    records = {r["id"]: r for r in _read_jsonl(tmp_path / "dual_cot.jsonl")}
    given = records["q3"]
    assert given["source"] == "rectified" and given["rejected"] == wrong and given["chosen"].endswith("is 6.")
    assert given["rejected"][given["error_char_start"]:given["error_char_end"]] == "We add the two numbers."
    assert "error_char_start" not in records["q2"]  # a CEP answer has no marked error
    # Teacher accuracy counts the questions the teacher answered, not the given CoTs.
    assert stats["given_incorrect"] == 1 and stats["teacher_accuracy"] == 0.5
    assert stats["incorrect"] == 2 and stats["rectified"] == 2


def _read_jsonl(path):
    import json

    return [json.loads(line) for line in path.read_text().splitlines()]


def test_summary_per_task_and_per_stage(tmp_path):
    from edit_plugin.teacher.build import build_dual_cots

    questions = [q(1, "add"), q(2, "add"), q(3, "sum"), q(4, "sum"), q(5, "sum")]
    stats = build_dual_cots(questions, ScriptedTeacher(SCRIPT), tmp_path, progress=False)
    assert stats == __import__("json").loads((tmp_path / "summary.json").read_text())
    add, total = stats["per_task"]["add"], stats["per_task"]["sum"]
    assert (add["questions"], add["correct"], add["rectified"], add["corrupted"]) == (2, 1, 1, 1)
    assert (total["questions"], total["correct"], total["incorrect"], total["corrupted"]) == (3, 2, 1, 1)
    assert total["rectify_success"] == 0.0 and total["corrupt_success"] == 0.5
    assert add["pairs"] == {"rectified": 1, "corrupted": 1}
    stages = [(s["stage"], s["attempt"], s["questions"], s["succeeded"]) for s in stats["stages"]]
    assert stages == [("cep", 0, 5, 3), ("ahp", 0, 2, 1), ("ahp", 1, 1, 0), ("ahp", 2, 1, 0),
                      ("ccp", 0, 3, 1), ("ccp", 1, 2, 1), ("ccp", 2, 1, 0)]
    assert sum(s["asked"] for s in stats["stages"]) == 5 + 2 + 1 + 1 + 3 + 2 + 1
    # A second run reads every answer from the journal and asks nothing.
    again = build_dual_cots(questions, ScriptedTeacher({}), tmp_path, progress=False)
    assert sum(s["asked"] for s in again["stages"]) == 0 and again["per_task"] == stats["per_task"]


def test_progress_bar_shows_the_four_counts(tmp_path):
    import io

    from edit_plugin.teacher.progress import Progress

    stream = io.StringIO()
    teacher = ScriptedTeacher(SCRIPT)
    pipeline = DualCoTPipeline(teacher, Journal(tmp_path / "j.jsonl"), progress=Progress(enabled=True, stream=stream))
    pipeline.run(QUESTIONS)
    text = stream.getvalue()
    assert "D+=3, D-=2, D-+=1, D+-=2" in text
    assert f"{len(teacher.calls)}/{len(teacher.calls)}" in text


def test_filters_drop_rewrites_but_keep_their_correct_cot_for_sft(tmp_path):
    from edit_plugin.teacher.build import build_dual_cots
    from edit_plugin.teacher.filters import PairFilter

    rewrite = "Let's think step by step.\nTotally different reasoning about numbers here.\nTherefore, the answer is 4."
    script = {**SCRIPT, ("2 + 2 =", "ahp"): [rewrite]}
    words: dict[str, int] = {}

    def tokenize(text):
        return [words.setdefault(w, len(words)) for w in text.split()]

    pair_filter = PairFilter(max_key_fraction=0.3, tokenize=tokenize)
    stats = build_dual_cots(QUESTIONS, ScriptedTeacher(script), tmp_path, pair_filter=pair_filter, progress=False)
    ids = [r["id"] for r in _read_jsonl(tmp_path / "dual_cot.jsonl")]
    assert ids == ["q1", "q5"] and stats["filtered"] == {"key_fraction": 1}
    assert "q2" in [r["id"] for r in _read_jsonl(tmp_path / "sft.jsonl")]
    assert stats["pairs"] == {"rectified": 0, "corrupted": 2}

    strict = PairFilter(min_similarity=0.99)
    stats = build_dual_cots(QUESTIONS, ScriptedTeacher(script), tmp_path, pair_filter=strict, progress=False)
    assert stats["filtered"] == {"similarity": 3} and _read_jsonl(tmp_path / "dual_cot.jsonl") == []


def test_filter_arguments_are_checked():
    from edit_plugin.teacher.filters import PairFilter, similarity

    with pytest.raises(ValueError, match="tokenizer"):
        PairFilter(max_key_fraction=0.2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        PairFilter(min_similarity=1.5)
    assert similarity("abc", "abc") == 1.0 and similarity("abc", "xyz") == 0.0


def test_each_attempt_samples_with_a_new_seed(tmp_path):
    teacher = ScriptedTeacher(SCRIPT)
    pipeline = DualCoTPipeline(teacher, Journal(tmp_path / "j.jsonl"), chunk_size=100)
    pipeline.run(QUESTIONS)
    # One call per stage attempt (cep; ahp 0-2; ccp 0-2), each with its own seed.
    assert len(teacher.seeds) == 7 and len(set(teacher.seeds)) == 7


# --- hedged and unreadable teacher answers -----------------------------------

def hedge(a, b) -> str:
    return f"Let's think step by step.\nWe add the two numbers.\nTherefore, the answer is {a} or {b}."


def test_a_hedged_cep_answer_is_wrong_and_a_hedged_corruption_is_refused(tmp_path):
    from edit_plugin.teacher.build import build_dual_cots

    script = {("1 + 1 =", "cep"): [hedge(2, 3)], ("1 + 1 =", "ahp"): [cot(2)],
              ("2 + 2 =", "cep"): [cot(4)], ("2 + 2 =", "ccp"): [hedge(4, 5), cot(5)]}
    teacher = ScriptedTeacher(script)
    stats = build_dual_cots([q(1), q(2)], teacher, tmp_path, progress=False)
    records = {r["id"]: r for r in _read_jsonl(tmp_path / "dual_cot.jsonl")}
    # The hedge names the gold answer 2, yet it is a wrong CoT (D-), rectified.
    assert records["q1"]["source"] == "rectified" and records["q1"]["rejected"] == hedge(2, 3)
    assert stats["incorrect"] == 1 and stats["hedged"] == 1 and stats["teacher_accuracy"] == 0.5
    # A hedge is no clean wrong CoT: CCP asks again and keeps the single wrong answer.
    assert teacher.calls.count(("2 + 2 =", "ccp")) == 2 and records["q2"]["rejected"] == cot(5)


UNREADABLE_SCRIPT = {
    # unreadable twice, then right (recovered into D+)
    ("1 + 1 =", "cep"): ["I am not sure.", "Let me think. The sum is", cot(2)], ("1 + 1 =", "ccp"): [cot(3)],
    # unreadable once, then wrong (recovered into D-)
    ("2 + 2 =", "cep"): ["", cot(5)], ("2 + 2 =", "ahp"): [cot(4)],
    # never readable: dropped after 10 samples
    ("3 + 3 =", "cep"): ["no idea"],
    # readable at once
    ("4 + 4 =", "cep"): [cot(8)], ("4 + 4 =", "ccp"): [cot(9)],
}
UNREADABLE_QUESTIONS = [q(1), q(2), q(3), q(4)]


def run_unreadable(folder, teacher, chunk_size=100):
    return DualCoTPipeline(teacher, Journal(folder / "journal.jsonl"), chunk_size=chunk_size).run(UNREADABLE_QUESTIONS)


def test_unreadable_cep_answers_are_asked_again_hotter_then_dropped(tmp_path):
    teacher = ScriptedTeacher(UNREADABLE_SCRIPT)
    result = run_unreadable(tmp_path, teacher)
    assert [teacher.calls.count((f"{i} + {i} =", "cep")) for i in (1, 2, 3, 4)] == [3, 2, 10, 1]
    # Greedy first, then 0.2, 0.3, ... 1.0: ten samples, each call its own seed.
    assert teacher.temperatures[:10] == pytest.approx([0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert len(set(teacher.seeds)) == len(teacher.seeds)
    assert list(result.correct) == ["q1", "q4"] and list(result.incorrect) == ["q2"]
    assert result.unreadable == {"q1", "q2", "q3"} and result.dropped == {"q3"}
    assert set(result.rectified) == {"q2"} and set(result.corrupted) == {"q1", "q4"}
    cep = [(s.attempt, s.questions, s.succeeded) for s in result.stages if s.stage == "cep"]
    assert cep == [(0, 4, 1), (1, 3, 0), (2, 2, 1)] + [(k, 1, 0) for k in range(3, 10)]
    journal = Journal(tmp_path / "journal.jsonl")
    assert [journal.get("q3", "cep", k) for k in range(10)] == ["no idea"] * 10

    stats = summary(UNREADABLE_QUESTIONS, result)
    assert stats["unreadable"] == {"at_first": 3, "recovered": 2, "dropped": 1}
    assert stats["teacher_accuracy"] == 0.5  # a dropped question was asked and never answered
    assert (stats["correct"], stats["incorrect"]) == (2, 1)
    assert "q3" not in {r["id"] for r in dual_records(UNREADABLE_QUESTIONS, result)}
    assert "q3" not in {r["id"] for r in sft_records(UNREADABLE_QUESTIONS, result)}


def test_fewer_cep_samples_drop_sooner(tmp_path):
    teacher = ScriptedTeacher(UNREADABLE_SCRIPT)
    result = DualCoTPipeline(teacher, Journal(tmp_path / "j.jsonl"), cep_samples=2).run(UNREADABLE_QUESTIONS)
    assert result.dropped == {"q1", "q3"} and teacher.calls.count(("3 + 3 =", "cep")) == 2
    with pytest.raises(ValueError, match="cep_samples"):
        DualCoTPipeline(teacher, Journal(tmp_path / "j.jsonl"), cep_samples=0)


@pytest.mark.parametrize("kill_at", [2, 5, 8, 11, 14, 17])
def test_resume_during_cep_retries_asks_nothing_twice(tmp_path, kill_at):
    reference = ScriptedTeacher(UNREADABLE_SCRIPT)
    expected = run_unreadable(tmp_path / "ref", reference, chunk_size=1)
    first = ScriptedTeacher(UNREADABLE_SCRIPT, fail_after=kill_at)
    with pytest.raises(KeyboardInterrupt):
        run_unreadable(tmp_path, first, chunk_size=1)
    journaled = len((tmp_path / "journal.jsonl").read_text().splitlines())
    assert journaled == kill_at
    second = ScriptedTeacher(UNREADABLE_SCRIPT)
    second.calls = first.calls[:journaled]
    resumed = run_unreadable(tmp_path, second, chunk_size=1)
    assert len(second.calls) == len(reference.calls)  # only the missing answers were asked
    assert len((tmp_path / "journal.jsonl").read_text().splitlines()) == len(reference.calls)
    for stage in resumed.stages + expected.stages:
        stage.asked = None
    assert resumed == expected


# --- repeat sampling ------------------------------------------------------------

def other_cot(value) -> str:
    return f"Let's think step by step.\nOne and one more.\nTherefore, the answer is {value}."


REPEAT_SCRIPT = {
    # greedy CEP answer, then samples 0-3: right, right (other words), wrong, right (a repeat of sample 0)
    ("1 + 1 =", "cep"): [cot(2), cot(2), other_cot(2), cot(3), cot(2)], ("1 + 1 =", "ccp"): [cot(3)],
    # greedy wrong; samples: right, hedged, unreadable, right (sample 0 up to whitespace)
    ("2 + 2 =", "cep"): [cot(5), cot(4), hedge(4, 5), "garbled", cot(4).replace("\n", " \n")],
    ("2 + 2 =", "ahp"): [cot(4)],
}


def test_repeat_sampling_keeps_every_distinct_correct_sample(tmp_path):
    from edit_plugin.teacher.build import build_dual_cots
    from edit_plugin.text.prompts import build_prompt

    teacher = ScriptedTeacher(REPEAT_SCRIPT)
    stats = build_dual_cots([q(1), q(2)], teacher, tmp_path, samples=4, sample_temperature=0.7, progress=False)
    rows = _read_jsonl(tmp_path / "repeat.jsonl")
    assert [(r["id"], r["sample"]) for r in rows] == [("q1", 0), ("q1", 1), ("q2", 0)]
    assert [r["chosen"] for r in rows] == [cot(2), other_cot(2), cot(4)]
    assert rows[0] == {"id": "q1", "task": "math", "prompt": build_prompt("1 + 1 =", "Compute."),
                       "chosen": cot(2), "answer": "2", "source": "teacher", "sample": 0}
    # One call per sample at the sampling temperature, each with its own seed.
    sample_calls = [(t, s) for t, s in zip(teacher.temperatures, teacher.seeds)][-4:]
    assert [t for t, _ in sample_calls] == [0.7] * 4 and len(set(teacher.seeds)) == len(teacher.seeds)
    assert stats["repeat"] == {"samples_per_question": 4, "temperature": 0.7, "questions": 2,
                               "questions_with_rows": 2, "samples": 8, "correct": 5, "duplicates": 2,
                               "rows": 3, "wrong": 1, "hedged": 1, "unreadable": 1}
    assert [(s["attempt"], s["succeeded"]) for s in stats["stages"] if s["stage"] == "repeat"] == \
        [(0, 2), (1, 1), (2, 0), (3, 2)]
    # The EDIT files are those of a run without sampling.
    assert [r["id"] for r in _read_jsonl(tmp_path / "sft.jsonl")] == ["q1", "q2"]
    # Started again: every sample comes from the journal.
    again = build_dual_cots([q(1), q(2)], ScriptedTeacher({}), tmp_path, samples=4, progress=False)
    assert _read_jsonl(tmp_path / "repeat.jsonl") == rows and again["repeat"] == stats["repeat"]


def test_repeat_sampling_resumes_after_a_kill(tmp_path):
    from edit_plugin.teacher.build import build_dual_cots

    reference = ScriptedTeacher(REPEAT_SCRIPT)
    build_dual_cots([q(1), q(2)], reference, tmp_path / "ref", samples=4, chunk_size=1, progress=False)
    kill_at = len(reference.calls) - 3  # in the middle of the samples
    first = ScriptedTeacher(REPEAT_SCRIPT, fail_after=kill_at)
    with pytest.raises(KeyboardInterrupt):
        build_dual_cots([q(1), q(2)], first, tmp_path, samples=4, chunk_size=1, progress=False)
    assert not (tmp_path / "repeat.jsonl").exists()
    second = ScriptedTeacher(REPEAT_SCRIPT)
    second.calls = first.calls[:kill_at]
    build_dual_cots([q(1), q(2)], second, tmp_path, samples=4, chunk_size=1, progress=False)
    assert len(second.calls) == len(reference.calls)
    assert _read_jsonl(tmp_path / "repeat.jsonl") == _read_jsonl(tmp_path / "ref" / "repeat.jsonl")


def test_repeat_sampling_arguments_are_checked(tmp_path):
    pipeline = DualCoTPipeline(ScriptedTeacher({}), Journal(tmp_path / "j.jsonl"))
    with pytest.raises(ValueError, match="temperature > 0"):
        pipeline.sample([q(1)], 2, 0.0)
    with pytest.raises(ValueError, match="samples must be >= 1"):
        pipeline.sample([q(1)], 0, 0.7)
