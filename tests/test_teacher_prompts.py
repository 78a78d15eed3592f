"""CEP / AHP / CCP prompts have the structure of the EDIT authors' released
prompt files (same sections in the same order)."""

from pathlib import Path

import pytest

from edit_plugin.eval_sets.bbh import BBH_TASKS, bbh_description, bbh_exemplars
from edit_plugin.text.teacher_prompts import Triple, ahp_prompt, ccp_prompt, cep_prompt

RELEASED = Path(__file__).resolve().parents[2] / "shared" / "data" / "edit-prompts"
MARKERS = ("Question Description:", "Q:", "H:", "A:", "Right Response:", "Wrong Response:")
# Only the comparison with the released files needs ../shared/data.
needs_released = pytest.mark.skipif(not RELEASED.is_dir(), reason="needs ../shared/data beside the checkout")


def sections(text: str) -> list[str]:
    return [m for line in text.splitlines() for m in MARKERS if line.startswith(m)]


def rendered(kind: str, task: str) -> str:
    description, exemplars = bbh_description(task), bbh_exemplars(task)
    if kind == "cep":
        return cep_prompt(description, "{QUESTION}", exemplars)
    if kind == "ahp":
        return ahp_prompt(description, "{QUESTION}", "{CORRECT}", exemplars)
    triples = [Triple(e.question, e.cot, "A wrong rationale. Therefore, the answer is (Z).") for e in exemplars]
    return ccp_prompt(description, "{QUESTION}", "{RIGHT}", triples) + " {WRONG}"


@needs_released
@pytest.mark.parametrize("kind", ["cep", "ahp", "ccp"])
@pytest.mark.parametrize("task", BBH_TASKS)
def test_same_sections_in_the_same_order(kind, task):
    released = (RELEASED / kind / f"{task}.txt").read_text()
    ours = rendered(kind, task)
    assert sections(ours) == sections(released)
    if kind != "ccp":  # the description line with the answer-format instruction
        assert ours.splitlines()[0] == released.splitlines()[0]


def test_exemplars_end_with_our_answer_phrase_and_hints_match():
    for exemplar in bbh_exemplars("navigate"):
        assert exemplar.cot.startswith("Let's think step by step.")
        assert "Therefore, the answer is" in exemplar.cot and "So the answer is" not in exemplar.cot
    hints = [line for line in ahp_prompt("d", "q", "No", bbh_exemplars("navigate")).splitlines() if line.startswith("H:")]
    assert hints[:3] == [f"H: The correct answer is {e.answer}." for e in bbh_exemplars("navigate")]
    assert hints[3] == "H: The correct answer is No."


def test_zero_shot_prompts_and_user_templates(tmp_path):
    text = cep_prompt("Solve it.", "2 + 2 =")
    assert text == ('Solve it. Your response should conclude with the format "Therefore, the answer is".\n\n'
                    "Q: 2 + 2 =\nA: Let's think step by step.")
    assert sections(ccp_prompt("Solve it.", "2 + 2 =", "It is 4. Therefore, the answer is 4.")) == \
        ["Question Description:", "Q:", "Right Response:", "Wrong Response:"]
    (tmp_path / "cep.txt").write_text("{description}\n{exemplars}\nQuestion: {question}\n")
    assert cep_prompt("D", "x?", template_dir=tmp_path) == "D\n\nQuestion: x?"
