"""Functions the lm-eval task YAMLs call (through each folder's ``utils.py``).

Prompts come from `edit_plugin.prompts` and answers from
`edit_plugin.answers`, exactly as in training.
"""

from __future__ import annotations


from edit_plugin.evaluation import data
from edit_plugin.evaluation.scoring import canonical_prediction, canonical_target
from edit_plugin.prompts import build_prompt

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
    elif benchmark == "gsm8k":
        if name != data.GSM8K_CONFIG:
            raise ValueError(f"unknown GSM8K config {name!r}; expected {data.GSM8K_CONFIG!r}")
        docs = data.gsm8k_docs(part)
    elif benchmark == "bbsub":
        from edit_plugin.evaluation.bbsub import bbsub_docs

        docs = bbsub_docs(name)
    else:
        raise ValueError(f"unknown benchmark {benchmark!r}")
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def doc_to_text(doc: dict) -> str:
    if doc.get("fewshot"):
        # Base models and teachers: the paper's CEP prompt, exemplars first.
        from edit_plugin.teacher.prompts import bbh_exemplars, cep_prompt

        return cep_prompt(doc["description"], doc["question"], bbh_exemplars(doc["task"]))
    return build_prompt(doc["question"], doc["description"] or None)


def doc_to_target(doc: dict) -> str:
    return canonical_target(doc)


def extract_answers(resps, docs):
    """lm-eval ``custom`` filter: each completion → its canonical answer."""
    return [[canonical_prediction(r, doc) for r in rs] for rs, doc in zip(resps, docs)]
