"""Programmatic teacher: rule-based dual CoTs for tasks a program can solve.

One module per task family; each exposes ``generate_pairs`` (dual-CoT records
in the project's JSONL format) and ``generate_questions`` (held-out questions
with gold answers).
"""

from edit_plugin.synthetic import arithmetic

TASK_FAMILIES = {"multistep_arithmetic": arithmetic}

__all__ = ["TASK_FAMILIES", "arithmetic"]
