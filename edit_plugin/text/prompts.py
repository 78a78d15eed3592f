"""The one place that turns a question into the text a student sees.

Training data, the demo and the evaluation tasks all call these functions, so a
student is always scored on exactly the format it was trained on.
"""

from __future__ import annotations

# Every teacher and every training CoT ends with this phrase; the answer
# extractor in `edit_plugin.text.answers` looks for it.
ANSWER_PHRASE = "Therefore, the answer is"

COT_OPENING = "Let's think step by step."


def build_prompt(question: str, description: str | None = None) -> str:
    """Student input, as in the EDIT paper.

    With a task description (BBH, BB-sub):
        ``Task Description:\\n{description}\\nQ:{question}\\n\\nA:``
    without one (AGIEval, ARC):
        ``{question}\\n\\nA:``
    """
    question = question.strip()
    if description:
        return f"Task Description:\n{description.strip()}\nQ:{question}\n\nA:"
    return f"{question}\n\nA:"


def question_of(prompt: str) -> str:
    """The question inside a prompt of `build_prompt` (its inverse), with
    whitespace collapsed: what two prompts with different task descriptions
    share when they ask the same thing."""
    body = prompt[:-len("\n\nA:")] if prompt.endswith("\n\nA:") else prompt
    if body.startswith("Task Description:\n") and "\nQ:" in body:
        body = body.split("\nQ:", 1)[1]
    return " ".join(body.split())


def format_answer_sentence(answer: str) -> str:
    """The closing sentence of a CoT: ``Therefore, the answer is X.``"""
    return f"{ANSWER_PHRASE} {answer}."


def join_plain(prompt: str, response: str) -> tuple[str, str]:
    """Prompt and response as two strings for a tokenizer without a chat template.

    The response carries the separating space so that the prompt's tokens are a
    clean prefix of the whole sequence.
    """
    return prompt, " " + response.lstrip()
