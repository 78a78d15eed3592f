"""Question sets for the teacher: a question, its gold answer and how answers
compare (the evaluation's scorer), plus the task's exemplars if it has any."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edit_plugin.evaluation.scoring import canonical_prediction, canonical_target
from edit_plugin.teacher.prompts import Exemplar


@dataclass
class TeacherQuestion:
    id: str
    task: str
    description: str
    question: str
    gold: str
    kind: str = "choice"
    option_labels: list[str] = field(default_factory=list)
    option_texts: list[str] = field(default_factory=list)
    exemplars: tuple[Exemplar, ...] = ()

    def doc(self) -> dict:
        return {"target": self.gold, "kind": self.kind, "option_labels": self.option_labels,
                "option_texts": self.option_texts}

    def is_correct(self, cot: str) -> bool:
        predicted = canonical_prediction(cot, self.doc())
        return bool(predicted) and predicted == canonical_target(self.doc())


def bbh_questions(part: str = "train", tasks: Sequence[str] | None = None) -> list[TeacherQuestion]:
    """BBH questions of the 4:1 split (the train part by default: never the test part)."""
    from edit_plugin.evaluation.data import BBH_TASKS, bbh_docs
    from edit_plugin.teacher.prompts import bbh_exemplars

    out = []
    for task in tasks or BBH_TASKS:
        exemplars = bbh_exemplars(task)
        for doc in bbh_docs(task, part):
            out.append(TeacherQuestion(doc["id"], task, doc["description"], doc["question"], doc["target"],
                                       doc["kind"], doc["option_labels"], doc["option_texts"], exemplars))
    return out
