"""The one answer extractor: the text after the LAST "the answer is".
Whether that answer is right is `edit_plugin.text.scoring.verdict`'s call."""

from __future__ import annotations

import re

_ANSWER_RE = re.compile(r"the answer is\s*:?\s*", re.IGNORECASE)
# A sentence ends at a period followed by whitespace or the end of the text;
# a period inside a number ("3.5") or an option text is kept.
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|\n")


def extract_answer(text: str) -> str | None:
    """Return the answer stated after the last "the answer is", or None.

    ``"... So the answer is (B)."`` → ``"(B)"``; a text without the phrase
    yields None (scored as wrong, never a crash).
    """
    if not text:
        return None
    matches = list(_ANSWER_RE.finditer(text))
    if not matches:
        return None
    tail = text[matches[-1].end():]
    end = _SENTENCE_END_RE.search(tail)
    answer = (tail[: end.start()] if end else tail).strip()
    return answer or None
