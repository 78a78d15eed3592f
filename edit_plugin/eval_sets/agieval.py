"""AGIEval: the 8 English multiple-choice subsets, out of distribution,
generative CoT. It has only a test split, which the evaluation scores."""

from __future__ import annotations

import re
from collections.abc import Sequence

from edit_plugin.eval_sets import source
from edit_plugin.eval_sets.documents import choice_doc
from edit_plugin.eval_sets.spec import Benchmark, LmEvalTask, QuestionSet, TaskFolder, check_known

HUB = "hails/agieval-{subset}"
LOCAL = "agieval/<subset>.jsonl"
AGIEVAL_SUBSETS = ("aqua-rat", "logiqa-en", "lsat-ar", "lsat-lr", "lsat-rc", "sat-math",
                   "sat-en", "sat-en-without-passage")


def _split_option(option: str, position: int) -> tuple[str, str]:
    """"(B) text", "B) text" or "B text" -> ("B", "text"); else the position's letter."""
    letter = chr(65 + position)
    match = re.match(rf"^\(?{letter}[).:]?\s+(.*)$", option.strip(), re.S) or \
        re.match(rf"^\({letter}\)(.*)$", option.strip(), re.S)
    return letter, (match.group(1).strip() if match else option.strip())


def _agieval_local(subset: str) -> list[dict]:
    docs = []
    for i, row in enumerate(source.read_jsonl(f"agieval/{subset}.jsonl")):
        labels, texts = zip(*[_split_option(o, k) for k, o in enumerate(row["options"])])
        passage = (row.get("passage") or "").strip()
        question = (passage + "\n" if passage else "") + row["question"].strip()
        docs.append(choice_doc(f"agieval_{subset}-{i}", f"agieval_{subset}", question,
                               list(labels), list(texts), row["label"]))
    return docs


def _agieval_hub(subset: str) -> list[dict]:
    docs = []
    for i, row in enumerate(source.hub(HUB.format(subset=subset), None, "test", LOCAL)):
        # The Hub's `query` is a full prompt: "Q: <passage+question> Answer Choices: ... A: Among ..."
        query = row["query"]
        query = re.sub(r"^Q:\s*", "", query)
        query = query.partition("Answer Choices:")[0].strip()
        labels, texts = (list(x) for x in zip(*[_split_option(c, k) for k, c in enumerate(row["choices"])]))
        docs.append(choice_doc(f"agieval_{subset}-{i}", f"agieval_{subset}", query, labels, texts,
                               labels[row["gold"][0]]))
    return docs


def agieval_docs(subset: str) -> list[dict]:
    if subset not in AGIEVAL_SUBSETS:
        raise ValueError(f"unknown AGIEval subset {subset!r}")
    return _agieval_local(subset) if source.local_dir() else _agieval_hub(subset)


def teacher_docs(subsets: Sequence[str] | None = None, allow_eval_overlap: bool = False) -> list[dict]:
    """Every question is an evaluated one: only with ``allow_eval_overlap``."""
    if not allow_eval_overlap:
        raise ValueError("AGIEval has only a test split and the evaluation scores all of it: training on "
                         "its questions contaminates the AGIEval scores. Pass allow_eval_overlap=True "
                         "(--allow-eval-overlap) to use them anyway.")
    check_known(subsets or (), AGIEVAL_SUBSETS, "AGIEval subset")
    return [doc for subset in subsets or AGIEVAL_SUBSETS for doc in agieval_docs(subset)]


def task_folders() -> tuple[TaskFolder, ...]:
    return (TaskFolder("agieval", tuple(LmEvalTask(f"edit_agieval_{s.replace('-', '_')}", s) for s in AGIEVAL_SUBSETS),
                       "edit_agieval"),)


BENCHMARK = Benchmark(
    name="agieval", title="AGIEval", hub=HUB, local=LOCAL, kind="choice", described=False, suite="ood",
    columns=(("AGIEval", "edit_agieval"),), task_folders=task_folders,
    documents=lambda subset, part: agieval_docs(subset),  # a test split only
    question_sets=(QuestionSet("agieval", teacher_docs),),
    questions_help="agieval (needs --allow-eval-overlap)")
