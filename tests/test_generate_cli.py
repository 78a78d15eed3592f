"""`edit-cot generate` inputs: question sets, given wrong CoTs, filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from edit_plugin.cli import _pair_filter, _teacher_inputs, build_parser, main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data(monkeypatch):
    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    from edit_plugin.evaluation import data

    monkeypatch.setenv(data.DATA_DIR_ENV, str(SHARED))
    data.bbh_examples.cache_clear()
    yield SHARED
    data.bbh_examples.cache_clear()


def _args(*argv):
    return build_parser().parse_args(["generate", "--teacher", "hf", *argv])


def test_incorrect_alone_processes_only_the_given_cots(shared_data):
    args = _args("--incorrect", str(shared_data / "bbh-mistake"), "--tasks", "word_sorting,dyck_languages",
                 "--limit", "3")
    questions, known, extra = _teacher_inputs(args, args.tasks.split(","))
    assert questions == [] and extra["question_set"] is None
    assert sorted(m.question.task for m in known) == ["dyck_languages"] * 3 + ["word_sorting"] * 3
    assert extra["given_incorrect_file"]["used"] == 6 and extra["given_incorrect_file"]["kept"] > 1000


def test_question_set_and_incorrect_together(shared_data):
    args = _args("--questions", "bbh", "--incorrect", str(shared_data / "bbh-mistake" / "word_sorting.jsonl"),
                 "--tasks", "word_sorting", "--limit", "2")
    questions, known, _ = _teacher_inputs(args, ["word_sorting"])
    assert [q.task for q in questions] == ["word_sorting"] * 2 and len(known) == 2
    assert not {q.id for q in questions} & {m.question.id for m in known}


def test_evaluated_questions_are_refused_on_the_command_line(shared_data, capsys):
    with pytest.raises(SystemExit, match="--allow-eval-overlap"):
        main(["generate", "--teacher", "hf", "--questions", "agieval"])
    with pytest.raises(SystemExit, match="unknown question set"):
        main(["generate", "--teacher", "hf", "--questions", "mmlu"])


def test_pair_filter_from_arguments(chat_tokenizer, student_path):
    plain = _pair_filter(_args("--min-similarity", "0.5"))
    assert plain.active and plain.tokenize is None
    keyed = _pair_filter(_args("--max-key-fraction", "0.2", "--tokenizer", str(student_path)))
    assert keyed.tokenize("Therefore") == chat_tokenizer("Therefore", add_special_tokens=False)["input_ids"]
    assert not _pair_filter(_args()).active
