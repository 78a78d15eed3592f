"""Programmatic teacher: rule-based dual CoTs for tasks a program can solve.

One module per task family (see `edit_plugin.synthetic.base` for what a
family defines); each exposes ``generate_pairs`` (dual-CoT records in the
project's JSONL format, with the error step marked) and ``generate_questions``
(held-out questions with gold answers; ``hard=True`` for longer ones).
`edit_plugin.synthetic.teacher` runs a family as a teacher that makes
mistakes and writes the LLM pipeline's files.
"""

from edit_plugin.synthetic import (
    arithmetic,
    boolean_expressions,
    date_arithmetic,
    dyck_languages,
    object_counting,
    tracking_shuffled_objects,
    word_sorting,
)

TASK_FAMILIES = {
    "multistep_arithmetic": arithmetic,
    "boolean_expressions": boolean_expressions,
    "object_counting": object_counting,
    "tracking_shuffled_objects": tracking_shuffled_objects,
    "word_sorting": word_sorting,
    "dyck_languages": dyck_languages,
    "date_arithmetic": date_arithmetic,
}

__all__ = ["TASK_FAMILIES"]
