"""Teacher-forced metrics on held-out dual-CoT pairs.

At small scale generative accuracy sits near the floor and hides small
effects; scoring the given CoTs token by token does not. Each pair is
tokenised exactly as the KRSL training data is (`tokenize_dual_batch`: chat
template when the tokenizer has one, key tokens from the token-level edit
script), chosen and rejected go through one forward, and per pair we keep:

- ``chosen_key_nll``: mean NLL of the correct CoT's key tokens;
- ``chosen_key_accuracy``: share of those key tokens that are the argmax;
- ``rejected_key_nll``: mean NLL of the wrong CoT's key tokens;
- ``key_win`` / ``all_win``: 1 when the correct CoT is more likely than its
  wrong twin, 0 when less, 0.5 on an exact tie; "more likely" compares the
  sums of log-probs over key tokens (``key``) or over every response token
  (``all``: the CoT and the end-of-turn tokens the training labels hold).

A side with no key token (a pure insertion on the other side) has no mean NLL
(None) and a key log-prob sum of 0: the empty product, probability 1.

The maths (`sequence_scores_from_rows`, `pair_outcomes`, `aggregate`) is pure
torch / Python on tensors and lists; `pair_metrics` is the glue that loads a
model. The forward projects only the response tokens' hidden states onto the
vocabulary, as stage 2 does (`edit_plugin.row_logits`; the full logits for a
head it does not know).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

import torch

from edit_plugin.core.columns import IGNORE_INDEX
from edit_plugin.core.token_rows import SideRows, response_positions, rows_from_logits, side_rows, token_nll
from edit_plugin.dual_cot.tokenize import tokenize_dual_batch
from edit_plugin.row_logits import log_path_once, next_token_logits, unknown_head_reason

PER_PAIR_METRICS = ("chosen_key_nll", "chosen_key_accuracy", "rejected_key_nll", "key_win", "all_win")
# per-pair metric -> name of its aggregate in the `pair_metrics` result
AGGREGATE_NAMES = {
    "chosen_key_nll": "chosen_key_nll",
    "chosen_key_accuracy": "chosen_key_accuracy",
    "rejected_key_nll": "rejected_key_nll",
    "key_win": "pair_accuracy_key",
    "all_win": "pair_accuracy_all",
}


@dataclass
class SequenceScores:
    """Per-sequence sums over response tokens, each a float tensor [B]."""

    key_logprob: torch.Tensor  # sum of log p(label) over key tokens
    key_count: torch.Tensor
    key_hits: torch.Tensor  # key tokens whose argmax is the label
    response_logprob: torch.Tensor  # sum of log p(label) over all response tokens
    response_count: torch.Tensor


def sequence_scores(logits: torch.Tensor, labels: torch.Tensor, key_mask: torch.Tensor) -> SequenceScores:
    """Per-row log-prob sums of ``labels`` under full ``logits``.

    ``logits`` [B, T, V] are aligned with ``labels`` [B, T] (``logits[:, t]``
    predicts ``labels[:, t]``; -100 is not a response token) and ``key_mask``
    [B, T] marks key tokens on the same positions.
    """
    response = response_positions(labels)
    return sequence_scores_from_rows(rows_from_logits(logits, labels, response), key_mask.bool()[response])


def sequence_scores_from_rows(rows: SideRows, is_key: torch.Tensor) -> SequenceScores:
    """Per-sequence sums from the logit rows of every response token (``rows``)
    and which of those rows are key tokens (``is_key`` [K])."""
    # One log-softmax pass over all response tokens; key tokens are a subset.
    nll, hits = token_nll(rows.logits, rows.targets)

    def per_row(values: torch.Tensor) -> torch.Tensor:
        values = values.to(torch.float64)
        return torch.zeros(rows.batch_size, dtype=torch.float64, device=values.device).index_add(
            0, rows.sample, values)

    logprob = -nll
    return SequenceScores(
        key_logprob=per_row(logprob * is_key),
        key_count=per_row(is_key),
        key_hits=per_row(hits & is_key),
        response_logprob=per_row(logprob),
        response_count=per_row(torch.ones_like(logprob)),
    )


def _win(chosen: float, rejected: float) -> float:
    return 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0


def pair_outcomes(chosen: SequenceScores, rejected: SequenceScores) -> dict[str, list]:
    """Per-pair metrics (lists of the module docstring's names) from the scores
    of row i of ``chosen`` and row i of ``rejected``; None where a side has no
    key token."""
    c, r = _as_lists(chosen), _as_lists(rejected)
    out: dict[str, list] = {name: [] for name in PER_PAIR_METRICS}
    for i in range(len(c["key_count"])):
        c_keys, r_keys = c["key_count"][i], r["key_count"][i]
        out["chosen_key_nll"].append(-c["key_logprob"][i] / c_keys if c_keys else None)
        out["chosen_key_accuracy"].append(c["key_hits"][i] / c_keys if c_keys else None)
        out["rejected_key_nll"].append(-r["key_logprob"][i] / r_keys if r_keys else None)
        out["key_win"].append(_win(c["key_logprob"][i], r["key_logprob"][i]))
        out["all_win"].append(_win(c["response_logprob"][i], r["response_logprob"][i]))
    return out


def _as_lists(scores: SequenceScores) -> dict[str, list[float]]:
    return {name: getattr(scores, name).tolist() for name in SequenceScores.__dataclass_fields__}


def aggregate(per_pair: dict[str, list]) -> dict[str, float | None]:
    """Mean of each per-pair metric over the pairs where it is defined (a mean
    of per-pair means, so a bootstrap over pairs resamples the same number);
    None when no pair defines it."""
    out = {}
    for name, aggregate_name in AGGREGATE_NAMES.items():
        values = [v for v in per_pair[name] if v is not None]
        out[aggregate_name] = sum(values) / len(values) if values else None
    return out


# --- glue ---------------------------------------------------------------

def tokenize_pairs(tokenizer, records: list[dict], max_length: int | None = None):
    """(kept rows of `tokenize_dual_batch` with their record index, drop reason
    per skipped record index). Pairs that KRSL training would drop (identical
    CoTs, CoT cut away by ``max_length``, no key token left) are skipped, not
    scored: they have no key tokens to compare."""
    results = tokenize_dual_batch(
        tokenizer, [r["prompt"] for r in records], [r["chosen"] for r in records],
        [r["rejected"] for r in records], max_length if max_length is not None else sys.maxsize,
    )
    kept = [(i, row) for i, (row, _) in enumerate(results) if row is not None]
    skipped = {i: reason for i, (row, reason) in enumerate(results) if row is None}
    return kept, skipped


def collate_pairs(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded [chosen rows; rejected rows] of one common length: one forward."""
    sides = [(r["input_ids"], r["labels"], r["chosen_key_mask"]) for r in rows]
    sides += [(r["rejected_input_ids"], r["rejected_labels"], r["rejected_key_mask"]) for r in rows]
    width = max(len(ids) for ids, _, _ in sides)

    def pad(seq, value):
        return list(seq) + [value] * (width - len(seq))

    return {
        "input_ids": torch.tensor([pad(ids, pad_id) for ids, _, _ in sides]),
        "attention_mask": torch.tensor([pad([1] * len(ids), 0) for ids, _, _ in sides]),
        "labels": torch.tensor([pad(labels, IGNORE_INDEX) for _, labels, _ in sides]),
        "key_mask": torch.tensor([pad(mask, 0) for _, _, mask in sides]),
    }


@torch.inference_mode()
def score_batch(model, batch: dict[str, torch.Tensor]) -> dict[str, list]:
    """Per-pair outcomes of one collated batch (first half chosen, second rejected)."""
    device = next(model.parameters()).device
    labels = batch["labels"][:, 1:].to(device)  # position t predicts token t + 1
    response = response_positions(labels)
    full_reason = unknown_head_reason(model)
    log_path_once("teacher-forced metrics", full_reason)
    logits = next_token_logits(model, batch["input_ids"].to(device), batch["attention_mask"].to(device),
                               response, full_reason=full_reason)
    is_key = batch["key_mask"][:, 1:].to(device).bool()[response]
    scores = sequence_scores_from_rows(side_rows(logits.rows, labels, response), is_key)
    half = batch["input_ids"].shape[0] // 2
    chosen = SequenceScores(*(getattr(scores, f)[:half] for f in SequenceScores.__dataclass_fields__))
    rejected = SequenceScores(*(getattr(scores, f)[half:] for f in SequenceScores.__dataclass_fields__))
    return pair_outcomes(chosen, rejected)


def pair_metrics(model_path: str, records: list[dict], batch_size: int = 8,
                 max_length: int | None = None, device: str | None = None) -> dict:
    """Teacher-forced metrics of the model at ``model_path`` on dual-CoT records.

    Returns the aggregates ``chosen_key_nll``, ``chosen_key_accuracy``,
    ``rejected_key_nll``, ``pair_accuracy_key``, ``pair_accuracy_all`` (None
    when no pair defines them), ``n_pairs`` (scored), ``n_skipped``,
    ``skipped`` (drop reason -> count), and ``per_pair``: ``index`` (position
    in ``records``), ``id`` (the record's ``id``, else its index, as a string)
    and one list per metric of `PER_PAIR_METRICS`, aligned, for a paired
    bootstrap across models.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).to(device).eval()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    kept, skipped = tokenize_pairs(tokenizer, records, max_length)
    per_pair: dict[str, list] = {"index": [i for i, _ in kept],
                                 "id": [str(records[i].get("id", i)) for i, _ in kept]}
    per_pair.update({name: [] for name in PER_PAIR_METRICS})
    for start in range(0, len(kept), batch_size):
        batch = collate_pairs([row for _, row in kept[start:start + batch_size]], pad_id)
        for name, values in score_batch(model, batch).items():
            per_pair[name].extend(values)
    return {
        **aggregate(per_pair),
        "n_pairs": len(kept),
        "n_skipped": len(skipped),
        "skipped": dict(Counter(skipped.values())),
        "per_pair": per_pair,
    }


# --- into the experiment report's rows ----------------------------------

def report_rows(result: dict, condition: str, seed: int, benchmark: str) -> tuple[dict, list[dict]]:
    """(result row, outcome rows) of one `pair_metrics` result in the layout of
    `edit_plugin.experiment.report`: the row carries the aggregates as extra
    metric columns (``accuracy`` None: nothing was generated), and each
    outcome's ``metric`` is the aggregate's name, so the report pairs the two."""
    row = {"condition": condition, "seed": seed, "benchmark": benchmark, "accuracy": None,
           "n": result["n_pairs"], **{name: result[name] for name in AGGREGATE_NAMES.values()}}
    per_pair = result["per_pair"]
    outcomes = [
        {"condition": condition, "seed": seed, "benchmark": benchmark, "question_id": pair_id,
         "metric": aggregate_name, "correct": value}
        for name, aggregate_name in AGGREGATE_NAMES.items()
        for pair_id, value in zip(per_pair["id"], per_pair[name]) if value is not None
    ]
    return row, outcomes
