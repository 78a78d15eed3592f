"""GSM8K: open-ended math, outside the paper's benchmarks and its Average.

Zero-shot CoT, the number after "the answer is" as the answer. The test split
is evaluated (``edit_gsm8k``); the train split is the teacher's, and its
annotated reference solutions feed the reference teacher (`edit_plugin.gsm8k`).
"""

from __future__ import annotations

from collections.abc import Sequence

from edit_plugin.eval_sets import source
from edit_plugin.eval_sets.spec import Benchmark, LmEvalTask, QuestionSet, TaskFolder, of_tasks
from edit_plugin.gsm8k.solution import SolutionFormatError, final_answer

HUB = "openai/gsm8k"
LOCAL = "gsm8k/{train,test}.jsonl"
GSM8K_CONFIG = "main"
GSM8K_SPLITS = ("train", "test")


def gsm8k_problems(split: str = "test") -> list[dict]:
    """GSM8K problems of ``split`` ("test": the evaluated one, or "train"):
    ``id`` (``gsm8k-<split>-<index>``), ``question`` and ``solution`` (the
    reference solution with its calculator annotations, ending ``#### N``)."""
    if split not in GSM8K_SPLITS:
        raise ValueError(f"unknown GSM8K split {split!r}; expected one of {GSM8K_SPLITS}")
    if source.local_dir():
        rows = source.read_jsonl(f"gsm8k/{split}.jsonl")
    else:
        rows = list(source.hub(HUB, GSM8K_CONFIG, split, LOCAL))
    return [{"id": f"gsm8k-{split}-{i}", "question": row["question"], "solution": row["answer"]}
            for i, row in enumerate(rows)]


def gsm8k_docs(split: str = "test") -> list[dict]:
    """Open-ended math: the zero-shot prompt, the number after ``####`` as gold."""
    docs = []
    for problem in gsm8k_problems(split):
        try:
            target = final_answer(problem["solution"])
        except SolutionFormatError as error:
            raise SolutionFormatError(f"GSM8K {problem['id']}: {error}") from None
        docs.append({"id": problem["id"], "task": "gsm8k", "description": "", "question": problem["question"],
                     "target": target, "kind": "number", "option_labels": [], "option_texts": []})
    return docs


def lm_eval_docs(config: str, split: str) -> list[dict]:
    if config != GSM8K_CONFIG:
        raise ValueError(f"unknown GSM8K config {config!r}; expected {GSM8K_CONFIG!r}")
    return gsm8k_docs(split)


def teacher_docs(tasks: Sequence[str] | None = None, allow_eval_overlap: bool = False) -> list[dict]:
    """The train problems (never the test split, which ``edit_gsm8k`` scores)."""
    return of_tasks(gsm8k_docs("train"), tasks, "gsm8k")


def task_folders() -> tuple[TaskFolder, ...]:
    # The train split is for building data and never scored by default.
    return (TaskFolder("gsm8k", (LmEvalTask("edit_gsm8k", GSM8K_CONFIG, "test"),
                                 LmEvalTask("edit_gsm8k_train", GSM8K_CONFIG, "train"))),)


BENCHMARK = Benchmark(
    name="gsm8k", title="GSM8K", hub=f"{HUB} (config {GSM8K_CONFIG})", local=LOCAL, kind="number",
    described=False, suite="math", columns=(("GSM8K", "edit_gsm8k"),), task_folders=task_folders,
    documents=lm_eval_docs, question_sets=(QuestionSet("gsm8k", teacher_docs),),
    questions_help="gsm8k (train split)")
