"""Re-scoring stored completions under the one answer rule, and the list of
table cells that changed."""

from __future__ import annotations

import json

import pytest

from edit_plugin.experiment.rescore import changed_cells, rescore_file, rescore_rows
from edit_plugin.files.markdown import table_cells

QUESTIONS = {"q1": {"id": "q1", "task": "object_counting", "prompt": "", "answer": "18"},
             "q2": {"id": "q2", "task": "boolean_expressions", "prompt": "", "answer": "False"}}
ROWS = [{"question_id": "q1", "task": "object_counting", "correct": False, "answered": True,
         "completion": "Therefore, the answer is 18 (10 + 8)."},
        {"question_id": "q2", "task": "boolean_expressions", "correct": True, "answered": True,
         "completion": "So the answer is False."}]


def test_rows_get_the_verdict_of_the_one_rule_and_keep_everything_else():
    new = rescore_rows(ROWS, QUESTIONS)
    assert [row["correct"] for row in new] == [True, True]
    assert [list(row) for row in new] == [list(row) for row in ROWS]
    assert all(new[i][k] == ROWS[i][k] for i in range(2) for k in ROWS[i] if k != "correct")
    with pytest.raises(ValueError, match="1 outcomes have no question, e.g. 'q9'"):
        rescore_rows([{**ROWS[0], "question_id": "q9"}], QUESTIONS)


def test_a_file_is_rewritten_only_when_a_verdict_changes(tmp_path):
    path = tmp_path / "ind.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS[1:]))
    before = path.stat().st_mtime_ns
    assert rescore_file(path, QUESTIONS).changed == 0 and path.stat().st_mtime_ns == before
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    done = rescore_file(path, QUESTIONS)
    assert (done.rows, done.changed, done.correct_before, done.correct_after) == (2, 1, 1, 2)
    assert [json.loads(line)["correct"] for line in path.read_text().splitlines()] == [True, True]


TABLE = """### Accuracy (%)

| condition | seeds | ind | Avg |
|---|---|---|---|
| std_cot | 3 | 47.8 | 40.1 |
| edit | 3 | 53.0 | 43.1 |

## Versus edit

### Accuracy (%)

| condition | seeds | ind | Avg |
|---|---|---|---|
| std_cot | 3 | 47.8 | 40.1 |
"""


def test_table_cells_are_keyed_by_section_row_and_column():
    cells = table_cells(TABLE, top="Versus std_cot")
    assert cells[("Versus std_cot / Accuracy (%)", "edit", "ind")] == "53.0"
    assert cells[("Versus edit / Accuracy (%)", "std_cot", "Avg")] == "40.1"
    assert len(cells) == 9


def test_changed_cells_name_where_and_what():
    new = TABLE.replace("| edit | 3 | 53.0 |", "| edit | 3 | 54.5 |")
    assert changed_cells(TABLE, new, top="Versus std_cot") == [
        "Versus std_cot / Accuracy (%) | edit | ind: 53.0 → 54.5"]
    assert changed_cells(TABLE, TABLE) == []
