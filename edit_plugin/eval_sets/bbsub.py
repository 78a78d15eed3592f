"""BB-sub: the out-of-distribution BIG-bench subset of the EDIT paper.

The 61 BIG-bench (sub)tasks whose keywords include "multiple choice" and a
keyword containing "reasoning", without the 23 tasks BBH was built from; at
most 100 examples each. The sample is pinned by a committed manifest of
example fingerprints (a hash of the normalised input and option set), built
once by ``eval_tasks/bbsub/make_manifest.py`` from the first 500
multiple-choice examples of each subtask, so the local copy and the Hub's
``tasksource/bigbench`` (which re-splits the tasks) select the same documents.
Options are shown in sorted order, lettered (A), (B), ...: the same on both
sources. The examples the manifest does not pin are the teacher's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from edit_plugin.eval_sets import source
from edit_plugin.eval_sets.documents import choice_doc, option_labels
from edit_plugin.eval_sets.spec import Benchmark, LmEvalTask, QuestionSet, TaskFolder, check_known

HUB = "tasksource/bigbench"
LOCAL = "bigbench/<task or task__subtask>.json"
MANIFEST = Path(__file__).resolve().parents[1] / "eval_tasks" / "bbsub" / "manifest.json"
PER_SUBTASK = 100


# --- the data sources -------------------------------------------------------

def bigbench_fingerprint(example_input: str, options: list[str]) -> str:
    """A short hash of one multiple-choice example: its input and option set."""
    payload = json.dumps({"input": example_input.strip(), "options": sorted(o.strip() for o in options)},
                         ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def bigbench_local_examples(subtask: str) -> tuple[str, list[dict]]:
    """(description, examples with input / options / gold index) of a local file."""
    data = json.loads(source.local_file(f"bigbench/{subtask}.json").read_text())
    examples = []
    for ex in data["examples"]:
        options = list(ex["target_scores"])
        scores = [ex["target_scores"][o] for o in options]
        examples.append({"input": ex["input"], "options": options, "gold": scores.index(max(scores))})
    return data.get("description", ""), examples


def bigbench_hub_examples(subtask: str) -> tuple[str, list[dict]]:
    """The same from tasksource/bigbench: every multiple-choice row of the
    parent task, all splits (it re-splits the tasks and has no subtask
    column); the manifest's fingerprints pick the subtask's examples."""
    task = subtask.partition("__")[0]
    examples = []
    for split in ("train", "validation"):
        for row in source.hub(HUB, task, split, LOCAL):
            options = list(row["multiple_choice_targets"])
            if options:
                scores = list(row["multiple_choice_scores"])
                examples.append({"input": row["inputs"], "options": options, "gold": scores.index(max(scores))})
    return "", examples


def source_examples(subtask: str) -> list[dict]:
    """The multiple-choice examples (input / options / gold index) the data
    source has for ``subtask``: the local copy, else the Hub."""
    if source.local_dir():
        return bigbench_local_examples(subtask)[1]
    return bigbench_hub_examples(subtask)[1]


# --- the pinned sample ------------------------------------------------------

def normalise_input(text: str) -> str:
    """``text`` without a leading "Q:" and a trailing "A:", its whitespace
    runs one space each. String methods, not ``\\s*A:\\s*$``: that pattern
    rescans a whitespace run from each of its positions (quadratic)."""
    text = re.sub(r"^\s*Q:\s*", "", text)
    trimmed = text.rstrip()
    if trimmed.endswith("A:"):
        text = trimmed[:-2]
    return re.sub(r"\s+", " ", text).strip()


def fingerprint(example_input: str, options: list[str]) -> str:
    return bigbench_fingerprint(normalise_input(example_input), [o.strip() for o in options])


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def subtasks() -> list[str]:
    return sorted(manifest()["subtasks"])


def manifest_entry(subtask: str) -> dict:
    entry = manifest()["subtasks"].get(subtask)
    if entry is None:
        raise ValueError(f"{subtask!r} is not a BB-sub subtask")
    return entry


def example_doc(subtask: str, doc_id: str, example: dict) -> dict:
    """One example as a document: options sorted and lettered, the
    manifest's task description."""
    gold_text = example["options"][example["gold"]].strip()
    texts = sorted(o.strip() for o in example["options"])
    labels = option_labels(len(texts))
    return choice_doc(doc_id, f"bbsub_{subtask}", normalise_input(example["input"]), labels, texts,
                      labels[texts.index(gold_text)], description=manifest_entry(subtask)["description"])


def bbsub_docs(subtask: str) -> list[dict]:
    entry = manifest_entry(subtask)
    by_print = {}
    for ex in source_examples(subtask):
        by_print.setdefault(fingerprint(ex["input"], ex["options"]), ex)
    missing = [fp for fp in entry["fingerprints"] if fp not in by_print]
    if missing:
        raise source.BenchmarkDataUnavailable(
            f"BB-sub {subtask}: {len(missing)} of {len(entry['fingerprints'])} pinned examples are "
            "not in the data source; it is not the BIG-bench version the manifest was built from")
    return [example_doc(subtask, f"bbsub_{subtask}-{k}", by_print[fp])
            for k, fp in enumerate(entry["fingerprints"])]


# --- the teacher's examples -------------------------------------------------

def unpinned_examples(subtask: str) -> list[dict]:
    if "__" in subtask and not source.local_dir():
        # tasksource/bigbench has no subtask column: the parent task's rows
        # mix its subtasks, so this subtask's own examples cannot be told apart.
        raise source.BenchmarkDataUnavailable(
            f"BB-sub {subtask}: the Hub copy ({HUB}) does not tell a task's subtasks apart; "
            f"set {source.DATA_DIR_ENV} to a local copy with bigbench/{subtask}.json")
    # Any pinned example of any subtask is out, and so is an example that only
    # differs from a pinned one of this subtask by its options.
    pinned = {fp for entry in manifest()["subtasks"].values() for fp in entry["fingerprints"]}
    examples = source_examples(subtask)
    prints = [fingerprint(ex["input"], ex["options"]) for ex in examples]
    pinned_inputs = {normalise_input(ex["input"]) for ex, fp in zip(examples, prints) if fp in pinned}
    kept, seen = [], set()
    for ex, fp in zip(examples, prints):
        if fp in pinned or fp in seen or normalise_input(ex["input"]) in pinned_inputs:
            continue
        seen.add(fp)
        kept.append(ex)
    return kept


def teacher_docs(names: Sequence[str] | None = None, allow_eval_overlap: bool = False) -> list[dict]:
    """The multiple-choice examples of each subtask that the manifest does
    not pin for evaluation, formatted like the evaluation's documents (ids
    ``bbsub_<subtask>-train-<k>``)."""
    check_known(names or (), subtasks(), "BB-sub subtask")
    return [example_doc(subtask, f"bbsub_{subtask}-train-{k}", ex)
            for subtask in names or subtasks() for k, ex in enumerate(unpinned_examples(subtask))]


def task_folders() -> tuple[TaskFolder, ...]:
    return (TaskFolder("bbsub", tuple(LmEvalTask(f"edit_bbsub_{s}", s) for s in subtasks()), "edit_bbsub"),)


BENCHMARK = Benchmark(
    name="bbsub", title="BB-sub", hub=HUB, local=LOCAL, kind="choice", described=True, suite="ood",
    columns=(("BB-sub", "edit_bbsub"),), task_folders=task_folders,
    documents=lambda subtask, part: bbsub_docs(subtask),  # one sample per subtask, no parts
    question_sets=(QuestionSet("bbsub", teacher_docs),),
    questions_help="bbsub (examples not evaluated)")
