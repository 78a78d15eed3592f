"""`edit-cot generate` inputs: question sets, given wrong CoTs, filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from edit_plugin.cli import _pair_filter, build_parser, main
from edit_plugin.teacher.build import teacher_inputs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data(monkeypatch):
    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    from edit_plugin.eval_sets import bbh, source

    monkeypatch.setenv(source.DATA_DIR_ENV, str(SHARED))
    bbh.bbh_examples.cache_clear()
    yield SHARED
    bbh.bbh_examples.cache_clear()


def _args(*argv):
    return build_parser().parse_args(["generate", "--teacher", "hf", *argv])


def test_incorrect_alone_processes_only_the_given_cots(shared_data):
    questions, known, extra = teacher_inputs(None, ["word_sorting", "dyck_languages"], 3,
                                             incorrect=shared_data / "bbh-mistake")
    assert questions == [] and extra["question_set"] is None
    assert sorted(m.question.task for m in known) == ["dyck_languages"] * 3 + ["word_sorting"] * 3
    assert extra["given_incorrect_file"]["used"] == 6 and extra["given_incorrect_file"]["kept"] > 1000


def test_a_bbh_question_with_a_given_wrong_cot_is_not_asked_again(shared_data):
    questions, known, extra = teacher_inputs("bbh", ["dyck_languages"], None,
                                             incorrect=shared_data / "bbh-mistake" / "dyck_languages.jsonl")
    matched = {m.bbh_id for m in known if m.bbh_id}
    assert matched and not matched & {q.id for q in questions}
    assert len(questions) == 200 - len(matched) == 200 - extra["given_incorrect_file"]["questions_not_asked"]
    # Every BBH train question appears once; only given CoTs can share a question (several traces of one).
    assert len({q.question for q in questions}) == len(questions)
    assert not {q.question for q in questions} & {m.question.question for m in known}


def test_evaluated_questions_are_refused_on_the_command_line(shared_data, capsys):
    with pytest.raises(SystemExit, match="--allow-eval-overlap"):
        main(["generate", "--teacher", "hf", "--questions", "agieval"])
    with pytest.raises(SystemExit, match="unknown question set"):
        main(["generate", "--teacher", "hf", "--questions", "mmlu"])
    with pytest.raises(SystemExit, match="arc_easy_train.jsonl"):  # the local copy has only the test split
        main(["generate", "--teacher", "hf", "--questions", "arc_easy"])
    with pytest.raises(SystemExit, match="edit-cot generate: .*nowhere"):
        main(["generate", "--teacher", "hf", "--incorrect", "/nowhere/bbh-mistake"])
    with pytest.raises(SystemExit):
        main(["generate", "--teacher", "hf", "--limit", "0"])
    assert "positive" in capsys.readouterr().err


def test_pair_filter_from_arguments(chat_tokenizer, student_path):
    plain = _pair_filter(_args("--min-similarity", "0.5"))
    assert plain.active and plain.tokenize is None
    keyed = _pair_filter(_args("--max-key-fraction", "0.2", "--tokenizer", str(student_path)))
    assert keyed.tokenize("Therefore") == chat_tokenizer("Therefore", add_special_tokens=False)["input_ids"]
    assert not _pair_filter(_args()).active


def test_synthetic_teacher_reads_bbh_train_questions(shared_data, tmp_path):
    import json

    from edit_plugin.eval_sets.bbh import bbh_docs
    from edit_plugin.text.schema import record_problem

    assert main(["generate", "--teacher", "synthetic", "--task", "dyck_languages", "--questions", "bbh",
                 "--limit", "40", "--out", str(tmp_path)]) == 0
    records = [json.loads(line) for line in (tmp_path / "dual_cot.jsonl").read_text().splitlines()]
    train = {d["id"]: d for d in bbh_docs("dyck_languages", "train")}
    test_ids = {d["id"] for d in bbh_docs("dyck_languages", "test")}
    # Every question is solved to BBH's own target, and never a test question.
    assert len(records) == 40 and not {r["id"] for r in records} & test_ids
    for r in records:
        assert r["answer"] == train[r["id"]]["target"] and r["prompt"].endswith(train[r["id"]]["question"] + "\n\nA:")
        assert record_problem(r) is None and r["rejected_answer"] != r["answer"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["skipped"] == {"unreadable": 0, "answer_disagrees": 0, "no_error_fits": 0}
    # The default mistake rate: a quarter of the questions answered wrongly, then rectified.
    assert summary["question_set"] == "bbh" and summary["bbh_task"] == "dyck_languages"
    assert summary["pairs"] == {"rectified": 10, "corrupted": 30} and summary["teacher_accuracy"] == 0.75
    sft = [json.loads(line) for line in (tmp_path / "sft.jsonl").read_text().splitlines()]
    assert [(s["id"], s["source"]) for s in sft] == [
        (r["id"], "rectified" if r["source"] == "rectified" else "teacher") for r in records]


def test_synthetic_families_that_only_generate_say_so(shared_data, tmp_path):
    with pytest.raises(SystemExit, match="families that read BBH questions: dyck_languages, word_sorting"):
        main(["generate", "--teacher", "synthetic", "--task", "object_counting", "--questions", "bbh",
              "--out", str(tmp_path)])


def test_samples_need_a_sampling_teacher(capsys):
    with pytest.raises(SystemExit, match="--samples needs a sampling teacher.*deterministic"):
        main(["generate", "--teacher", "synthetic", "--samples", "4"])
    with pytest.raises(SystemExit):
        main(["generate", "--teacher", "hf", "--samples", "2", "--sample-temperature", "0"])
    assert "must be above 0" in capsys.readouterr().err
    args = _args("--samples", "3")
    assert (args.samples, args.sample_temperature, args.cep_samples) == (3, 0.7, 10)
    assert _args().samples is None and _args("--cep-samples", "2").cep_samples == 2


def test_match_rows_on_the_command_line(tmp_path, capsys):
    import json

    repeat, like, out = tmp_path / "repeat.jsonl", tmp_path / "sft.jsonl", tmp_path / "matched.jsonl"
    rows = [{"id": f"q{i % 3}", "task": "t", "prompt": f"q{i % 3}?", "chosen": f"cot {i}", "answer": "1",
             "source": "teacher", "sample": i // 3} for i in range(7)]
    repeat.write_text("".join(json.dumps(r) + "\n" for r in rows))
    like.write_text("".join(json.dumps({"prompt": "p", "chosen": "c"}) + "\n" for _ in range(4)))

    def written():
        return [json.loads(line) for line in out.read_text().splitlines()]

    assert main(["match-rows", str(repeat), "--rows", "3", "--out", str(out)]) == 0
    assert sorted(r["id"] for r in written()) == ["q0", "q1", "q2"]
    assert main(["match-rows", str(repeat), "--like", str(like), "--seed", "1", "--out", str(out)]) == 0
    assert len(written()) == 4 and {r["id"] for r in written()} == {"q0", "q1", "q2"}
    assert "4 rows (3 questions)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="edit-cot match-rows: asked for 8 rows but there are only 7"):
        main(["match-rows", str(repeat), "--rows", "8", "--out", str(out)])
    with pytest.raises(SystemExit, match="edit-cot match-rows: .*nowhere.jsonl"):
        main(["match-rows", str(tmp_path / "nowhere.jsonl"), "--rows", "1", "--out", str(out)])
    with pytest.raises(SystemExit):  # one of --rows / --like, not both
        main(["match-rows", str(repeat), "--rows", "2", "--like", str(like), "--out", str(out)])


# --- GSM8K: the reference teacher and the question set -------------------------

def test_reference_teacher_writes_the_pipeline_files(shared_data, tmp_path, capsys):
    import json

    from edit_plugin.eval_sets.gsm8k import gsm8k_problems
    from edit_plugin.gsm8k.teacher import reference_teacher_run
    from edit_plugin.text.schema import REQUIRED_FIELDS, SFT_FIELDS, validate_file

    assert main(["generate", "--teacher", "reference", "--questions", "gsm8k", "--limit", "40", "--seed", "2",
                 "--out", str(tmp_path)]) == 0
    assert "GSM8K train problems" in capsys.readouterr().out
    assert validate_file(tmp_path / "dual_cot.jsonl", REQUIRED_FIELDS) > 0
    assert validate_file(tmp_path / "sft.jsonl", SFT_FIELDS) == 40
    dual = [json.loads(line) for line in (tmp_path / "dual_cot.jsonl").read_text().splitlines()]
    sft = [json.loads(line) for line in (tmp_path / "sft.jsonl").read_text().splitlines()]
    summary = json.loads((tmp_path / "summary.json").read_text())
    # The files are the run's, seeded: the same seed gives the same records.
    expected = reference_teacher_run(gsm8k_problems("train")[:40], seed=2)
    assert (dual, sft, summary) == expected
    assert {r["source"] for r in dual} == {"corrupted"} and {r["source"] for r in sft} == {"teacher"}
    assert all(r["id"].startswith("gsm8k-train-") for r in sft)
    assert summary["questions"] == 40 and summary["pairs"]["corrupted"] == len(dual)
    assert len(dual) + sum(summary["skipped"].values()) == 40
    assert sum(e["corrupted"] for e in summary["pairs_per_error_type"].values()) == len(dual)
    assert summary["teacher_accuracy"] == 1.0 and summary["sft"] == {"teacher": 40, "rectified": 0}


def test_reference_teacher_refuses_what_does_not_apply(tmp_path):
    with pytest.raises(SystemExit, match="--questions gsm8k"):
        main(["generate", "--teacher", "reference", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="--samples needs a sampling teacher.*reference"):
        main(["generate", "--teacher", "reference", "--questions", "gsm8k", "--samples", "2"])
    with pytest.raises(SystemExit, match="--tasks does not apply"):
        main(["generate", "--teacher", "reference", "--questions", "gsm8k", "--tasks", "x", "--out", str(tmp_path)])


def test_gsm8k_questions_for_a_teacher_llm_are_the_train_split(shared_data):
    from edit_plugin.eval_sets.gsm8k import gsm8k_docs, gsm8k_problems
    from edit_plugin.gsm8k.solution import parse_solution

    questions, known, extra = teacher_inputs("gsm8k", None, 5)
    assert known == [] and extra["question_set"] == "gsm8k"
    assert [q.id for q in questions] == [f"gsm8k-train-{i}" for i in range(5)]
    assert {(q.kind, q.description, q.exemplars) for q in questions} == {("number", "", ())}
    test_questions = {d["question"] for d in gsm8k_docs("test")}
    assert not {q.question for q in teacher_inputs("gsm8k")[0]} & test_questions
    # The reference solution is a correct CoT by the question's own scorer.
    for q, problem in zip(questions, gsm8k_problems("train")):
        assert q.is_correct(parse_solution(problem["solution"]).cot())
        assert not q.is_correct("Therefore, the answer is 0.5.")
