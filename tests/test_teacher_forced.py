"""Teacher-forced pair metrics: the maths by hand, the glue on a tiny Llama."""

from __future__ import annotations

import math

import pytest
import torch

from edit_plugin.dual_cot.tokenize import DROP_IDENTICAL, tokenize_dual
from edit_plugin.evaluation.teacher_forced import (
    aggregate,
    pair_metrics,
    pair_outcomes,
    sequence_scores,
)

LN2 = math.log(2.0)
HALF = [0.5, 0.25, 0.25]  # argmax 0
MID = [0.25, 0.5, 0.25]  # argmax 1


def log_probs(*rows):
    # Logits that are log-probabilities: log_softmax returns them unchanged.
    return torch.tensor([[[math.log(p) for p in dist] for dist in row] for row in rows])


def test_sequence_scores_match_a_hand_computation():
    logits = log_probs([HALF, HALF, MID, HALF], [HALF, HALF, MID, HALF])
    labels = torch.tensor([[-100, 0, 1, 2], [-100, 0, 2, -100]])
    key_mask = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 0]])
    scores = sequence_scores(logits, labels, key_mask)
    # row 0: keys at t=1 (p .5, argmax hit) and t=3 (p .25, miss); response t=1..3
    # row 1: key at t=2 (p .25); response t=1..2; t=3 is padding
    assert scores.key_logprob.tolist() == pytest.approx([math.log(0.5 * 0.25), math.log(0.25)])
    assert scores.key_count.tolist() == [2, 1]
    assert scores.key_hits.tolist() == [1, 0]
    assert scores.response_logprob.tolist() == pytest.approx([math.log(0.5 * 0.5 * 0.25), math.log(0.5 * 0.25)])
    assert scores.response_count.tolist() == [3, 2]


def test_pair_outcomes_and_aggregate_by_hand():
    # pair 0: chosen = row 0 above, rejected = row 1 above;
    # pair 1: chosen has no key token (its twin inserted one), rejected's key p = .5
    chosen = sequence_scores(
        log_probs([HALF, HALF, MID, HALF], [HALF, HALF, HALF, HALF]),
        torch.tensor([[-100, 0, 1, 2], [-100, 0, 0, -100]]),
        torch.tensor([[0, 1, 0, 1], [0, 0, 0, 0]]),
    )
    rejected = sequence_scores(
        log_probs([HALF, HALF, MID, HALF], [HALF, HALF, HALF, HALF]),
        torch.tensor([[-100, 0, 2, -100], [-100, 0, 0, 1]]),
        torch.tensor([[0, 0, 1, 0], [0, 0, 0, 1]]),
    )
    out = pair_outcomes(chosen, rejected)
    assert out["chosen_key_nll"] == pytest.approx([1.5 * LN2, None])
    assert out["chosen_key_accuracy"] == [0.5, None]
    assert out["rejected_key_nll"] == pytest.approx([2 * LN2, 2 * LN2])
    # pair 0: keys .125 < .25 and all tokens .0625 < .125: the wrong CoT wins both.
    # pair 1: keys 1 (empty) > .25; all tokens .25 > .5 * .5 * .25.
    assert out["key_win"] == [0.0, 1.0]
    assert out["all_win"] == [0.0, 1.0]

    agg = aggregate(out)
    assert agg["chosen_key_nll"] == pytest.approx(1.5 * LN2)  # pair 1 has no chosen key
    assert agg["chosen_key_accuracy"] == 0.5
    assert agg["rejected_key_nll"] == pytest.approx(2 * LN2)
    assert agg["pair_accuracy_key"] == 0.5
    assert agg["pair_accuracy_all"] == 0.5


def test_equal_likelihoods_count_half():
    scores = sequence_scores(log_probs([HALF, HALF]), torch.tensor([[-100, 0]]), torch.tensor([[0, 1]]))
    out = pair_outcomes(scores, scores)
    assert out["key_win"] == [0.5] and out["all_win"] == [0.5]


# --- the glue on a tiny random Llama with the student's tokenizer ----------

# `tiny_llama` (a random 2-layer Llama with the student's tokenizer) comes from conftest.py.


@pytest.fixture(scope="module")
def held_out_records():
    from edit_plugin.synthetic.arithmetic import generate_pairs

    records = generate_pairs(5, seed=7)
    twin = dict(records[0], id="identical", rejected=records[0]["chosen"])
    return records[:2] + [twin] + records[2:]


def separate_forward_scores(model, tokenizer, record):
    """Log-prob sums over response and key tokens, one unpadded forward per side."""
    row, _ = tokenize_dual(tokenizer, record["prompt"], record["chosen"], record["rejected"], 10**9)
    sides = {}
    for name, ids, labels, keys in (
        ("chosen", row["input_ids"], row["labels"], row["chosen_key_mask"]),
        ("rejected", row["rejected_input_ids"], row["rejected_labels"], row["rejected_key_mask"]),
    ):
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), dim=-1)
        token_logp = [logp[t - 1, ids[t]].item() for t in range(1, len(ids)) if labels[t] != -100]
        key_logp = [logp[t - 1, ids[t]].item() for t in range(1, len(ids)) if keys[t]]
        sides[name] = (sum(token_logp), key_logp)
    return sides


def mean_nll(key_logp):
    return -sum(key_logp) / len(key_logp) if key_logp else None


def test_pair_metrics_match_separate_forwards(tiny_llama, chat_tokenizer, held_out_records):
    from transformers import AutoModelForCausalLM

    result = pair_metrics(str(tiny_llama), held_out_records, batch_size=3, device="cpu")
    per_pair = result["per_pair"]
    assert result["n_pairs"] == 5 and per_pair["index"] == [0, 1, 3, 4, 5]
    # The identical twin is refused explicitly, not scored as a tie.
    assert result["n_skipped"] == 1 and result["skipped"] == {DROP_IDENTICAL: 1}
    assert "identical" not in per_pair["id"]

    model = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32).eval()
    all_wins, key_wins = [], []
    for k, index in enumerate(per_pair["index"]):
        sides = separate_forward_scores(model, chat_tokenizer, held_out_records[index])
        (c_all, c_keys), (r_all, r_keys) = sides["chosen"], sides["rejected"]
        all_wins.append(1.0 if c_all > r_all else 0.0)
        key_wins.append(1.0 if sum(c_keys) > sum(r_keys) else 0.0)
        assert per_pair["chosen_key_nll"][k] == pytest.approx(mean_nll(c_keys), rel=1e-4)
        assert per_pair["rejected_key_nll"][k] == pytest.approx(mean_nll(r_keys), rel=1e-4)
    assert per_pair["all_win"] == all_wins
    assert per_pair["key_win"] == key_wins
    assert result["pair_accuracy_all"] == pytest.approx(sum(all_wins) / len(all_wins))
    assert result["pair_accuracy_key"] == pytest.approx(sum(key_wins) / len(key_wins))


def test_pair_metrics_do_not_depend_on_batching(tiny_llama, held_out_records):
    one = pair_metrics(str(tiny_llama), held_out_records, batch_size=1, device="cpu")
    many = pair_metrics(str(tiny_llama), held_out_records, batch_size=8, device="cpu")
    for name in ("chosen_key_nll", "rejected_key_nll"):
        assert one["per_pair"][name] == pytest.approx(many["per_pair"][name], rel=1e-4)
    assert one["per_pair"]["all_win"] == many["per_pair"]["all_win"]


def test_max_length_skips_pairs_cut_away(tiny_llama, chat_tokenizer, held_out_records):
    # A limit shorter than every prompt leaves no CoT to score.
    result = pair_metrics(str(tiny_llama), held_out_records, max_length=5, device="cpu")
    assert result["n_pairs"] == 0 and result["n_skipped"] == len(held_out_records)
    assert result["pair_accuracy_all"] is None


def test_report_rows_feed_the_extra_metrics_table():
    from edit_plugin.evaluation.teacher_forced import report_rows
    from edit_plugin.experiment.report import extra_metrics_markdown

    def result(key_wins, nlls):
        per_pair = {"index": [0, 1, 2], "id": ["a", "b", "c"], "key_win": key_wins, "all_win": key_wins,
                    "chosen_key_nll": nlls, "chosen_key_accuracy": [0.5] * 3, "rejected_key_nll": nlls}
        return {**aggregate(per_pair), "n_pairs": 3, "n_skipped": 0, "skipped": {}, "per_pair": per_pair}

    rows, outcomes = [], []
    for condition, seed, res in (("std_cot", 0, result([0.0, 0.0, 1.0], [2.0, None, 1.0])),
                                 ("edit", 0, result([1.0, 1.0, 1.0], [1.0, None, 0.5]))):
        row, outs = report_rows(res, condition, seed, "heldout")
        rows.append(row)
        outcomes += outs
    assert rows[0]["pair_accuracy_key"] == pytest.approx(1 / 3) and rows[0]["accuracy"] is None
    # None values (pair "b" has no chosen key NLL) are not outcomes.
    assert {o["question_id"] for o in outcomes if o["metric"] == "chosen_key_nll"} == {"a", "c"}
    lines = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
             for line in extra_metrics_markdown(rows, outcomes, n_resamples=200).splitlines()
             if line.startswith("| ")}
    assert lines["condition"][1:3] == ["chosen_key_nll", "chosen_key_accuracy"]
    delta = dict(zip(lines["condition"], lines["Δ edit − std_cot"]))
    assert delta["pair_accuracy_key"].startswith("+0.667 [")
    assert delta["chosen_key_nll"].startswith("-0.750 [")
