"""ARC (AI2 Reasoning Challenge), Easy and Challenge: out of distribution,
generative CoT with lettered options. The test splits are evaluated, the
train splits are the teacher's."""

from __future__ import annotations

from collections.abc import Sequence

from edit_plugin.eval_sets import source
from edit_plugin.eval_sets.documents import choice_doc
from edit_plugin.eval_sets.spec import Benchmark, LmEvalTask, QuestionSet, TaskFolder, of_tasks

HUB = "allenai/ai2_arc"
LOCAL = "arc/arc_{easy,challenge}_<split>.jsonl"
ARC_CONFIGS = {"arc_easy": "ARC-Easy", "arc_challenge": "ARC-Challenge"}
ARC_SPLITS = ("train", "validation", "test")


def arc_docs(name: str, split: str = "test") -> list[dict]:
    """``split``: "test" (the evaluated one), "train" or "validation"."""
    if name not in ARC_CONFIGS:
        raise ValueError(f"unknown ARC set {name!r}")
    if split not in ARC_SPLITS:
        raise ValueError(f"unknown ARC split {split!r}; expected one of {ARC_SPLITS}")
    if source.local_dir():
        rows = source.read_jsonl(f"arc/{name}_{split}.jsonl")
    else:
        rows = list(source.hub(HUB, ARC_CONFIGS[name], split, LOCAL))
    docs = []
    for row in rows:
        labels = list(row["choices"]["label"])
        # Some ARC questions number their options 1-4: letter them like the rest.
        if all(label.isdigit() for label in labels):
            gold = "ABCDE"[labels.index(row["answerKey"])]
            labels = list("ABCDE"[: len(labels)])
        else:
            gold = row["answerKey"]
        docs.append(choice_doc(row["id"], name, row["question"], labels, list(row["choices"]["text"]), gold))
    return docs


def teacher_docs(name: str, split: str = "train", allow_eval_overlap: bool = False) -> list[dict]:
    """ARC questions of ``split``; the test split is the evaluated one."""
    if split == "test" and not allow_eval_overlap:
        raise ValueError(f"{name} test questions are the evaluation's {name} documents; training on them "
                         "contaminates its scores. Use the train split, or pass allow_eval_overlap=True "
                         "(--allow-eval-overlap).")
    return arc_docs(name, split)


def _train_set(name: str) -> QuestionSet:
    def docs(tasks: Sequence[str] | None, allow_eval_overlap: bool) -> list[dict]:
        return of_tasks(teacher_docs(name, "train", allow_eval_overlap), tasks, name)

    return QuestionSet(name, docs)


def task_folders() -> tuple[TaskFolder, ...]:
    return (TaskFolder("arc", tuple(LmEvalTask(f"edit_{name}", name) for name in ARC_CONFIGS)),)


BENCHMARK = Benchmark(
    name="arc", title="ARC", hub=HUB, local=LOCAL, kind="choice", described=False, suite="ood",
    columns=(("ARC-E", "edit_arc_easy"), ("ARC-C", "edit_arc_challenge")), task_folders=task_folders,
    documents=arc_docs, question_sets=tuple(_train_set(name) for name in ARC_CONFIGS),
    questions_help="arc_easy / arc_challenge (train split)")
