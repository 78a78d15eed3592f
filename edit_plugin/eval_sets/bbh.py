"""BBH (BIG-Bench Hard): the paper's in-distribution benchmark, 27 tasks.

Questions are split 4:1 per task (`edit_plugin.text.splits.bbh_split`): the test
part is evaluated (``edit_bbh``), the train part is the teacher's. Task
descriptions and the 3-shot CoT exemplars come from the BBH tasks of the
installed lm-eval package; no benchmark text is stored in this repository.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from edit_plugin.eval_sets import source
from edit_plugin.eval_sets.documents import options_from_text
from edit_plugin.eval_sets.spec import Benchmark, LmEvalTask, QuestionSet, TaskFolder, check_known
from edit_plugin.text.prompts import ANSWER_PHRASE
from edit_plugin.text.splits import bbh_split
from edit_plugin.text.teacher_prompts import Exemplar, strip_opening

HUB = "lukaemon/bbh"
LOCAL = "bbh/<task>.json"
# Tasks whose answers are not an option letter.
BBH_KINDS = {
    "boolean_expressions": "bool",
    "causal_judgement": "yesno",
    "dyck_languages": "dyck",
    "formal_fallacies": "validity",
    "multistep_arithmetic_two": "number",
    "navigate": "yesno",
    "object_counting": "number",
    "sports_understanding": "yesno",
    "web_of_lies": "yesno",
    "word_sorting": "words",
}
BBH_TASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa",
    "dyck_languages", "formal_fallacies", "geometric_shapes", "hyperbaton",
    "logical_deduction_five_objects", "logical_deduction_seven_objects",
    "logical_deduction_three_objects", "movie_recommendation", "multistep_arithmetic_two",
    "navigate", "object_counting", "penguins_in_a_table", "reasoning_about_colored_objects",
    "ruin_names", "salient_translation_error_detection", "snarks", "sports_understanding",
    "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects",
    "web_of_lies", "word_sorting",
)
# The part of `edit_bbh_fewshot`: every question, asked with the CEP prompt
# and its exemplars (base models and teachers).
FEWSHOT = "fewshot"


def read_lm_eval_bbh_yaml(variant: str, task: str) -> dict:
    """A task YAML of the BBH tasks shipped inside the installed lm-eval
    (``!function`` tags are read as plain strings)."""
    import lm_eval
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))
    path = Path(lm_eval.__file__).parent / "tasks" / "bbh" / variant / f"{task}.yaml"
    return yaml.load(path.read_text(), Loader=Loader)


@lru_cache(maxsize=None)
def bbh_description(task: str) -> str:
    """The task description lm-eval ships with its BBH tasks (read at run time)."""
    return read_lm_eval_bbh_yaml("cot_zeroshot", task)["description"].strip()


@lru_cache(maxsize=None)
def bbh_exemplars(task: str) -> tuple[Exemplar, ...]:
    """The 3 original BBH CoT exemplars of ``task`` in our answer format."""
    samples = read_lm_eval_bbh_yaml("cot_fewshot", task)["fewshot_config"]["samples"]
    # lm-eval's targets continue after "A: Let's think step by step."; ours start with it.
    return tuple(Exemplar(s["input"].strip(), strip_opening(s["target"].replace("So the answer is", ANSWER_PHRASE)))
                 for s in samples)


@lru_cache(maxsize=None)
def bbh_examples(task: str) -> tuple[dict, ...]:
    if task not in BBH_TASKS:
        raise ValueError(f"unknown BBH task {task!r}")
    if source.local_dir():
        rows = json.loads(source.local_file(f"bbh/{task}.json").read_text())["examples"]
    else:
        rows = list(source.hub(HUB, task, "test", LOCAL))
    return tuple({"input": r["input"], "target": r["target"]} for r in rows)


def bbh_docs(task: str, part: str = "test") -> list[dict]:
    """``part``: "test" / "train" (the 4:1 split) or "full"."""
    examples = bbh_examples(task)
    if part == "full":
        indices = range(len(examples))
    else:
        train, test = bbh_split(task, len(examples))
        indices = {"train": train, "test": test}[part]
    kind = BBH_KINDS.get(task, "choice")
    docs = []
    for i in indices:
        ex = examples[i]
        labels, texts = options_from_text(ex["input"]) if kind == "choice" else ([], [])
        docs.append({"id": f"{task}-{i}", "task": task, "description": bbh_description(task),
                     "question": ex["input"], "target": ex["target"], "kind": kind,
                     "option_labels": labels, "option_texts": texts})
    return docs


def lm_eval_docs(task: str, part: str) -> list[dict]:
    """The documents of a task YAML; the few-shot ones are marked for the CEP prompt."""
    docs = bbh_docs(task, "full" if part == FEWSHOT else part)
    if part == FEWSHOT:
        for doc in docs:
            doc["fewshot"] = True
    return docs


def teacher_docs(tasks: Sequence[str] | None = None, allow_eval_overlap: bool = False) -> list[dict]:
    """The train part of the 4:1 split: never the test part, which is evaluated."""
    check_known(tasks or (), BBH_TASKS, "BBH task")
    return [doc for task in tasks or BBH_TASKS for doc in bbh_docs(task, "train")]


def task_folders() -> tuple[TaskFolder, ...]:
    parts = (("bbh", "edit_bbh", "test"), ("bbh_train", "edit_bbh_train", "train"),
             ("bbh_full", "edit_bbh_full", "full"), ("bbh_fewshot", "edit_bbh_fewshot", FEWSHOT))
    return tuple(TaskFolder(folder, tuple(LmEvalTask(f"{prefix}_{task}", task, part) for task in BBH_TASKS), prefix)
                 for folder, prefix, part in parts)


BENCHMARK = Benchmark(
    name="bbh", title="BBH", hub=HUB, local=LOCAL, kind="choice", described=True, suite="ind",
    columns=(("BBH-test", "edit_bbh"),), task_folders=task_folders, documents=lm_eval_docs,
    question_sets=(QuestionSet("bbh", teacher_docs, bbh_exemplars),),
    questions_help="bbh (train part; the default)")
