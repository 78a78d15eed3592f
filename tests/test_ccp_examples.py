"""CCP triples from the user's files (the authors' released layout)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edit_plugin.teacher.ccp_examples import CCPExampleError, ccp_triples_by_task, read_ccp_triples
from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.pipeline import DualCoTPipeline
from edit_plugin.text.answers import extract_answer

RELEASED = Path(__file__).resolve().parents[2] / "shared" / "data" / "edit-prompts" / "ccp"

FILE = """Question Description: Add numbers.
Write the most likely wrong response.

Q: 1 + 2 =

Right Response: We add.

One and two make 3. Therefore, the answer is 3.

Wrong Response: We add. One and two make 4. Therefore, the answer is 4.

Q: 2 + 2 =
Right Response: Two and two make 4. Therefore, the answer is 4.
Wrong Response: Two and two make 5. Therefore, the answer is 5.


Q: {QUESTION}
Right Response: {RIGHT}
Wrong Response: {WRONG}"""


def test_triples_keep_multi_paragraph_responses_and_skip_the_query_slot(tmp_path):
    path = tmp_path / "math.txt"
    path.write_text(FILE)
    triples = read_ccp_triples(path)
    assert [t.question for t in triples] == ["1 + 2 =", "2 + 2 ="]
    assert triples[0].right == "We add.\n\nOne and two make 3. Therefore, the answer is 3."
    assert triples[1].wrong == "Two and two make 5. Therefore, the answer is 5."


@pytest.mark.parametrize("text, message", [
    ("Header\n\nQ: 1 + 1 =\nWrong Response: 3\nRight Response: 2", "block 1 needs"),
    ("Header\n\nQ: 1 + 1 =\nRight Response: 2\n", "block 1 needs"),
    ("Header\n\nQ: 1 + 1 =\nRight Response:\nWrong Response: 3", "empty"),
    ("Header only", "no (Q, Right Response, Wrong Response) triple"),
])
def test_bad_files_say_where(tmp_path, text, message):
    path = tmp_path / "math.txt"
    path.write_text(text)
    with pytest.raises(CCPExampleError, match=re.escape(message)) as error:
        read_ccp_triples(path)
    assert str(path) in str(error.value)


def test_the_released_files_give_three_triples_per_task():
    if not RELEASED.is_dir():
        pytest.skip("needs ../shared/data")
    tasks = {p.stem for p in RELEASED.glob("*.txt")}
    by_task = ccp_triples_by_task(RELEASED, tasks | {"not_a_task"})
    assert set(by_task) == tasks and len(tasks) == 27
    for triples in by_task.values():
        assert len(triples) == 3
        for t in triples:
            assert extract_answer(t.right) and extract_answer(t.wrong)
            assert extract_answer(t.right) != extract_answer(t.wrong)


def test_pipeline_uses_the_users_triples_instead_of_sampling(tmp_path):
    from test_teacher_pipeline import QUESTIONS, SCRIPT, ScriptedTeacher

    path = tmp_path / "math.txt"
    path.write_text(FILE)
    teacher = ScriptedTeacher(SCRIPT)
    pipeline = DualCoTPipeline(teacher, Journal(tmp_path / "j.jsonl"),
                               ccp_examples=ccp_triples_by_task(tmp_path, {"math"}))
    pipeline.run(QUESTIONS)
    ccp_prompts = [p for p in teacher.prompts if "Right Response:" in p]
    assert ccp_prompts
    # The two file triples and the query; no rectified pair (Q: 2 + 2 = from the run) is sampled.
    assert all(p.count("Right Response:") == 3 and "One and two make 3." in p for p in ccp_prompts)
    assert all("Therefore, the answer is 5." in p for p in ccp_prompts)
