from edit_plugin.text.answers import extract_answer
from edit_plugin.text.prompts import build_prompt, format_answer_sentence


def test_prompt_with_description_follows_the_paper():
    assert build_prompt("2 + 2 =", "Solve it.") == "Task Description:\nSolve it.\nQ:2 + 2 =\n\nA:"


def test_prompt_without_description():
    assert build_prompt(" Which is red? ") == "Which is red?\n\nA:"


def test_extracts_after_the_last_phrase():
    text = "So the answer is 3. Wait. Therefore, the answer is (B)."
    assert extract_answer(text) == "(B)"


def test_phrase_variants_and_case():
    assert extract_answer("The answer is: valid") == "valid"
    assert extract_answer("so THE ANSWER IS -5,453.") == "-5,453"
    assert extract_answer("Therefore, the answer is 3.5.") == "3.5"
    assert extract_answer("the answer is ) ) ]\nmore") == ") ) ]"


def test_missing_phrase_is_none_not_a_crash():
    assert extract_answer("I do not know.") is None
    assert extract_answer("") is None
    assert extract_answer("the answer is") is None


def test_the_answer_sentence_reads_back():
    assert extract_answer(format_answer_sentence("-14")) == "-14"
    assert extract_answer(format_answer_sentence("(B)")) == "(B)"
