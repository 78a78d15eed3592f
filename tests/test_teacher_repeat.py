"""Repeat sampling's rows and `match_rows`: each question once before any twice."""

from __future__ import annotations

from collections import Counter

import pytest

from edit_plugin.teacher.repeat import match_rows, read_rows

# q1 has 3 rows, q2 one, q3 two.
ROWS = [{"id": qid, "prompt": f"{qid}?", "chosen": f"{qid} cot {k}", "sample": k}
        for qid, k in [("q1", 0), ("q2", 0), ("q1", 1), ("q3", 0), ("q1", 2), ("q3", 1)]]
AVAILABLE = Counter(r["id"] for r in ROWS)


def covers_evenly(chosen: list[dict]) -> bool:
    """No question has a (c+1)-th row while another with more rows has fewer than c+1."""
    counts = Counter(r["id"] for r in chosen)
    short = [counts[q] for q in AVAILABLE if counts[q] < AVAILABLE[q]]
    return not short or max(counts.values(), default=0) <= min(short) + 1


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("n", range(len(ROWS) + 1))
def test_each_question_once_before_any_twice(n, seed):
    chosen = match_rows(ROWS, n, seed)
    assert len(chosen) == n and covers_evenly(chosen)
    assert len({r["chosen"] for r in chosen}) == n  # no row twice
    assert chosen == sorted(chosen, key=ROWS.index)  # input order kept
    if n >= 3:
        assert {r["id"] for r in chosen} == {"q1", "q2", "q3"}


def test_seeded_and_varied():
    assert match_rows(ROWS, 4, seed=3) == match_rows(ROWS, 4, seed=3)
    assert len({tuple(r["chosen"] for r in match_rows(ROWS, 4, seed)) for seed in range(20)}) > 1
    assert match_rows(ROWS, len(ROWS), seed=5) == ROWS


def test_bad_requests_are_clear_errors():
    with pytest.raises(ValueError, match="asked for 7 rows but there are only 6"):
        match_rows(ROWS, 7, 0)
    with pytest.raises(ValueError, match=">= 0"):
        match_rows(ROWS, -1, 0)
    with pytest.raises(ValueError, match="row 2 has no 'id'"):
        match_rows([ROWS[0], {"prompt": "p", "chosen": "c"}], 1, 0)


def test_read_rows_names_the_bad_line(tmp_path):
    path = tmp_path / "repeat.jsonl"
    path.write_text('{"id": "q1", "prompt": "p", "chosen": "c", "source": "teacher"}\n{"id": "q2", "prompt": "p"}\n')
    with pytest.raises(ValueError, match=r"repeat.jsonl, line 2: field 'chosen' is missing"):
        read_rows(path)
