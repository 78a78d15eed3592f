"""Every path that reads model output runs in linear time.

Each public entry point (`verdict`, the lm-eval filter, the teacher
pipeline's answer reading, `edit-cot validate`) and the parsers that see
teacher, student or user text get degenerate outputs of 200,000 characters
(`adversarial_text.PATTERNS`) and must answer within a limit of seconds.
Linear code takes well under a second per call; the quadratic patterns this
replaces took minutes to hours on these texts (20,000 spaces alone: 13 s), so
a slow or busy machine cannot flip the result. Random patterns are explored
with hypothesis (`HYPOTHESIS_PROFILE=explore` for new examples; CI replays
the same ones).
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adversarial_text import PATTERNS, SIZE, adversarial, time_limit
from edit_plugin.cli import main
from edit_plugin.evaluation.lm_eval_glue import extract_answers
from edit_plugin.teacher.build import build_dual_cots
from edit_plugin.teacher.questions import TeacherQuestion
from edit_plugin.text.scoring import _CONNECTOR_RE, verdict

# Seconds one call may take: ~30x what the slowest linear call here takes on
# a busy 2-core machine, far below the minutes of the quadratic code.
LIMIT = 10.0
DOCS = [
    {"kind": "choice", "target": "(A)", "option_labels": ["A", "B", "C"],
     "option_texts": ["a red ball", "blue sky", "12/14/1937"]},
    {"kind": "number", "target": "5"}, {"kind": "bool", "target": "True"}, {"kind": "yesno", "target": "No"},
    {"kind": "validity", "target": "valid"}, {"kind": "words", "target": "apple banana"},
    {"kind": "dyck", "target": "] )"},
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_verdict_reads_degenerate_outputs_in_linear_time(pattern):
    text = adversarial(pattern)
    assert len(text) == SIZE
    for doc in DOCS:
        with time_limit(LIMIT, f"verdict on {pattern!r} ({doc['kind']})"):
            assert verdict(text, doc) in ("correct", "wrong", "hedged", "unreadable")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_lm_eval_filter_reads_degenerate_outputs_in_linear_time(pattern):
    text = adversarial(pattern)
    with time_limit(LIMIT, f"the lm-eval filter on {pattern!r}"):
        answers = extract_answers([[text] for _ in DOCS], DOCS)
    assert len(answers) == len(DOCS) and all(isinstance(a[0], str) for a in answers)


def _question(i: int, doc: dict) -> TeacherQuestion:
    return TeacherQuestion(f"q{i}", "task", "", f"Question {i}?", doc["target"], doc["kind"],
                           doc.get("option_labels", []), doc.get("option_texts", []))


def test_the_teacher_pipeline_reads_degenerate_answers_in_linear_time(tmp_path):
    """A teacher whose every answer (CEP, retries, AHP, CCP) is one of the
    patterns; question i gets pattern i, with the answer kinds in turn."""
    names = list(PATTERNS)
    questions = [_question(i, DOCS[i % len(DOCS)]) for i in range(len(names))]
    texts = {q.question: adversarial(name) for q, name in zip(questions, names)}

    def teacher(prompts, temperature, seed):
        return [texts[prompt.rsplit("Q: ", 1)[1].split("\n", 1)[0]] for prompt in prompts]

    # Every pattern is read about five times (CEP, its retry, the split, AHP
    # or CCP): the limit covers all of them together.
    with time_limit(LIMIT * 6, "the teacher pipeline on 20 degenerate teachers"):
        stats = build_dual_cots(questions, teacher, tmp_path / "teacher", attempts=1, cep_samples=2,
                                progress=False)
    assert stats["questions"] == len(names)


def test_validate_reads_degenerate_lines_in_linear_time(tmp_path, capsys):
    path = tmp_path / "pairs.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for name in PATTERNS:
            text = adversarial(name)
            handle.write(json.dumps({"prompt": text, "chosen": text, "rejected": text}) + "\n")
            handle.write(text.replace("\n", " ") + "\n")  # the same text as a line that is no JSON
    with time_limit(LIMIT, "edit-cot validate"):
        assert main(["validate", str(path)]) == 1
    assert f"{len(PATTERNS) - 1} valid records" in capsys.readouterr().out  # "whitespace only" is empty


def test_the_parsers_of_teacher_student_and_user_text_run_in_linear_time(tmp_path):
    from edit_plugin.eval_sets.bbsub import normalise_input
    from edit_plugin.gsm8k.corrupt import _unannotated_after, visible_expression
    from edit_plugin.gsm8k.solution import SolutionFormatError, parse_solution
    from edit_plugin.question_scoring import is_right
    from edit_plugin.synthetic.arithmetic import intermediate_values_right
    from edit_plugin.synthetic.first_error import first_error
    from edit_plugin.teacher.ccp_examples import CCPExampleError, read_ccp_triples
    from edit_plugin.text.answers import extract_answer

    prompt = "((1 + 2 * 3) + (4 - 5 * 6)) ="
    ccp = tmp_path / "task.txt"  # 12,500 "Right Response:" lines and no "Wrong Response:"
    ccp.write_text("Q: x\n" + "Right Response:\n" * (SIZE // 16))
    with time_limit(LIMIT, "a CCP example file"), pytest.raises(CCPExampleError):
        read_ccp_triples(ccp)
    for name in PATTERNS:
        text = adversarial(name)
        with time_limit(LIMIT, f"the parsers on {name!r}"):
            extract_answer(text)
            is_right(text, {"answer": "5", "kind": "number"})
            normalise_input(text)
            visible_expression(text, "1+2")
            _unannotated_after(text, 0)
            intermediate_values_right(prompt, "A = " + text)
            first_error("boolean_expressions", "A = True.\nSo the answer is True.", text)
            try:
                parse_solution(text + "\n#### 5")
            except SolutionFormatError:
                pass


# --- the connector pattern: the linear one splits hedges as the old one did ---

# The pattern before this change (quadratic in a run of whitespace): the reference.
_OLD_CONNECTOR_RE = re.compile(r"\s*[,;]\s*|\s+(?:or|and|nor|vs\.?|/|&)\s+", re.IGNORECASE)
_HEDGE_PIECES = [" ", "\t", "\n", "\u00a0", ",", ";", "or", "OR", "and", "nor", "vs", "vs.", "/", "&", ".",
                 "A", "(B)", "x", "blue sky"]


@given(st.lists(st.sampled_from(_HEDGE_PIECES), max_size=14))
def test_the_linear_connector_pattern_splits_like_the_old_one(pieces):
    """The same non-empty parts (the old pattern also left empty parts
    between adjacent separators; they name nothing)."""
    text = "".join(pieces)
    assert [p for p in _CONNECTOR_RE.split(text) if p] == [p for p in _OLD_CONNECTOR_RE.split(text) if p]


# --- random degenerate outputs ----------------------------------------------

_PIECES = _HEDGE_PIECES + ["the answer is ", "1", "-", "(", ")", "[", "]", "=", "+", "True", "\r", "\x0b", "2,"]


@hypothesis_settings(deadline=None)
@given(head=st.lists(st.sampled_from(_PIECES), max_size=3),
       unit=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4),
       tail=st.lists(st.sampled_from(_PIECES), max_size=3))
def test_random_degenerate_outputs_are_read_in_linear_time(head, unit, tail):
    """The answer phrase, a head, one unit repeated to 20,000 characters
    (where the old pattern took 13 s on spaces alone), a tail ending in a
    letter (a run at the very end would be stripped); verdict, every kind,
    within 2 s."""
    end = "".join(tail) + "x"
    run = "".join(unit) * (20_000 // len("".join(unit)) + 1)
    text = ("So the answer is " + "".join(head) + run)[: 20_000 - len(end)] + end
    for doc in DOCS:
        with time_limit(2.0, f"verdict on {text[:60]!r}... ({doc['kind']})"):
            verdict(text, doc)
