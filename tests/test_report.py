"""`edit-cot keysteps`: fractions, error-location precision/recall, outputs."""

import json

import pytest

from edit_plugin.keystep_report import analyse_pair, keystep_report, summarise
from edit_plugin.synthetic.arithmetic import generate_pairs


def test_hand_made_pair_finds_its_error_exactly(chat_tokenizer):
    chosen = "So the total is 12 apples."
    rejected = "So the total is 19 apples."
    start = rejected.index("19")
    record = {"chosen": chosen, "rejected": rejected, "task": "t", "source": "corrupted",
              "error_char_start": start, "error_char_end": start + 2}
    report, (c_pieces, r_pieces) = analyse_pair(chat_tokenizer, record)
    assert "".join(t for t, _ in c_pieces) == chosen and "".join(t for t, _ in r_pieces) == rejected
    assert "".join(t for t, k in r_pieces if k) == "9" and "".join(t for t, k in c_pieces if k) == "2"
    summary = summarise([report])
    assert summary["error_location"] == {"pairs": 1, "precision": 1.0, "recall": 0.5,
                                         "first_key_token_in_error_step": 1.0}
    assert summary["key_token_fraction"] == pytest.approx(2 / (report.chosen_tokens + report.rejected_tokens))


def test_report_on_synthetic_pairs_writes_json_png_html(chat_tokenizer, tmp_path):
    records = generate_pairs(40, seed=2)
    summary = keystep_report(records, chat_tokenizer, tmp_path, html_pairs=5)
    assert summary["pairs"] == 40 and 0.0 < summary["key_token_fraction"] < 0.3
    assert set(summary["per_source"]) == {"corrupted"}
    location = summary["error_location"]
    assert 0.0 < location["precision"] <= 1.0 and 0.0 < location["recall"] <= 1.0
    assert location["first_key_token_in_error_step"] > 0.8
    saved = json.loads((tmp_path / "keysteps.json").read_text())
    assert len(saved["pairs"]) == 40
    assert (tmp_path / "keysteps.png").stat().st_size > 1000
    page = (tmp_path / "keysteps.html").read_text()
    assert page.count("<tr>") == 6 and "<mark>" in page


def test_error_location_per_error_type(chat_tokenizer):
    # Two marked pairs of different error types, one unmarked pair without a type.
    base = "So the total is 12 apples."
    one = {"chosen": base, "rejected": base.replace("12", "19"), "error_type": "calculation",
           "error_char_start": 17, "error_char_end": 18}
    two = {"chosen": base, "rejected": base.replace("total", "sum"), "error_type": "logic",
           "error_char_start": 0, "error_char_end": 3}  # a span that misses the change
    plain = {"chosen": base, "rejected": base.replace("apples", "pears")}
    summary = summarise([analyse_pair(chat_tokenizer, r)[0] for r in (one, two, plain)])
    per_type = summary["per_error_type"]
    assert set(per_type) == {"calculation", "logic"}
    assert per_type["calculation"]["error_location"]["first_key_token_in_error_step"] == 1.0
    assert per_type["logic"]["error_location"]["precision"] == 0.0
    assert summary["error_location"]["pairs"] == 2 and summary["error_location"]["first_key_token_in_error_step"] == 0.5


def test_key_fractions_per_side_show_a_step_added_only_to_the_wrong_cot(chat_tokenizer):
    chosen = "- plum (2)\n- apple (1)\nSo 2 + 1 = 3."
    rejected = "- plum (2)\n- goat (4)\n- apple (1)\nSo 2 + 4 + 1 = 7."
    report, (c_pieces, _) = analyse_pair(chat_tokenizer, {"chosen": chosen, "rejected": rejected,
                                                          "error_type": "knowledge"})
    # The correct CoT's only key token is its result: the step it did not take is not on its side.
    assert "".join(t for t, k in c_pieces if k).strip() == "3"
    entry = summarise([report])["per_error_type"]["knowledge"]
    assert entry["chosen_key_fraction"] == pytest.approx(1 / report.chosen_tokens)
    assert entry["rejected_key_fraction"] == pytest.approx(report.rejected_key / report.rejected_tokens)
    assert entry["rejected_key_fraction"] > 3 * entry["chosen_key_fraction"]
