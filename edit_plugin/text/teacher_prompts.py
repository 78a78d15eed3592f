"""Teacher prompts of the EDIT paper, rendered from template files.

- CEP (CoTs Extraction Prompt): task description + the instruction to end
  with "Therefore, the answer is" + 3 exemplars (``Q:`` / ``A: Let's think
  step by step. ...``) + the question. Tasks without exemplars get the
  zero-shot CoT prompt (no exemplar blocks).
- AHP (Answer Hint Prompt): the same, with ``H: The correct answer is X.``
  between ``Q:`` and ``A:``; the teacher rewrites a wrong CoT toward the gold
  answer.
- CCP (Contrastive CoTs Prompt): an instruction, up to 3 (question, right
  response, wrong response) triples, then the question and its right
  response; the teacher writes the most likely wrong response.

The templates live in ``templates/`` (``cep.txt``, ``ahp.txt``, ``ccp.txt``);
pass ``template_dir`` to use your own files with the same placeholders. A
benchmark supplies its exemplars (BBH: `edit_plugin.eval_sets.bbh.bbh_exemplars`).
The teacher (`edit_plugin.teacher`) and the few-shot evaluation tasks both
render these prompts, so they live below both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edit_plugin.text.answers import extract_answer
from edit_plugin.text.prompts import COT_OPENING

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Exemplar:
    question: str
    cot: str  # "Let's think step by step. ... Therefore, the answer is X."

    @property
    def answer(self) -> str:
        return extract_answer(self.cot) or ""


@dataclass(frozen=True)
class Triple:
    question: str
    right: str
    wrong: str


def _template(name: str, template_dir: Path | None) -> str:
    return ((template_dir or TEMPLATES) / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def short_description(description: str) -> str:
    """The one-line task description of the paper's prompts: the first
    paragraph, without a leading "Task description:"."""
    first = description.strip().split("\n\n")[0].strip()
    return re.sub(r"^task description:\s*", "", first, flags=re.IGNORECASE)


def _fill(template: str, exemplar_blocks: list[str], **values: str) -> str:
    text = template.replace("{exemplars}", "\n\n".join(exemplar_blocks))
    if not exemplar_blocks:  # zero-shot: no empty paragraph where the exemplars were
        text = text.replace("\n\n\n\n", "\n\n")
    for key, value in values.items():
        text = text.replace("{" + key + "}", value.strip())
    return text


def cep_prompt(description: str, question: str, exemplars: list[Exemplar] = (),
               template_dir: Path | None = None) -> str:
    blocks = [f"Q: {e.question}\nA: {e.cot}" for e in exemplars]
    return _fill(_template("cep", template_dir), blocks, description=short_description(description), question=question)


def ahp_prompt(description: str, question: str, gold: str, exemplars: list[Exemplar] = (),
               template_dir: Path | None = None) -> str:
    blocks = [f"Q: {e.question}\nH: The correct answer is {e.answer}.\nA: {e.cot}" for e in exemplars]
    return _fill(_template("ahp", template_dir), blocks, description=short_description(description), question=question, gold=gold)


def ccp_prompt(description: str, question: str, right: str, triples: list[Triple] = (),
               template_dir: Path | None = None) -> str:
    blocks = [f"Q: {t.question}\n\nRight Response: {t.right}\n\nWrong Response: {t.wrong}" for t in triples]
    return _fill(_template("ccp", template_dir), blocks, description=short_description(description), question=question, right=right)


def strip_opening(cot: str) -> str:
    """A teacher's continuation after "A: Let's think step by step." as a full CoT."""
    cot = cot.strip()
    return cot if cot.startswith(COT_OPENING) else f"{COT_OPENING}\n{cot}"
