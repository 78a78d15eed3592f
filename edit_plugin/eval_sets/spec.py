"""What a benchmark module declares: one `Benchmark` entry, from which the
lm-eval task YAMLs, `edit-cot eval`'s columns and suites, and the teacher's
question sets are derived."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LmEvalTask:
    """One generated task YAML: its lm-eval name and the arguments its
    documents are loaded with (`Benchmark.documents`)."""

    name: str
    dataset: str
    part: str = "test"


@dataclass(frozen=True)
class TaskFolder:
    """A folder of task YAMLs under ``eval_tasks/`` (one template for all),
    and the lm-eval group that micro-averages its tasks, if any."""

    folder: str
    tasks: tuple[LmEvalTask, ...]
    group: str | None = None


def no_exemplars(task: str) -> tuple:
    return ()


@dataclass(frozen=True)
class QuestionSet:
    """A teacher question set (``edit-cot generate --questions NAME``):
    ``docs(tasks, allow_eval_overlap)`` gives its documents, which are never
    evaluated ones unless allowed; ``exemplars(task)`` the CEP exemplars."""

    name: str
    docs: Callable[[Sequence[str] | None, bool], list[dict]]
    exemplars: Callable[[str], tuple] = no_exemplars


@dataclass(frozen=True)
class Benchmark:
    name: str         # the `benchmark` of its task YAMLs' dataset_kwargs
    title: str        # how `edit-cot eval --help` names it
    hub: str          # the Hub dataset(s) it reads
    local: str        # the same files under EDIT_DATA_DIR
    kind: str         # the answer kind of its documents (`edit_plugin.text.scoring`; BBH: of most tasks)
    described: bool   # its prompt carries a task description (`edit_plugin.text.prompts.build_prompt`)
    suite: str        # its `edit-cot eval --suite`: "ind" or "ood" (the paper's), or one outside the paper's Avg
    columns: tuple[tuple[str, str], ...]  # (table column, the lm-eval task or group it shows)
    task_folders: Callable[[], tuple[TaskFolder, ...]]
    documents: Callable[[str, str], list[dict]]  # (dataset, part) of an LmEvalTask -> its documents
    question_sets: tuple[QuestionSet, ...] = ()
    questions_help: str = ""  # its line in `edit-cot generate --questions` help


def check_known(names: Sequence[str], known: Sequence[str], what: str) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; expected some of: {', '.join(known)}")


def of_tasks(items: list, tasks: Sequence[str] | None, name: str, task_of=lambda doc: doc["task"]) -> list:
    """Filter on the items' own task names (sets without named subsets)."""
    if not tasks:
        return items
    check_known(tasks, sorted({task_of(item) for item in items}), f"task of {name}")
    return [item for item in items if task_of(item) in tasks]
