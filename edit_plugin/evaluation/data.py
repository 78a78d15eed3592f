"""Benchmark documents in one schema, from the Hugging Face Hub or a local copy.

Set ``EDIT_DATA_DIR`` to a directory laid out as
``bbh/<task>.json``, ``bigbench/<task or task__subtask>.json``,
``agieval/<subset>.jsonl``, ``arc/arc_{easy,challenge}_<split>.jsonl``,
``gsm8k/{train,test}.jsonl`` to read it instead of the Hub. A document is::

    {"id", "task", "description", "question", "target", "kind",
     "option_labels", "option_texts"}

``question`` is what follows ``Q:`` in the student prompt (options included,
lettered); ``target`` the gold answer; ``kind`` how answers compare
(`edit_plugin.evaluation.scoring`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from edit_plugin.splits import bbh_split

DATA_DIR_ENV = "EDIT_DATA_DIR"
BBH_HUB = "lukaemon/bbh"
BIGBENCH_HUB = "tasksource/bigbench"
AGIEVAL_HUB = "hails/agieval-{subset}"
ARC_HUB = "allenai/ai2_arc"
GSM8K_HUB = "openai/gsm8k"
GSM8K_CONFIG = "main"
GSM8K_SPLITS = ("train", "test")

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
AGIEVAL_SUBSETS = ("aqua-rat", "logiqa-en", "lsat-ar", "lsat-lr", "lsat-rc", "sat-math",
                   "sat-en", "sat-en-without-passage")
ARC_CONFIGS = {"arc_easy": "ARC-Easy", "arc_challenge": "ARC-Challenge"}
ARC_SPLITS = ("train", "validation", "test")
_OPTION_RE = re.compile(r"^\(([A-Z])\)\s*(.*)$")


class BenchmarkDataUnavailable(RuntimeError):
    pass


def use_data_beside_checkout() -> None:
    """Offline default: when EDIT_DATA_DIR is unset and ../shared/data lies
    beside this checkout, read benchmark data from there."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    if not os.environ.get(DATA_DIR_ENV) and shared.is_dir():
        os.environ[DATA_DIR_ENV] = str(shared)


def local_dir() -> Path | None:
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def _hub(path: str, name: str | None, split: str):
    import datasets

    try:
        return datasets.load_dataset(path, name, split=split)
    except Exception as err:  # offline, missing, renamed: one clear message
        raise BenchmarkDataUnavailable(
            f"cannot load the Hub dataset {path}" + (f" ({name})" if name else "")
            + f": {err.__class__.__name__}: {err}. Set {DATA_DIR_ENV} to a local copy "
            "(bbh/, bigbench/, agieval/, arc/, gsm8k/) to evaluate offline."
        ) from err


def _local(relative: str) -> Path:
    path = local_dir() / relative
    if not path.exists():
        raise BenchmarkDataUnavailable(f"{DATA_DIR_ENV}={local_dir()} has no {relative}")
    return path


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def options_from_text(question: str) -> tuple[list[str], list[str]]:
    labels, texts = [], []
    for line in question.splitlines():
        match = _OPTION_RE.match(line.strip())
        if match:
            labels.append(match.group(1))
            texts.append(match.group(2).strip())
    return labels, texts


def _split_option(option: str, position: int) -> tuple[str, str]:
    """"(B) text", "B) text" or "B text" -> ("B", "text"); else the position's letter."""
    letter = chr(65 + position)
    match = re.match(rf"^\(?{letter}[).:]?\s+(.*)$", option.strip(), re.S) or \
        re.match(rf"^\({letter}\)(.*)$", option.strip(), re.S)
    return letter, (match.group(1).strip() if match else option.strip())


def option_labels(count: int) -> list[str]:
    """A, B, ..., Z, then AA, AB, ... for the rare task with more than 26 options."""
    return [chr(65 + i) if i < 26 else f"A{chr(65 + i - 26)}" for i in range(count)]


def _lettered(labels: list[str], texts: list[str]) -> str:
    return "\n".join(f"({label}) {text}" for label, text in zip(labels, texts))


# --- BBH -------------------------------------------------------------------

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
def bbh_examples(task: str) -> tuple[dict, ...]:
    if task not in BBH_TASKS:
        raise ValueError(f"unknown BBH task {task!r}")
    if local_dir():
        rows = json.loads(_local(f"bbh/{task}.json").read_text())["examples"]
    else:
        rows = list(_hub(BBH_HUB, task, "test"))
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


# --- AGIEval ---------------------------------------------------------------

def _agieval_local(subset: str) -> list[dict]:
    docs = []
    for i, row in enumerate(_read_jsonl(_local(f"agieval/{subset}.jsonl"))):
        labels, texts = zip(*[_split_option(o, k) for k, o in enumerate(row["options"])])
        passage = (row.get("passage") or "").strip()
        question = (passage + "\n" if passage else "") + row["question"].strip()
        docs.append(choice_doc(f"agieval_{subset}-{i}", f"agieval_{subset}", question,
                                list(labels), list(texts), row["label"]))
    return docs


def _agieval_hub(subset: str) -> list[dict]:
    docs = []
    for i, row in enumerate(_hub(AGIEVAL_HUB.format(subset=subset), None, "test")):
        # The Hub's `query` is a full prompt: "Q: <passage+question> Answer Choices: ... A: Among ..."
        query = row["query"]
        query = re.sub(r"^Q:\s*", "", query)
        query = re.split(r"\s*Answer Choices:", query)[0].strip()
        labels, texts = (list(x) for x in zip(*[_split_option(c, k) for k, c in enumerate(row["choices"])]))
        docs.append(choice_doc(f"agieval_{subset}-{i}", f"agieval_{subset}", query, labels, texts,
                                labels[row["gold"][0]]))
    return docs


def agieval_docs(subset: str) -> list[dict]:
    if subset not in AGIEVAL_SUBSETS:
        raise ValueError(f"unknown AGIEval subset {subset!r}")
    return _agieval_local(subset) if local_dir() else _agieval_hub(subset)


def choice_doc(doc_id, task, question, labels, texts, gold_label, description="") -> dict:
    return {"id": doc_id, "task": task, "description": description,
            "question": f"{question}\nAnswer Choices:\n{_lettered(labels, texts)}",
            "target": f"({gold_label})", "kind": "choice",
            "option_labels": labels, "option_texts": texts}


# --- ARC -------------------------------------------------------------------

def arc_docs(name: str, split: str = "test") -> list[dict]:
    """``split``: "test" (the evaluated one), "train" or "validation"."""
    if name not in ARC_CONFIGS:
        raise ValueError(f"unknown ARC set {name!r}")
    if split not in ARC_SPLITS:
        raise ValueError(f"unknown ARC split {split!r}; expected one of {ARC_SPLITS}")
    if local_dir():
        rows = _read_jsonl(_local(f"arc/{name}_{split}.jsonl"))
    else:
        rows = list(_hub(ARC_HUB, ARC_CONFIGS[name], split))
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


# --- GSM8K -----------------------------------------------------------------

def gsm8k_problems(split: str = "test") -> list[dict]:
    """GSM8K problems of ``split`` ("test": the evaluated one, or "train"):
    ``id`` (``gsm8k-<split>-<index>``), ``question`` and ``solution`` (the
    reference solution with its calculator annotations, ending ``#### N``)."""
    if split not in GSM8K_SPLITS:
        raise ValueError(f"unknown GSM8K split {split!r}; expected one of {GSM8K_SPLITS}")
    if local_dir():
        rows = _read_jsonl(_local(f"gsm8k/{split}.jsonl"))
    else:
        rows = list(_hub(GSM8K_HUB, GSM8K_CONFIG, split))
    return [{"id": f"gsm8k-{split}-{i}", "question": row["question"], "solution": row["answer"]}
            for i, row in enumerate(rows)]


def gsm8k_docs(split: str = "test") -> list[dict]:
    """Open-ended math: the zero-shot prompt, the number after ``####`` as gold."""
    from edit_plugin.gsm8k.solution import SolutionFormatError, final_answer

    docs = []
    for problem in gsm8k_problems(split):
        try:
            target = final_answer(problem["solution"])
        except SolutionFormatError as error:
            raise SolutionFormatError(f"GSM8K {problem['id']}: {error}") from None
        docs.append({"id": problem["id"], "task": "gsm8k", "description": "", "question": problem["question"],
                     "target": target, "kind": "number", "option_labels": [], "option_texts": []})
    return docs


# --- BB-sub ----------------------------------------------------------------

def bigbench_fingerprint(example_input: str, options: list[str]) -> str:
    """A short hash of one multiple-choice example: its input and option set."""
    payload = json.dumps({"input": example_input.strip(), "options": sorted(o.strip() for o in options)},
                         ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def bigbench_local_examples(subtask: str) -> tuple[str, list[dict]]:
    """(description, examples with input / options / gold index) of a local file."""
    data = json.loads(_local(f"bigbench/{subtask}.json").read_text())
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
        for row in _hub(BIGBENCH_HUB, task, split):
            options = list(row["multiple_choice_targets"])
            if options:
                scores = list(row["multiple_choice_scores"])
                examples.append({"input": row["inputs"], "options": options, "gold": scores.index(max(scores))})
    return "", examples
