"""The benchmarks, one module each, and what is derived from their list.

Each module (`bbh`, `bbsub`, `agieval`, `arc`, `gsm8k`) loads its documents
(`edit_plugin.eval_sets.documents`) from the Hub or a local copy (`source`)
and ends with one `Benchmark` entry (`spec`): where its data comes from, its
answer kind, its prompt, its suite, its table columns, its lm-eval task
folders and its teacher question sets. The task YAMLs
(``eval_tasks/make_tasks.py``), `edit-cot eval`'s columns and suites and the
teacher's question sets are derived from `BENCHMARKS` below.

This package imports neither `edit_plugin.evaluation` nor
`edit_plugin.teacher`; both import it (tests/test_layers.py).
"""

from __future__ import annotations

from edit_plugin.eval_sets import agieval, arc, bbh, bbsub, gsm8k
from edit_plugin.eval_sets import spec
from edit_plugin.eval_sets.spec import Benchmark, QuestionSet

# In the order of the paper's table; benchmarks outside it come last.
BENCHMARKS: tuple[Benchmark, ...] = (bbh.BENCHMARK, bbsub.BENCHMARK, agieval.BENCHMARK, arc.BENCHMARK,
                                     gsm8k.BENCHMARK)
# The paper's suites: in distribution and out of it. Its Average is the mean
# of their columns; the "all" suite is both.
PAPER_SUITES = ("ind", "ood")


def benchmark(name: str) -> Benchmark:
    for entry in BENCHMARKS:
        if entry.name == name:
            return entry
    raise ValueError(f"unknown benchmark {name!r}")


def paper_columns() -> tuple[tuple[str, str], ...]:
    """(table column, lm-eval task or group) of the paper's benchmarks: the Average's columns."""
    return tuple(column for entry in BENCHMARKS if entry.suite in PAPER_SUITES for column in entry.columns)


def extra_columns() -> tuple[tuple[str, str], ...]:
    """The columns of the other benchmarks: shown after the Average, never in it."""
    return tuple(column for entry in BENCHMARKS if entry.suite not in PAPER_SUITES for column in entry.columns)


def suites() -> dict[str, list[str]]:
    """`edit-cot eval --suite` -> the lm-eval tasks or groups it scores: the
    paper's suites, "all" (both), then the suites outside the paper."""
    by_suite: dict[str, list[str]] = {}
    for entry in BENCHMARKS:
        by_suite.setdefault(entry.suite, []).extend(name for _, name in entry.columns)
    paper = {suite: by_suite.pop(suite) for suite in PAPER_SUITES}
    return {**paper, "all": [name for names in paper.values() for name in names], **by_suite}


def question_sets() -> dict[str, QuestionSet]:
    """The teacher's named question sets (``edit-cot generate --questions``)."""
    return {qs.name: qs for entry in BENCHMARKS for qs in entry.question_sets}


def lm_eval_documents(name: str) -> list[tuple["Benchmark", "spec.LmEvalTask"]]:
    """The generated lm-eval tasks a task or group name stands for (empty: not ours)."""
    for entry in BENCHMARKS:
        for folder in entry.task_folders():
            if name == folder.group:
                return [(entry, task) for task in folder.tasks]
            for task in folder.tasks:
                if task.name == name:
                    return [(entry, task)]
    return []


def count_items(names: list[str], limit: int | None = None) -> int | None:
    """How many documents scoring ``names`` (tasks or groups) reads, at most
    ``limit`` per task as lm-eval's ``--limit``; None when a name is not
    ours or its data cannot be read here."""
    total = 0
    for name in names:
        tasks = lm_eval_documents(name)
        if not tasks:
            return None
        for entry, task in tasks:
            try:
                n = len(entry.documents(task.dataset, task.part))
            except Exception:  # no local copy and no Hub: unknown, not a failed dry run
                return None
            total += min(n, limit) if limit is not None else n
    return total
