"""Benchmark documents in one schema::

    {"id", "task", "description", "question", "target", "kind",
     "option_labels", "option_texts"}

``question`` is what follows ``Q:`` in the student prompt (options included,
lettered); ``target`` the gold answer; ``kind`` how answers compare
(`edit_plugin.text.scoring`); ``description`` the task description of the
prompt, or "" (`edit_plugin.text.prompts.build_prompt`).
"""

from __future__ import annotations

import re

_OPTION_RE = re.compile(r"^\(([A-Z])\)\s*(.*)$")


def options_from_text(question: str) -> tuple[list[str], list[str]]:
    labels, texts = [], []
    for line in question.splitlines():
        match = _OPTION_RE.match(line.strip())
        if match:
            labels.append(match.group(1))
            texts.append(match.group(2).strip())
    return labels, texts


def option_labels(count: int) -> list[str]:
    """A, B, ..., Z, then AA, AB, ... for the rare task with more than 26 options."""
    return [chr(65 + i) if i < 26 else f"A{chr(65 + i - 26)}" for i in range(count)]


def _lettered(labels: list[str], texts: list[str]) -> str:
    return "\n".join(f"({label}) {text}" for label, text in zip(labels, texts))


def choice_doc(doc_id, task, question, labels, texts, gold_label, description="") -> dict:
    return {"id": doc_id, "task": task, "description": description,
            "question": f"{question}\nAnswer Choices:\n{_lettered(labels, texts)}",
            "target": f"({gold_label})", "kind": "choice",
            "option_labels": labels, "option_texts": texts}
