"""Question sets for the teacher."""

from __future__ import annotations

import pytest


def test_bbh_questions_come_from_the_train_part_only():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("needs ../shared/data")
    import os

    from edit_plugin.evaluation import data
    from edit_plugin.teacher.questions import bbh_questions

    os.environ[data.DATA_DIR_ENV] = str(shared)
    try:
        data.bbh_examples.cache_clear()
        questions = bbh_questions(tasks=["navigate"])
        test_ids = {d["id"] for d in data.bbh_docs("navigate", "test")}
    finally:
        del os.environ[data.DATA_DIR_ENV]
        data.bbh_examples.cache_clear()
    assert len(questions) == 200 and not {q.id for q in questions} & test_ids
    assert len(questions[0].exemplars) == 3
