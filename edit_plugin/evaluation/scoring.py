"""Canonical forms of answers, per answer kind, so that a prediction and a
gold answer compare as plain strings (lm-eval's ``exact_match``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from edit_plugin.answers import extract_answer

KINDS = ("choice", "number", "bool", "yesno", "validity", "words", "dyck")
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s-]", " ", text.lower())).strip()


def canonical(answer: str | None, kind: str, option_labels: Sequence[str] = (),
              option_texts: Sequence[str] = ()) -> str:
    """The canonical form of ``answer``; "" when nothing usable is there."""
    if not answer:
        return ""
    text = answer.strip()
    if kind == "choice":
        labels = [label.upper() for label in option_labels]
        # "(C)", "C", "(c)", "C." alone; "(C) text"; the option text; "C) text".
        # Past 26 options the labels run AA, AB, ... (upper case only).
        letter = r"([A-Za-z]|[A-Z]{2})"
        for pattern in (rf"^\(?{letter}\)?\.?$", rf"^\({letter}\)", None, rf"^{letter}[).:]"):
            if pattern is None:
                wanted = _plain(text)
                for label, option in zip(labels, option_texts):
                    if wanted and wanted == _plain(option):
                        return label
                continue
            match = re.match(pattern, text)
            if match and (not labels or match.group(1).upper() in labels):
                return match.group(1).upper()
        return ""
    if kind == "number":
        match = _NUMBER_RE.search(text)
        if not match:
            return ""
        value = float(match.group(0).replace(",", ""))
        return str(int(value)) if value.is_integer() else str(value)
    lowered = text.lower()
    words = {"bool": ("true", "false"), "yesno": ("yes", "no"), "validity": ("invalid", "valid")}
    if kind in words:
        match = re.search(r"\b(" + "|".join(words[kind]) + r")\b", lowered)
        return match.group(1) if match else ""
    if kind == "words":
        return " ".join(re.findall(r"[a-z0-9'&-]+", lowered))
    if kind == "dyck":
        return " ".join(re.findall(r"[\[\](){}<>]", text))
    raise ValueError(f"unknown answer kind {kind!r}; expected one of {KINDS}")


def canonical_prediction(completion: str, doc: dict) -> str:
    """What a completion answers, in the canonical form of the doc's kind."""
    return canonical(extract_answer(completion), doc["kind"], doc.get("option_labels") or (),
                     doc.get("option_texts") or ())


def canonical_target(doc: dict) -> str:
    return canonical(doc["target"], doc["kind"], doc.get("option_labels") or (), doc.get("option_texts") or ())
