"""Answer kinds and the one "is this answer right" rule of the benchmarks and
the teacher: canonical forms of answers, per answer kind, so that a
prediction and a gold answer compare as plain strings (lm-eval's
``exact_match``), and `verdict`, which the teacher's D+/D- split uses too.

An answer that names more than one candidate ("(A) or (B)", "True and
False", "5 or 6") is a hedge: its canonical form is "" (wrong), never its
first candidate, or a model could score by listing every option.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from edit_plugin.text.answers import extract_answer

KINDS = ("choice", "number", "bool", "yesno", "validity", "words", "dyck")
# What a completion says about a question (`verdict`).
VERDICTS = ("correct", "wrong", "hedged", "unreadable")
# A number as people write it in an answer: "1,234", "1234.00", "0.5" and
# ".5"; a sign belongs to the number ("-5").
NUMBER_RE = re.compile(r"-?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
# Minus signs people type besides "-": the minus sign and the en dash.
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})
_PARENTHETICAL_RE = re.compile(r"\([^()]*\)")
# Past 26 options the labels run AA, AB, ... (upper case only).
_LETTER = r"([A-Za-z]|[A-Z]{2})"
_BARE_LABEL_RE = re.compile(rf"^\(?{_LETTER}\)?\.?$")
_PAREN_LABEL_RE = re.compile(rf"\({_LETTER}\)")
# "(B) text" / "B: text": the label and the space before its text (the text
# is the rest of the line; possessive: no backtracking over the space).
_LABEL_THEN_SPACE_RE = re.compile(rf"^\(?{_LETTER}\)?[.:)]?\s++")
# Between the candidates of a hedge: "(A) or (B)", "(A), (B)", "5 / 6", "A & B".
# Linear time on any text: a match starts only where no whitespace precedes
# (at the start of a whitespace run, never inside one), the quantifiers are
# possessive (no backtracking), and a run of separators (", ;") after a
# connector is one match. Without that, every position of a run of n spaces
# rescanned the run: quadratic, minutes on a model's whitespace loop.
_CONNECTOR_RE = re.compile(r"(?<!\s)\s*+[,;][\s,;]*+|(?<!\s)\s++(?:or|and|nor|vs\.?|/|&)\s++[\s,;]*+",
                           re.IGNORECASE)
_WORDS = {"bool": ("true", "false"), "yesno": ("yes", "no"), "validity": ("invalid", "valid")}
_PUNCTUATION_RE = re.compile(r"[^\w\s-]")
_WHITESPACE_RE = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", _PUNCTUATION_RE.sub(" ", text.lower())).strip()


# Whole gold answers that name their kind (any case).
_WORD_KIND_OF = {word: kind for kind, words in _WORDS.items() for word in words}


def inferred_kind(gold: str, has_options: bool) -> str | None:
    """The answer kind a gold answer shows on its face, or None: "choice"
    when the question lists options, "number" for a number alone, "bool",
    "yesno" or "validity" for True/False, Yes/No, valid/invalid alone. Word
    lists and Dyck sequences look like other text: they must be named."""
    if has_options:
        return "choice"
    gold = gold.strip()
    if NUMBER_RE.fullmatch(gold.translate(_MINUS_SIGNS)):
        return "number"
    return _WORD_KIND_OF.get(gold.lower())


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; expected one of {KINDS}")


def canonical(answer: str | None, kind: str, option_labels: Sequence[str] = (),
              option_texts: Sequence[str] = ()) -> str:
    """The canonical form of ``answer``; "" when nothing usable is there or
    when the answer is a hedge (`is_hedge`)."""
    _check_kind(kind)
    if not answer:
        return ""
    text = answer.strip()
    if is_hedge(text, kind, option_labels, option_texts):
        return ""
    return _single(text, kind, option_labels, option_texts)


def _single(text: str, kind: str, option_labels: Sequence[str], option_texts: Sequence[str]) -> str:
    """The canonical form of an answer read as naming one candidate."""
    if kind == "choice":
        return _choice(text, [label.upper() for label in option_labels], option_texts)
    if kind == "number":
        match = NUMBER_RE.search(text.translate(_MINUS_SIGNS))
        return _number(match.group(0)) if match else ""
    if kind in _WORDS:
        match = re.search(_word_pattern(kind), text.lower())
        return match.group(1) if match else ""
    if kind == "words":
        return " ".join(re.findall(r"[a-z0-9'&-]+", text.lower()))
    return " ".join(re.findall(r"[\[\](){}<>]", text))  # dyck


def _choice(text: str, labels: list[str], option_texts: Sequence[str]) -> str:
    # "(C)", "C", "(c)", "C." alone; "(C) text"; the option text; "C) text".
    for pattern in (_BARE_LABEL_RE, re.compile(rf"^\({_LETTER}\)"), None, re.compile(rf"^{_LETTER}[).:]")):
        if pattern is None:
            label = _option_of_text(text, _labels_by_text(labels, option_texts))
            if label:
                return label
            continue
        match = pattern.match(text)
        if match and _is_label(match.group(1), labels):
            return match.group(1).upper()
    return ""


def _is_label(letter: str, labels: Collection[str]) -> bool:
    return not labels or letter.upper() in labels


def _labels_by_text(labels: Sequence[str], option_texts: Sequence[str]) -> dict[str, str]:
    """`_plain` option text -> the first label with that text: one lookup per
    part of an answer, however many parts and options there are."""
    by_text: dict[str, str] = {}
    for label, option in zip(labels, option_texts):
        by_text.setdefault(_plain(option), label)
    return by_text


def _option_of_text(text: str, labels_by_text: dict[str, str]) -> str:
    """The label whose option text ``text`` is (`_plain` forms), or ""."""
    wanted = _plain(text)
    return labels_by_text.get(wanted, "") if wanted else ""


def _label_then_text(text: str) -> tuple[str, str] | None:
    """("B", "its text") of "(B) its text", "B: its text", ...; None otherwise
    (the text must be one line)."""
    match = _LABEL_THEN_SPACE_RE.match(text)
    rest = text[match.end():] if match else ""
    if not rest or "\n" in rest:
        return None
    return match.group(1), rest


def _number(text: str) -> str:
    value = float(text.replace(",", ""))
    return str(int(value)) if value.is_integer() else str(value)


def _word_pattern(kind: str) -> str:
    return r"\b(" + "|".join(_WORDS[kind]) + r")\b"


def named_answers(answer: str | None, kind: str, option_labels: Sequence[str] = (),
                  option_texts: Sequence[str] = ()) -> set[str]:
    """Every distinct candidate an answer names, in canonical form: {"A", "B"}
    for "(A) or (B)", {"5", "6"} for "5 or 6", {"true", "false"} for "True
    and False". Word lists and Dyck sequences name one candidate at most."""
    _check_kind(kind)
    if not answer or not answer.strip():
        return set()
    text = answer.strip()
    if kind == "choice":
        return _named_options(text, [label.upper() for label in option_labels], option_texts)
    if kind == "number":
        # A parenthetical aside ("7 (3 + 4)") shows work, not a second answer.
        text = _PARENTHETICAL_RE.sub(" ", text.translate(_MINUS_SIGNS))
        return {_number(number) for number in set(NUMBER_RE.findall(text))}
    if kind in _WORDS:
        return set(re.findall(_word_pattern(kind), text.lower()))
    single = _single(text, kind, (), ())
    return {single} if single else set()


def _named_options(text: str, labels: list[str], option_texts: Sequence[str]) -> set[str]:
    # A whole answer that is one option ("(B)", its text, "(B) its text")
    # names that option only, even if the text itself holds "or" or a comma.
    whole = _BARE_LABEL_RE.match(text)
    if whole and _is_label(whole.group(1), labels):
        return {whole.group(1).upper()}
    known = set(labels)  # membership in O(1) for each of many parts
    labels_by_text = _labels_by_text(labels, option_texts)  # once: an answer may have 100,000 parts
    label = _option_of_text(text, labels_by_text)
    if label:
        return {label}
    with_text = _label_then_text(text)
    if with_text and with_text[0].upper() in known:
        own_text = dict(zip(labels, option_texts)).get(with_text[0].upper())
        if own_text is not None and _plain(with_text[1]) == _plain(own_text):
            return {with_text[0].upper()}
    named = {letter.upper() for letter in set(_PAREN_LABEL_RE.findall(text)) if _is_label(letter, known)}
    for part in set(_CONNECTOR_RE.split(text)):  # a looping model repeats its parts: read each once
        bare = _BARE_LABEL_RE.match(part)
        if bare and _is_label(bare.group(1), known):
            named.add(bare.group(1).upper())
        elif part:
            named.update(filter(None, [_option_of_text(part, labels_by_text)]))
    return named


def is_hedge(answer: str | None, kind: str, option_labels: Sequence[str] = (),
             option_texts: Sequence[str] = ()) -> bool:
    """True when the answer names more than one candidate (a hedge: wrong).
    The same candidate named twice ("(A). (A) is correct") is no hedge."""
    return len(named_answers(answer, kind, option_labels, option_texts)) > 1


def _doc_options(doc: dict) -> tuple[Sequence[str], Sequence[str]]:
    return doc.get("option_labels") or (), doc.get("option_texts") or ()


def canonical_prediction(completion: str, doc: dict) -> str:
    """What a completion answers, in the canonical form of the doc's kind."""
    return canonical(extract_answer(completion), doc["kind"], *_doc_options(doc))


def canonical_target(doc: dict) -> str:
    return canonical(doc["target"], doc["kind"], *_doc_options(doc))


def verdict(completion: str, doc: dict) -> str:
    """One of `VERDICTS`: "correct" (one answer, the gold one), "wrong" (one
    readable answer, not the gold one), "hedged" (several candidates, scored
    as wrong) or "unreadable" (no answer phrase, or nothing of the doc's kind
    after it)."""
    answer = extract_answer(completion)
    if is_hedge(answer, doc["kind"], *_doc_options(doc)):
        return "hedged"
    # No hedge: the answer's canonical form is its single reading (`canonical`
    # without asking `is_hedge` a second time).
    predicted = _single(answer.strip(), doc["kind"], *_doc_options(doc)) if answer else ""
    if not predicted:
        return "unreadable"
    return "correct" if predicted == canonical_target(doc) else "wrong"
