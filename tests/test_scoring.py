"""Answer normal forms per kind: letters, option texts, numbers, words, Dyck."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edit_plugin.text.scoring import canonical, canonical_prediction, is_hedge, named_answers, verdict

LABELS, TEXTS = ["A", "B", "C"], ["A man walks", "blue sky", "12/14/1937"]


@pytest.mark.parametrize("answer, expected", [
    ("(C)", "C"), ("C", "C"), ("(c)", "C"), ("c.", "C"), ("(B) blue sky", "B"), ("Blue sky.", "B"),
    ("A man walks", "A"), ("C) x", "C"), ("12/14/1937", "C"), ("D", ""), ("", ""), ("maybe", ""),
])
def test_multiple_choice(answer, expected):
    assert canonical(answer, "choice", LABELS, TEXTS) == expected


# 28 options: the labels run A..Z, AA, AB.
LABELS_PAST_Z = [chr(65 + i) for i in range(26)] + ["AA", "AB"]
TEXTS_PAST_Z = [f"shape {i}" for i in range(28)]


def test_labels_past_z():
    labels, texts = LABELS_PAST_Z, TEXTS_PAST_Z
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


# --- hedges: an answer that names more than one candidate is wrong ------------

@pytest.mark.parametrize("answer", [
    "(A) or (B)", "(A) and (B)", "either (A) or (C)", "(A), (B)", "(A)/(B)", "A or B", "(a) or (b)",
    "(B) blue sky or (C) 12/14/1937", "blue sky or 12/14/1937", "(A) man walks, but maybe (B)",
])
def test_a_choice_hedge_is_wrong(answer):
    assert canonical(answer, "choice", LABELS, TEXTS) == ""
    assert is_hedge(answer, "choice", LABELS, TEXTS)
    assert len(named_answers(answer, "choice", LABELS, TEXTS)) >= 2


@pytest.mark.parametrize("answer, expected", [
    ("(A). (A) is correct", "A"), ("(A) or (A)", "A"), ("(B) blue sky", "B"), ("B) blue sky", "B"),
    ("(A) blue sky", "A"),  # the label wins over a mismatched text, as before: one label named
    ("(C) 12/14/1937", "C"), ("(D) or (E)", ""),  # labels that are not options name nothing
])
def test_one_option_named_several_ways_is_no_hedge(answer, expected):
    assert canonical(answer, "choice", LABELS, TEXTS) == expected
    assert not is_hedge(answer, "choice", LABELS, TEXTS)


def test_an_option_text_with_a_connector_is_one_option():
    labels, texts = ["A", "B", "C"], ["Modifiers or Adjectives", "Modifiers", "red, white and blue"]
    for answer, label in [("Modifiers or Adjectives", "A"), ("(A) Modifiers or Adjectives", "A"),
                          ("red, white and blue", "C"), ("(C) red, white and blue", "C")]:
        assert canonical(answer, "choice", labels, texts) == label
    assert canonical("(A) or (B)", "choice", labels, texts) == ""


def test_hedges_past_label_z():
    labels, texts = LABELS_PAST_Z, TEXTS_PAST_Z
    assert canonical("(AA) or (AB)", "choice", labels, texts) == ""
    assert canonical("(AB). (AB) is right", "choice", labels, texts) == "AB"


@pytest.mark.parametrize("kind, answer", [
    ("number", "5 or 6"), ("number", "-5,453 or -5,454"), ("number", "between 3 and 4"), ("number", "5-6"),
    ("bool", "True or False"), ("bool", "False, or maybe True"),
    ("yesno", "Yes and no"), ("yesno", "no... yes"),
    ("validity", "valid or invalid"), ("validity", "invalid, or valid"),
])
def test_a_hedge_of_the_other_kinds_is_wrong(kind, answer):
    assert canonical(answer, kind) == "" and is_hedge(answer, kind)


@pytest.mark.parametrize("kind, answer, expected", [
    ("number", "-5,453", "-5453"), ("number", "-5,453 (that is, -5453)", "-5453"), ("number", "7 (3 + 4)", "7"), ("number", "3.0 or 3", "3"),
    ("bool", "True, it is True", "true"), ("yesno", "No, he did not", "no"),
    ("validity", "invalid", "invalid"), ("validity", "Valid.", "valid"),
    # word lists and Dyck sequences have no hedge rule: a list is one answer
    ("words", "apple or banana", "apple or banana"), ("dyck", "] or >", "] >"),
])
def test_one_candidate_of_the_other_kinds_is_no_hedge(kind, answer, expected):
    assert canonical(answer, kind) == expected and not is_hedge(answer, kind)


@pytest.mark.parametrize("completion, verdict_", [
    ("Therefore, the answer is (A).", "correct"),
    ("Therefore, the answer is (A). (A) is correct.", "correct"),
    ("Therefore, the answer is (B).", "wrong"),
    ("Therefore, the answer is (A) or (B).", "hedged"),
    ("Therefore, the answer is (A) and (B).", "hedged"),
    ("Therefore, the answer is (E).", "unreadable"),
    ("I cannot decide.", "unreadable"),
    ("", "unreadable"),
])
def test_verdict_of_a_completion(completion, verdict_):
    doc = {"kind": "choice", "target": "(A)", "option_labels": LABELS, "option_texts": TEXTS}
    assert verdict(completion, doc) == verdict_
    assert (canonical_prediction(completion, doc) == "A") == (verdict_ == "correct")


def test_the_lm_eval_filter_scores_a_hedge_as_wrong():
    from edit_plugin.evaluation.lm_eval_glue import extract_answers

    docs = [{"kind": "choice", "target": "(A)", "option_labels": LABELS, "option_texts": TEXTS},
            {"kind": "number", "target": "-14"}, {"kind": "bool", "target": "True"}]
    resps = [["Therefore, the answer is (A) or (B).", "Therefore, the answer is (A). (A) is correct."],
             ["Therefore, the answer is -14 or 14.", "Therefore, the answer is -14."],
             ["Therefore, the answer is True or False.", "Therefore, the answer is True."]]
    assert extract_answers(resps, docs) == [["", "A"], ["", "-14"], ["", "true"]]


# --- numbers as people write them (open-ended math: GSM8K) ---------------------

@pytest.mark.parametrize("answers", [
    ("$1,234", "1234", "1,234.", "1234.00", "1234 dollars", "$1,234.00 in total"),
    ("18", "18.", "18 dollars", "$18", "18.0"),
    ("-5", "\u22125", "-5.00"),
    ("0.5", ".5", "$.50", "0.50"),
])
def test_one_number_written_several_ways_has_one_normal_form(answers):
    assert len({canonical(answer, "number") for answer in answers}) == 1
    assert canonical(answers[0], "number") != ""


@pytest.mark.parametrize("completion, verdict_", [
    ("She pays 3 * $6 = $18. Therefore, the answer is $18.", "correct"),
    ("Therefore, the answer is 18 dollars.", "correct"),
    ("So the answer is 18.\n", "correct"),
    ("Therefore, the answer is 18.00.", "correct"),
    ("Therefore, the answer is 19.", "wrong"),
    ("Therefore, the answer is 1.8.", "wrong"),
    ("Therefore, the answer is eighteen.", "unreadable"),   # no number: wrong, never a crash
    ("Therefore, the answer is", "unreadable"),
    ("18", "unreadable"),                                   # no answer phrase
    ("Therefore, the answer is 18 or 19.", "hedged"),
])
def test_verdict_of_an_open_ended_math_completion(completion, verdict_):
    doc = {"kind": "number", "target": "18"}
    assert verdict(completion, doc) == verdict_
    assert (canonical_prediction(completion, doc) == "18") == (verdict_ == "correct")


def test_a_decimal_without_leading_zero_is_its_value():
    doc = {"kind": "number", "target": "0.5"}
    assert verdict("Therefore, the answer is .5.", doc) == "correct"
    assert verdict("Therefore, the answer is 5.", doc) == "wrong"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.,-$ ab\n")) | st.characters(), max_size=40))
def test_any_completion_gets_a_number_verdict_never_a_crash(tail):
    doc = {"kind": "number", "target": "18"}
    assert verdict("Therefore, the answer is " + tail, doc) in ("correct", "wrong", "hedged", "unreadable")
    assert isinstance(canonical_prediction(tail, doc), str)
