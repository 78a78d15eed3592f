"""Functions the lm-eval task YAMLs call (through each folder's ``utils.py``).

Prompts come from `edit_plugin.prompts` and answers from
`edit_plugin.answers`, exactly as in training.
"""

from __future__ import annotations

from functools import lru_cache

from edit_plugin.evaluation import data
from edit_plugin.evaluation.scoring import canonical_prediction, canonical_target
from edit_plugin.prompts import ANSWER_PHRASE, COT_OPENING, build_prompt

FEWSHOT_MARKER = "fewshot"


def load_docs(benchmark: str, name: str, part: str = "test", **_model_args):
    """``custom_dataset`` loader; lm-eval also passes the model arguments."""
    import datasets

    if benchmark == "bbh":
        docs = data.bbh_docs(name, "full" if part == FEWSHOT_MARKER else part)
        if part == FEWSHOT_MARKER:
            for doc in docs:
                doc["fewshot"] = True
    elif benchmark == "agieval":
        docs = data.agieval_docs(name)
    elif benchmark == "arc":
        docs = data.arc_docs(name)
    elif benchmark == "bbsub":
        from edit_plugin.evaluation.bbsub import bbsub_docs

        docs = bbsub_docs(name)
    else:
        raise ValueError(f"unknown benchmark {benchmark!r}")
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


@lru_cache(maxsize=None)
def bbh_exemplars(task: str) -> str:
    """The original BBH 3-shot CoT exemplars, read from the installed lm-eval
    package, ending "Therefore, the answer is" like our CoTs."""
    samples = data.read_lm_eval_bbh_yaml("cot_fewshot", task)["fewshot_config"]["samples"]
    blocks = []
    for sample in samples:
        target = sample["target"].replace("So the answer is", ANSWER_PHRASE)
        blocks.append(f"Q: {sample['input']}\nA: {target}")
    return "\n\n".join(blocks)


def doc_to_text(doc: dict) -> str:
    if doc.get("fewshot"):
        # Base models and teachers: the paper's CEP layout, exemplars first.
        return (f"{doc['description']} Your response should conclude with the format "
                f"\"{ANSWER_PHRASE}\".\n\n{bbh_exemplars(doc['task'])}\n\n"
                f"Q: {doc['question']}\nA: {COT_OPENING}")
    return build_prompt(doc["question"], doc["description"] or None)


def doc_to_target(doc: dict) -> str:
    return canonical_target(doc)


def extract_answers(resps, docs):
    """lm-eval ``custom`` filter: each completion → its canonical answer."""
    return [[canonical_prediction(r, doc) for r in rs] for rs, doc in zip(resps, docs)]
