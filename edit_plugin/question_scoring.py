"""How a held-out question row is scored: by `edit_plugin.text.scoring.verdict`,
the rule of the benchmarks and the teacher, under the row's answer kind.

A row has ``prompt`` and ``answer`` (the gold), and may have ``task`` and
``kind``. Its kind is, in order:

1. the row's ``kind`` (one of `edit_plugin.text.scoring.KINDS`);
2. the ``ANSWER_KIND`` of the programmatic family named by ``task``
   (every generated question names its family);
3. what the gold answer shows on its face (`edit_plugin.text.scoring.inferred_kind`:
   options in the prompt, a number, True/False, Yes/No, valid/invalid).

A row none of these decides is refused (`QuestionKindError`): guessing
would score word lists or Dyck sequences by some other rule. The options of
a multiple-choice question are read from its prompt's ``(A) text`` lines.
"""

from __future__ import annotations

from edit_plugin.eval_sets.documents import options_from_text
from edit_plugin.synthetic import TASK_FAMILIES
from edit_plugin.text.scoring import KINDS, canonical_target, inferred_kind, verdict


class QuestionKindError(ValueError):
    """A question row whose answer kind is unknown or does not fit its gold."""


def answer_kind(row: dict) -> str:
    """The answer kind ``row`` is scored under (see the module's rule)."""
    kind = row.get("kind")
    if kind is None and row.get("task") in TASK_FAMILIES:
        kind = TASK_FAMILIES[row["task"]].ANSWER_KIND
    if kind is None:
        labels, _ = options_from_text(row.get("prompt", ""))
        kind = inferred_kind(str(row["answer"]), has_options=len(labels) >= 2)
    if kind is None:
        raise QuestionKindError(f"cannot infer the answer kind of {row['answer']!r}; "
                                f"give the row a field 'kind', one of {', '.join(KINDS)}")
    if kind not in KINDS:
        raise QuestionKindError(f"field 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def scoring_doc(row: dict) -> dict:
    """The `edit_plugin.text.scoring` document of a question row; refused when
    its gold answer is not an answer of its kind."""
    kind = answer_kind(row)
    labels, texts = options_from_text(row.get("prompt", "")) if kind == "choice" else ([], [])
    doc = {"target": str(row["answer"]), "kind": kind, "option_labels": labels, "option_texts": texts}
    if not canonical_target(doc):
        raise QuestionKindError(f"the gold answer {row['answer']!r} is not a {kind!r} answer")
    return doc


def question_verdict(completion: str, row: dict) -> str:
    """correct, wrong, hedged or unreadable (`edit_plugin.text.scoring.verdict`)."""
    return verdict(completion, scoring_doc(row))


def is_right(completion: str, row: dict) -> bool:
    """The completion states the row's gold answer, and nothing else."""
    return question_verdict(completion, row) == "correct"
