"""The paper's per-task 4:1 train/test split of BBH.

Per task, the example indices are shuffled with a ``random.Random`` seeded by
the task name, and the first ``n // 5`` (rounded down) of the shuffled order
are the test part; the rest is the train part. 250 examples give 50/200;
causal_judgement (187) 37/150, penguins_in_a_table (146) 29/117, snarks (178)
35/143: 1,301 test and 5,210 train examples over the 27 tasks.

Evaluation (``edit_bbh``) and data construction (``edit_bbh_train``) both use
this one function, so a student is never trained on test questions.
"""

from __future__ import annotations

import random

TEST_DIVISOR = 5  # 4:1


def bbh_split(task: str, n_examples: int) -> tuple[list[int], list[int]]:
    """(train indices, test indices) of a task's examples, each sorted."""
    order = list(range(n_examples))
    random.Random(f"edit-bbh-split/{task}").shuffle(order)
    n_test = n_examples // TEST_DIVISOR
    return sorted(order[n_test:]), sorted(order[:n_test])
