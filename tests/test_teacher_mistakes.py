"""Known incorrect CoTs (D-) read from BIG-Bench Mistake files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edit_plugin.eval_sets import bbh, source
from edit_plugin.teacher import mistakes
from edit_plugin.teacher.mistakes import MistakeDataError, bbh_format_question, read_mistakes
from edit_plugin.text.prompts import ANSWER_PHRASE, COT_OPENING
from edit_plugin.text.splits import bbh_split

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ARITHMETIC = "multistep_arithmetic_two"
N_FAKE = 10  # 10 // 5 = 2 test examples


def fake_arithmetic_examples() -> list[dict]:
    return [{"input": f"(({i} + 1) * 2) =", "target": str((i + 1) * 2)} for i in range(N_FAKE)]


@pytest.fixture
def fake_bbh(tmp_path, monkeypatch):
    """A tiny local BBH with one task, so that matching needs no real data."""
    folder = tmp_path / "data" / "bbh"
    folder.mkdir(parents=True)
    (folder / f"{ARITHMETIC}.json").write_text(json.dumps({"examples": fake_arithmetic_examples()}))
    monkeypatch.setenv(source.DATA_DIR_ENV, str(tmp_path / "data"))
    bbh.bbh_examples.cache_clear()
    yield
    bbh.bbh_examples.cache_clear()


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def trace(input_text="((7 - 3) * 5) =", target="20", answer="25", mistake_index=0) -> dict:
    return {"input": input_text, "target": target, "answer": answer, "mistake_index": mistake_index,
            "steps": ["Let's calculate A = (7 - 3) = 5.", f"Then, (A * 5) = 25. So the answer is {answer}"]}


def test_wrong_trace_is_kept_with_the_span_of_its_marked_step(fake_bbh, tmp_path):
    rows = [trace(), trace(mistake_index=1)]
    found, stats = read_mistakes(write_rows(tmp_path / "multistep_arithmetic.jsonl", rows))

    first, second = found
    assert first.cot == (f"{COT_OPENING}\nLet's calculate A = (7 - 3) = 5.\n"
                         f"Then, (A * 5) = 25. {ANSWER_PHRASE} 25")
    assert first.cot[first.error_char_start:first.error_char_end] == "Let's calculate A = (7 - 3) = 5."
    # The marked last step is the one after the answer-phrase replacement.
    assert second.cot[second.error_char_start:second.error_char_end] == f"Then, (A * 5) = 25. {ANSWER_PHRASE} 25"
    assert second.error_char_end == len(second.cot)

    question = first.question
    assert (question.id, question.task, question.gold, question.kind) == \
        ("bbh_mistake-multistep_arithmetic-0", ARITHMETIC, "20", "number")
    assert question.question == "((7 - 3) * 5) =" and first.bbh_id is None
    assert len(question.exemplars) == 3 and question.description
    assert not question.is_correct(first.cot)
    assert stats["read"] == stats["kept"] == stats["unmatched"] == 2


def test_trace_that_reaches_the_gold_answer_is_skipped(fake_bbh, tmp_path):
    found, stats = read_mistakes(write_rows(tmp_path / "multistep_arithmetic.jsonl",
                                            [trace(answer="20", mistake_index=None)]))
    assert found == [] and stats["answer_correct"] == 1 and stats["kept"] == 0


def test_unmarked_wrong_trace_has_no_span(fake_bbh, tmp_path):
    found, stats = read_mistakes(write_rows(tmp_path / "multistep_arithmetic.jsonl", [trace(mistake_index=None)]))
    assert (found[0].error_char_start, found[0].error_char_end) == (None, None)
    assert stats["kept_without_span"] == 1


def test_bbh_questions_are_matched_and_test_questions_skipped(fake_bbh, tmp_path):
    train, test = bbh_split(ARITHMETIC, N_FAKE)
    examples = fake_arithmetic_examples()
    in_train, in_test = examples[train[0]], examples[test[0]]
    rows = [trace(input_text="  " + in_train["input"].replace(" ", "   "), target=in_train["target"]),
            trace(input_text=in_train["input"], target="999"),  # same doc, other target
            trace(input_text=in_test["input"], target=in_test["target"])]
    path = write_rows(tmp_path / "multistep_arithmetic.jsonl", rows)

    found, stats = read_mistakes(path)
    assert [m.bbh_id for m in found] == [f"{ARITHMETIC}-{train[0]}"] * 2
    assert [m.question.id for m in found] == [f"bbh_mistake-multistep_arithmetic-{i}" for i in (0, 1)]
    assert all(m.question.question == in_train["input"] and m.question.gold == in_train["target"] for m in found)
    counts = stats["matched_train"], stats["matched_test"], stats["in_bbh_test"], stats["target_disagrees"]
    assert counts == (2, 1, 1, 1)

    found, stats = read_mistakes(path, exclude_test=False)
    assert found[-1].bbh_id == f"{ARITHMETIC}-{test[0]}" and stats["in_bbh_test"] == 0 and stats["kept"] == 3


def test_a_folder_is_read_file_by_file(fake_bbh, tmp_path):
    write_rows(tmp_path / "multistep_arithmetic.jsonl", [trace(), trace(answer="20")])
    (tmp_path / "LICENSE").write_text("not a trace file")
    found, stats = read_mistakes(tmp_path)
    assert len(found) == 1 and stats["files"]["multistep_arithmetic"]["read"] == 2
    assert stats["kept_by_task"] == {ARITHMETIC: 1}
    json.dumps(stats)  # serialisable as it is


def test_questions_are_written_as_bbh_writes_them():
    dyck = "Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: [ {"
    assert bbh_format_question("dyck_languages", "[ {") == ("dyck_languages", dyck)
    assert bbh_format_question("dyck_languages", dyck) == ("dyck_languages", dyck)  # no second prefix
    assert bbh_format_question("word_sorting", "pear apple") == \
        ("word_sorting", "Sort the following words alphabetically: List: pear apple")

    tracking = ("Alice, Bob, and Claire each hold a ball. Alice and Bob swap. At the end, Alice has the\n"
                "Options:\n(A) red ball.\n(B) blue ball.\n(C) green ball.")
    task, question = bbh_format_question("tracking_shuffled_objects", tracking)
    assert task == "tracking_shuffled_objects_three_objects"
    assert question.endswith("Options:\n(A) red ball\n(B) blue ball\n(C) green ball")

    logical = ("The following statements each describe a set of three objects arranged in a fixed order. "
               "The statements are logically consistent.\n- On a shelf, there are three books: a red, a blue, "
               "and a green book.\n- The red book is the leftmost.\n"
               "Q: Given the above statements, which of the following is correct?\n"
               "Options:\n(A) The red book is the leftmost.\n(B) The blue book is the leftmost.\n"
               "(C) The green book is the leftmost.")
    assert bbh_format_question("logical_deduction", logical) == ("logical_deduction_three_objects", (
        "The following paragraphs each describe a set of three objects arranged in a fixed order. The statements "
        "are logically consistent within each paragraph. On a shelf, there are three books: a red, a blue, and a "
        "green book. The red book is the leftmost.\nOptions:\n(A) The red book is the leftmost\n"
        "(B) The blue book is the leftmost\n(C) The green book is the leftmost"))


def test_closing_phrase_becomes_the_answer_phrase():
    cot, spans = mistakes.cot_with_step_spans(["So the answer is not yet clear.",
                                               "I have now sorted all the words. The answer is a b"])
    assert cot == (f"{COT_OPENING}\nSo the answer is not yet clear.\n"
                   f"I have now sorted all the words. {ANSWER_PHRASE} a b")  # only the last step changes
    assert [cot[start:end] for start, end in spans] == cot.split("\n")[1:]


@pytest.mark.parametrize("bad_line, field", [
    ('{"input": "1 =", "target": "1", ', "invalid JSON"),
    ({"target": "1", "steps": ["x"], "mistake_index": None}, "'input'"),
    ({"input": "1 =", "target": "", "steps": ["x"], "mistake_index": None}, "'target'"),
    ({"input": "1 =", "target": "1", "steps": "x", "mistake_index": None}, "'steps'"),
    ({"input": "1 =", "target": "1", "steps": ["x"]}, "'mistake_index'"),
    ({"input": "1 =", "target": "1", "steps": ["x"], "mistake_index": 1}, "'mistake_index'"),
    ({"input": "1 =", "target": "1", "steps": ["x"], "mistake_index": "0"}, "'mistake_index'"),
    (["not", "an", "object"], "JSON object"),
])
def test_malformed_rows_name_file_line_and_field(fake_bbh, tmp_path, bad_line, field):
    path = write_rows(tmp_path / "multistep_arithmetic.jsonl",
                      [trace(), bad_line if isinstance(bad_line, str) else json.dumps(bad_line)])
    with pytest.raises(MistakeDataError, match=rf"multistep_arithmetic\.jsonl, line 2: .*{field}"):
        read_mistakes(path)


def test_input_in_the_wrong_form_is_reported(tmp_path):
    four_options = "Who wins?\nOptions:\n(A) a\n(B) b\n(C) c\n(D) d"
    path = write_rows(tmp_path / "tracking_shuffled_objects.jsonl",
                      [trace(input_text=four_options, target="(A)")])
    with pytest.raises(MistakeDataError, match=r"line 1: field 'input' has 4 options"):
        read_mistakes(path)


def test_unknown_file_name_is_refused(tmp_path):
    with pytest.raises(MistakeDataError, match="unknown BIG-Bench Mistake file"):
        read_mistakes(write_rows(tmp_path / "navigate.jsonl", [trace()]))


# --- the real BIG-Bench Mistake data -----------------------------------------

@pytest.fixture
def shared_bbh(monkeypatch):
    if not (SHARED / "bbh-mistake").is_dir():
        pytest.skip("needs ../shared/data")
    monkeypatch.setenv(source.DATA_DIR_ENV, str(SHARED))
    bbh.bbh_examples.cache_clear()
    yield SHARED / "bbh-mistake"
    bbh.bbh_examples.cache_clear()


def raw_steps(folder: Path) -> dict[str, dict]:
    """Rows of every file by the id read_mistakes gives them."""
    rows = {}
    for path in folder.glob("*.jsonl"):
        for line_index, line in enumerate(path.read_text().splitlines()):
            rows[f"bbh_mistake-{path.stem}-{line_index}"] = json.loads(line)
    return rows


def test_big_bench_mistake_folder(shared_bbh):
    found, stats = read_mistakes(shared_bbh)
    print(json.dumps(stats, indent=1))

    # Counts add up, overall and per file.
    for counts in [stats, *stats["files"].values()]:
        assert counts["read"] == counts["matched_train"] + counts["matched_test"] + counts["unmatched"]
        assert counts["read"] == counts["kept"] + counts["answer_correct"] + counts["in_bbh_test"]
        assert counts["in_bbh_test"] == counts["matched_test"]
    for key in mistakes.COUNT_KEYS:
        assert stats[key] == sum(counts[key] for counts in stats["files"].values())
    assert stats["read"] == 2186 and stats["kept"] == len(found) == sum(stats["kept_by_task"].values())
    assert stats["matched_train"] + stats["matched_test"] == 500 and stats["target_disagrees"] == 0
    assert len({m.question.id for m in found}) == len(found)

    # No kept question is a BBH test question; matched ones are BBH's own text.
    docs = {doc["id"]: doc for task in bbh.BBH_TASKS if task in stats["kept_by_task"]
            for doc in bbh.bbh_docs(task, "full")}
    test_ids = {doc["id"] for task in stats["kept_by_task"] for doc in bbh.bbh_docs(task, "test")}
    test_texts = {" ".join(docs[i]["question"].split()) for i in test_ids}
    for m in found:
        assert m.bbh_id not in test_ids and " ".join(m.question.question.split()) not in test_texts
        if m.bbh_id:
            assert m.question.question == docs[m.bbh_id]["question"]
        if m.question.kind == "choice":  # one option per object
            assert len(m.question.option_labels) == {"three": 3, "five": 5, "seven": 7}[m.question.task.split("_")[-2]]

    # Every kept CoT is wrong; every span is the marked step.
    rows = raw_steps(shared_bbh)
    for m in found:
        assert not m.question.is_correct(m.cot)
        steps, marked = rows[m.question.id]["steps"], rows[m.question.id]["mistake_index"]
        assert m.cot.split("\n")[0] == COT_OPENING and len(m.cot.split("\n")) == len(steps) + 1
        if marked is None:
            assert m.error_char_start is None and m.error_char_end is None
            continue
        span = m.cot[m.error_char_start:m.error_char_end]
        if marked < len(steps) - 1:
            assert span == steps[marked]
        else:
            assert m.error_char_end == len(m.cot)
            assert steps[marked] in (span, span.replace(ANSWER_PHRASE, "So the answer is"),
                                     span.replace(ANSWER_PHRASE, "The answer is"))
