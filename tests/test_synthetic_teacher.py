"""The programmatic teacher as a whole run: a seeded share of wrong answers,
rectified and corrupted pairs, the SFT set and the summary, and its files."""

import filecmp

import pytest

from edit_plugin.question_scoring import question_verdict
from edit_plugin.synthetic import TASK_FAMILIES
from edit_plugin.synthetic.teacher import mistaken_indices, synthetic_teacher_run, write_teacher_files
from edit_plugin.text.schema import REQUIRED_FIELDS, SFT_FIELDS, record_problem, validate_file


@pytest.mark.parametrize("task", sorted(TASK_FAMILIES))
def test_a_quarter_of_the_answers_are_wrong_and_rectified(task):
    dual, sft, summary = synthetic_teacher_run(task, 40, seed=3)
    rectified = [r for r in dual if r["source"] == "rectified"]
    assert len(dual) == 40 and len(rectified) == 10
    for r in dual:
        assert record_problem(r) is None
        # Either way the chosen CoT is right and the rejected one wrong by one error in the marked step.
        assert question_verdict(r["chosen"], r) == "correct"
        assert question_verdict(r["rejected"], {**r, "answer": r["rejected_answer"]}) == "correct"
        assert question_verdict(r["rejected"], r) == "wrong"
        assert r["chosen"][: r["error_char_start"]] == r["rejected"][: r["error_char_start"]]
        assert r["error_type"] in TASK_FAMILIES[task].ERROR_TYPES
    # The teacher's mistakes are of every type the family knows.
    assert {r["error_type"] for r in rectified} == set(TASK_FAMILIES[task].ERROR_TYPES)
    # D+ ∪ D-+: every correct CoT, marked by where it came from.
    assert [(s["id"], s["chosen"]) for s in sft] == [(r["id"], r["chosen"]) for r in dual]
    assert [s["source"] for s in sft] == ["rectified" if r["source"] == "rectified" else "teacher" for r in dual]
    assert all(record_problem(s, SFT_FIELDS) is None and "rejected" not in s for s in sft)
    assert summary["questions"] == 40 and summary["teacher_accuracy"] == 0.75
    assert (summary["correct"], summary["incorrect"], summary["rectified"], summary["corrupted"]) == (30, 10, 10, 30)
    assert summary["pairs"] == {"rectified": 10, "corrupted": 30} and summary["sft"] == {"teacher": 30, "rectified": 10}
    per_type = summary["pairs_per_error_type"]
    assert sum(v["rectified"] for v in per_type.values()) == 10
    assert sum(sum(v.values()) for v in per_type.values()) == 40


def test_mistakes_change_labels_only_never_the_questions():
    from edit_plugin.synthetic import arithmetic

    runs = {rate: synthetic_teacher_run("multistep_arithmetic", 60, seed=2, mistake_rate=rate)[0]
            for rate in (0.0, 0.25, 0.5, 1.0)}
    strip = [[{k: v for k, v in r.items() if k != "source"} for r in dual] for dual in runs.values()]
    assert all(s == strip[0] for s in strip)
    # With no mistakes the pairs are exactly those of generate_pairs.
    assert runs[0.0] == arithmetic.generate_pairs(60, seed=2)
    assert {r["source"] for r in runs[1.0]} == {"rectified"}
    wrong = {rate: {r["id"] for r in dual if r["source"] == "rectified"} for rate, dual in runs.items()}
    assert len(wrong[0.25]) == 15 and len(wrong[0.5]) == 30
    assert wrong[0.0] < wrong[0.25] < wrong[0.5] < wrong[1.0]  # a higher rate keeps a lower one's mistakes


def test_which_questions_are_wrong_is_seeded():
    assert mistaken_indices(100, 0.3, 0, "x") == mistaken_indices(100, 0.3, 0, "x")
    assert mistaken_indices(100, 0.3, 0, "x") != mistaken_indices(100, 0.3, 1, "x")
    assert len(mistaken_indices(10, 0.25, 0, "x")) == 3  # 2.5 rounds up
    first, again = synthetic_teacher_run("word_sorting", 30, seed=4), synthetic_teacher_run("word_sorting", 30, seed=4)
    assert first == again
    assert first[0] != synthetic_teacher_run("word_sorting", 30, seed=5)[0]


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.2", True])
def test_a_mistake_rate_outside_zero_to_one_is_refused(bad):
    with pytest.raises(ValueError, match="mistake rate"):
        synthetic_teacher_run("word_sorting", 5, mistake_rate=bad)


def test_bad_task_or_size_is_refused():
    with pytest.raises(ValueError, match="unknown synthetic task family 'chess'.*word_sorting"):
        synthetic_teacher_run("chess", 5)
    with pytest.raises(ValueError, match="whole number"):
        synthetic_teacher_run("word_sorting", -1)


def test_given_questions_are_read_solved_and_counted():
    text = "Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: "
    questions = [{"id": f"q{i}", "question": text + "( [ " + "{ " * i, "target": "} " * i + "] )"}
                 for i in range(8)]
    questions.append({"id": "bad", "question": text + "( [", "target": ") ]"})
    dual, sft, summary = synthetic_teacher_run("dyck_languages", None, seed=0, mistake_rate=0.5,
                                               questions=questions)
    assert [r["id"] for r in dual] == [f"q{i}" for i in range(8)] == [s["id"] for s in sft]
    assert summary["pairs"] == {"rectified": 4, "corrupted": 4} and summary["questions_read"] == 9
    assert summary["skipped"] == {"unreadable": 0, "answer_disagrees": 1, "no_error_fits": 0}
    assert summary["question_set"] == "given"
    # n takes the first n questions.
    assert [r["id"] for r in synthetic_teacher_run("dyck_languages", 3, questions=questions)[0]] == ["q0", "q1", "q2"]


def test_files_validate_and_are_byte_identical_for_a_seed(tmp_path):
    for name in ("a", "b"):
        write_teacher_files(tmp_path / name, *synthetic_teacher_run("date_arithmetic", 50, seed=7))
    for file in ("dual_cot.jsonl", "sft.jsonl", "summary.json"):
        assert filecmp.cmp(tmp_path / "a" / file, tmp_path / "b" / file, shallow=False), file
    assert validate_file(tmp_path / "a" / "dual_cot.jsonl", REQUIRED_FIELDS) == 50
    assert validate_file(tmp_path / "a" / "sft.jsonl", SFT_FIELDS) == 50


def test_cli_writes_the_pipeline_layout_with_mistakes(tmp_path, capsys):
    import json

    from edit_plugin.cli import main

    argv = ["generate", "--teacher", "synthetic", "--task", "object_counting", "--n", "20", "--seed", "1",
            "--mistake-rate", "0.5"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert "20 synthetic dual pairs (10 rectified, 10 corrupted), 20 SFT rows" in capsys.readouterr().out
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    for file in ("dual_cot.jsonl", "sft.jsonl", "summary.json"):
        assert filecmp.cmp(tmp_path / "a" / file, tmp_path / "b" / file, shallow=False), file
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["mistake_rate"] == 0.5 and summary["teacher_accuracy"] == 0.5
    sft = [json.loads(line) for line in (tmp_path / "a" / "sft.jsonl").read_text().splitlines()]
    assert sorted(s["source"] for s in sft) == ["rectified"] * 10 + ["teacher"] * 10
    # The default rate is a quarter.
    assert main(["generate", "--teacher", "synthetic", "--n", "8", "--out", str(tmp_path / "c")]) == 0
    assert json.loads((tmp_path / "c" / "summary.json").read_text())["pairs"] == {"rectified": 2, "corrupted": 6}
    with pytest.raises(SystemExit):
        main([*argv[:-1], "1.5", "--out", str(tmp_path / "d")])
    assert "share from 0 to 1" in capsys.readouterr().err
