"""BB-sub: the out-of-distribution BIG-bench subset of the EDIT paper.

The 61 BIG-bench (sub)tasks whose keywords include "multiple choice" and a
keyword containing "reasoning", without the 23 tasks BBH was built from; at
most 100 examples each. The sample is pinned by a committed manifest of
example fingerprints (a hash of the normalised input and option set), built
once by ``eval_tasks/bbsub/make_manifest.py`` from the first 500
multiple-choice examples of each subtask, so the local copy and the Hub's
``tasksource/bigbench`` (which re-splits the tasks) select the same documents.
Options are shown in sorted order, lettered (A), (B), ...: the same on both
sources.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from edit_plugin.evaluation import data

MANIFEST = Path(__file__).resolve().parents[1] / "eval_tasks" / "bbsub" / "manifest.json"
PER_SUBTASK = 100


def normalise_input(text: str) -> str:
    text = re.sub(r"^\s*Q:\s*", "", text)
    text = re.sub(r"\s*A:\s*$", "", text)
    return re.sub(r"\s+", " ", text).strip()


def fingerprint(example_input: str, options: list[str]) -> str:
    return data.bigbench_fingerprint(normalise_input(example_input), [o.strip() for o in options])


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


def source_examples(subtask: str) -> list[dict]:
    """The multiple-choice examples (input / options / gold index) the data
    source has for ``subtask``: the local copy, else the Hub."""
    if data.local_dir():
        return data.bigbench_local_examples(subtask)[1]
    return data.bigbench_hub_examples(subtask)[1]


def example_doc(subtask: str, doc_id: str, example: dict) -> dict:
    """One example as a document: options sorted and lettered, the
    manifest's task description."""
    gold_text = example["options"][example["gold"]].strip()
    texts = sorted(o.strip() for o in example["options"])
    labels = data.option_labels(len(texts))
    return data.choice_doc(doc_id, f"bbsub_{subtask}", normalise_input(example["input"]), labels, texts,
                           labels[texts.index(gold_text)], description=manifest_entry(subtask)["description"])


def bbsub_docs(subtask: str) -> list[dict]:
    entry = manifest_entry(subtask)
    by_print = {}
    for ex in source_examples(subtask):
        by_print.setdefault(fingerprint(ex["input"], ex["options"]), ex)
    missing = [fp for fp in entry["fingerprints"] if fp not in by_print]
    if missing:
        raise data.BenchmarkDataUnavailable(
            f"BB-sub {subtask}: {len(missing)} of {len(entry['fingerprints'])} pinned examples are "
            "not in the data source; it is not the BIG-bench version the manifest was built from")
    return [example_doc(subtask, f"bbsub_{subtask}-{k}", by_print[fp])
            for k, fp in enumerate(entry["fingerprints"])]
