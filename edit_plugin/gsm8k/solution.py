"""GSM8K reference solutions: calculator annotations and the plain CoT.

A solution is lines of prose with calculator annotations, then the answer::

    Natalia sold 48/2 = <<48/2=24>>24 clips in May.
    Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.
    #### 72

Each annotation ``<<expression=result>>`` is followed by the result as the
text states it. The annotated form is kept so that calculations can be
checked and recomputed; the student sees the plain form (annotations
stripped), opened and closed like every CoT of this project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from edit_plugin.gsm8k.arithmetic import NUMBER_RE, ExpressionError, evaluate, value_of
from edit_plugin.text.prompts import COT_OPENING, format_answer_sentence

ANNOTATION_RE = re.compile(r"<<([^<>=]*)=([^<>=]*)>>")
ANSWER_MARK = "#### "


class SolutionFormatError(ValueError):
    """A text is not a GSM8K solution (no ``#### answer`` line, a broken annotation)."""


@dataclass(frozen=True)
class Annotation:
    start: int        # span of "<<expression=result>>" in the annotated body
    end: int
    expression: str
    result: str       # as annotated: "24", ".5"

    @property
    def value(self) -> Fraction:
        return value_of(self.result)

    @property
    def result_start(self) -> int:
        """Where ``result`` lies in the body: just before the closing ">>"."""
        return self.end - 2 - len(self.result)

    def is_right(self) -> bool:
        try:
            return evaluate(self.expression) == self.value
        except ExpressionError:
            return False


@dataclass(frozen=True)
class Solution:
    body: str         # the annotated lines, without the answer line
    answer: str       # the text after "#### ", e.g. "72" or "1,200"

    @property
    def annotations(self) -> list[Annotation]:
        return annotations_of(self.body)

    def plain_body(self) -> str:
        return strip_annotations(self.body)

    def cot(self) -> str:
        """The student's CoT: the opening, the plain lines, the answer sentence."""
        return render_cot(self.plain_body(), self.answer)


def parse_solution(text: str) -> Solution:
    """Split a GSM8K ``answer`` field into its annotated body and final answer."""
    body, mark, answer = text.rstrip().rpartition("\n" + ANSWER_MARK)
    if not mark or not answer.strip():
        raise SolutionFormatError(f"no final '{ANSWER_MARK.strip()} answer' line in {text[-80:]!r}")
    if body.count("<<") != len(ANNOTATION_RE.findall(body)) or body.count(">>") != body.count("<<"):
        raise SolutionFormatError(f"a calculator annotation is malformed in {body[:80]!r}...")
    if not re.fullmatch(rf"-?(?:{NUMBER_RE.pattern})", answer.strip()):
        raise SolutionFormatError(f"the final answer {answer.strip()!r} is not a number")
    return Solution(body, answer.strip())


def final_answer(text: str) -> str:
    """The gold answer of a GSM8K ``answer`` field (what follows ``####``)."""
    return parse_solution(text).answer


def annotations_of(body: str) -> list[Annotation]:
    return [Annotation(m.start(), m.end(), m.group(1), m.group(2)) for m in ANNOTATION_RE.finditer(body)]


def strip_annotations(body: str) -> str:
    return ANNOTATION_RE.sub("", body)


def render_cot(plain_body: str, answer: str) -> str:
    return f"{COT_OPENING}\n{plain_body.strip()}\n{format_answer_sentence(answer)}"

