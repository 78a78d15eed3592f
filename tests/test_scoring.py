"""Answer normal forms per kind: letters, option texts, numbers, words, Dyck."""

import pytest

from edit_plugin.evaluation.scoring import canonical, canonical_prediction

LABELS, TEXTS = ["A", "B", "C"], ["A man walks", "blue sky", "12/14/1937"]


@pytest.mark.parametrize("answer, expected", [
    ("(C)", "C"), ("C", "C"), ("(c)", "C"), ("c.", "C"), ("(B) blue sky", "B"), ("Blue sky.", "B"),
    ("A man walks", "A"), ("C) x", "C"), ("12/14/1937", "C"), ("D", ""), ("", ""), ("maybe", ""),
])
def test_multiple_choice(answer, expected):
    assert canonical(answer, "choice", LABELS, TEXTS) == expected


def test_labels_past_z():
    labels = [chr(65 + i) for i in range(26)] + ["AA", "AB"]
    texts = [f"shape {i}" for i in range(28)]
    assert canonical("(AB)", "choice", labels, texts) == "AB"
    assert canonical("an", "choice", labels, texts) == ""


@pytest.mark.parametrize("kind, answer, expected", [
    ("number", "-5,453", "-5453"), ("number", "24 apples", "24"), ("number", "3.0", "3"), ("number", "none", ""),
    ("bool", "True.", "true"), ("bool", "it is False", "false"),
    ("yesno", "No, he did not", "no"), ("yesno", "Yes", "yes"),
    ("validity", "invalid", "invalid"), ("validity", "valid.", "valid"),
    ("words", "apple, Banana cherry", "apple banana cherry"),
    ("dyck", "] ] >", "] ] >"), ("dyck", "]]>", "] ] >"),
])
def test_other_kinds(kind, answer, expected):
    assert canonical(answer, kind) == expected


def test_prediction_uses_the_last_answer_phrase():
    doc = {"kind": "number", "target": "-14"}
    assert canonical_prediction("so the answer is 3. Therefore, the answer is -14.", doc) == "-14"
    assert canonical_prediction("no phrase at all", doc) == ""


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown answer kind"):
        canonical("x", "essay")
