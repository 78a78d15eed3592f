"""Functions the lm-eval task YAMLs call (through each folder's ``utils.py``).

Documents come from the benchmark modules (`edit_plugin.eval_sets`),
prompts from `edit_plugin.text.prompts` and answers from `edit_plugin.text.scoring`,
exactly as in training.
"""

from __future__ import annotations

from edit_plugin import eval_sets
from edit_plugin.eval_sets.bbh import bbh_exemplars
from edit_plugin.text.prompts import build_prompt
from edit_plugin.text.scoring import canonical_prediction, canonical_target
from edit_plugin.text.teacher_prompts import cep_prompt


def load_docs(benchmark: str, name: str, part: str = "test", **_model_args):
    """``custom_dataset`` loader (the YAML's ``dataset_kwargs``); lm-eval also
    passes the model arguments."""
    import datasets

    docs = eval_sets.benchmark(benchmark).documents(name, part)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def doc_to_text(doc: dict) -> str:
    if doc.get("fewshot"):
        # Base models and teachers: the paper's CEP prompt, exemplars first (BBH only).
        return cep_prompt(doc["description"], doc["question"], bbh_exemplars(doc["task"]))
    return build_prompt(doc["question"], doc["description"] or None)


def doc_to_target(doc: dict) -> str:
    return canonical_target(doc)


def extract_answers(resps, docs):
    """lm-eval ``custom`` filter: each completion → its canonical answer."""
    return [[canonical_prediction(r, doc) for r in rs] for rs, doc in zip(resps, docs)]
