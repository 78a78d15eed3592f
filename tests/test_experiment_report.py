"""The experiment report on hand-made rows: bootstrap, Table 1, extras, plot."""

from __future__ import annotations

import numpy as np
import pytest

from edit_plugin.experiment.report import (
    extra_metrics_markdown,
    mean_sd,
    paired_bootstrap,
    plot,
    table_markdown,
)


def outcome_map(correct_by_seed: dict[int, list[bool]]) -> dict:
    return {(seed, q): float(c) for seed, values in correct_by_seed.items() for q, c in enumerate(values)}


def outcome_rows(condition, benchmark, correct_by_seed, metric=None):
    rows = [{"condition": condition, "seed": seed, "benchmark": benchmark, "question_id": f"q{q}", "correct": c}
            for (seed, q), c in outcome_map(correct_by_seed).items()]
    if metric:
        for row in rows:
            row["metric"] = metric
    return rows


def result_rows(condition, benchmark, correct_by_seed):
    return [{"condition": condition, "seed": seed, "benchmark": benchmark,
             "accuracy": sum(values) / len(values), "n": len(values)}
            for seed, values in correct_by_seed.items()]


# --- paired_bootstrap -------------------------------------------------------

def test_bootstrap_delta_is_the_pooled_mean_difference():
    a = outcome_map({0: [1, 1, 1, 0], 1: [1, 1, 0, 0]})  # 5 / 8
    b = outcome_map({0: [1, 0, 0, 0], 1: [0, 0, 0, 0]})  # 1 / 8
    delta, low, high = paired_bootstrap(a, b, n_resamples=2000)
    assert delta == pytest.approx(0.5)
    assert low <= delta <= high


def test_bootstrap_uses_only_shared_seeds_and_questions():
    a = outcome_map({0: [1, 1], 1: [1, 1], 2: [0, 0]})
    b = outcome_map({0: [0, 0], 1: [0, 0]})  # seed 2 only in a: left out
    delta, _, _ = paired_bootstrap(a, b, n_resamples=100)
    assert delta == pytest.approx(1.0)
    with pytest.raises(ValueError, match="share no"):
        paired_bootstrap({(0, "q"): 1.0}, {(1, "q"): 0.0})


def test_interval_excludes_zero_for_a_consistent_gain():
    rng = np.random.default_rng(1)
    base = {s: list(rng.random(200) < 0.3) for s in range(3)}
    better = {s: [True if i % 4 == 0 else c for i, c in enumerate(values)] for s, values in base.items()}
    delta, low, high = paired_bootstrap(outcome_map(better), outcome_map(base))
    assert delta > 0 and low > 0


def test_interval_includes_zero_for_noise():
    rng = np.random.default_rng(2)
    a = {s: list(rng.random(100) < 0.5) for s in range(2)}
    b = {s: list(rng.random(100) < 0.5) for s in range(2)}
    delta, low, high = paired_bootstrap(outcome_map(a), outcome_map(b))
    assert low < 0 < high and low <= delta <= high


def test_bootstrap_keeps_the_seeds_of_a_question_together():
    # Each question flips the same way on every seed: with questions resampled
    # whole, the spread is that of 10 questions, not of 10 × 5 cells.
    per_question = [1.0, -1.0] * 5
    a = {(s, q): max(d, 0.0) for s in range(5) for q, d in enumerate(per_question)}
    b = {(s, q): max(-d, 0.0) for s in range(5) for q, d in enumerate(per_question)}
    _, low, high = paired_bootstrap(a, b, n_resamples=4000)
    # Δ per question is ±1, 10 questions: sd of the mean = 1 / sqrt(10) ≈ 0.32.
    assert high - low == pytest.approx(4 * 0.316, rel=0.2)


def test_bootstrap_is_reproducible():
    a = outcome_map({0: [1, 0, 1, 1, 0], 1: [0, 1, 1, 0, 1]})
    b = outcome_map({0: [0, 0, 1, 0, 0], 1: [0, 1, 0, 0, 1]})
    assert paired_bootstrap(a, b, seed=5) == paired_bootstrap(a, b, seed=5)


def test_mean_sd():
    assert mean_sd([0.1, 0.3]) == pytest.approx((0.2, 0.1414213), rel=1e-5)
    assert mean_sd([0.4]) == (0.4, None)


# --- table_markdown -----------------------------------------------------------

def table_lines(text: str) -> dict[str, list[str]]:
    """First table of ``text``: row label -> cells."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


@pytest.fixture
def experiment():
    std = {0: [1, 0, 0, 0] * 25, 1: [1, 1, 0, 0] * 25}  # 25 %, 50 %
    edit = {0: [1, 1, 1, 0] * 25, 1: [1, 1, 1, 1] * 25}  # 75 %, 100 %
    arc_std = {0: [1, 0] * 10}
    arc_edit = {0: [0, 1] * 10}  # same accuracy, opposite questions
    rows = (result_rows("std_cot", "bbh", std) + result_rows("edit", "bbh", edit)
            + result_rows("std_cot", "arc", arc_std) + result_rows("edit", "arc", arc_edit)
            + result_rows("dpo", "bbh", {0: [1, 0] * 50}))
    outcomes = (outcome_rows("std_cot", "bbh", std) + outcome_rows("edit", "bbh", edit)
                + outcome_rows("std_cot", "arc", arc_std) + outcome_rows("edit", "arc", arc_edit)
                + outcome_rows("dpo", "bbh", {0: [1, 0] * 50}))
    return rows, outcomes


def test_table_cells_deltas_and_missing(experiment):
    rows, outcomes = experiment
    text = table_markdown(rows, outcomes, baseline="std_cot", benchmarks=["bbh", "arc"],
                          conditions=["std_cot", "dpo", "edit"], n_resamples=2000)
    table = table_lines(text)
    assert table["condition"] == ["seeds", "bbh", "arc", "Avg"]
    # std_cot: bbh 25 / 50 → 37.5 ± 17.7 over 2 seeds; arc one seed → no sd;
    # Avg over the seeds with every benchmark (seed 0 only): (25 + 50) / 2.
    assert table["std_cot"] == ["1–2", "37.5 ± 17.7", "50.0", "37.5"]
    assert table["edit"] == ["1–2", "87.5 ± 17.7", "50.0", "62.5"]
    # Δ on bbh: 87.5 − 37.5 = +50 points, interval excludes 0 (marked);
    # Δ on arc: 0 with questions swapped, interval includes 0 (not marked);
    # Avg Δ: the mean of the two.
    delta = table["Δ edit − std_cot"]
    assert delta[0] == "1–2"
    assert delta[1].startswith("+50.0 [") and delta[1].endswith("*")
    assert delta[2].startswith("+0.0 [-") and not delta[2].endswith("*")
    assert delta[3].startswith("+25.0 [")
    # dpo has no arc row: "–" for arc, for Avg and for their Δ.
    assert table["dpo"] == ["1", "50.0", "–", "–"]
    assert table["Δ dpo − std_cot"][2:] == ["–", "–"]
    assert "std_cot" in text and "Extra metrics" not in text


def test_delta_pairs_only_the_seeds_both_have(experiment):
    rows, outcomes = experiment
    table = table_lines(table_markdown(rows, outcomes, benchmarks=["bbh"], n_resamples=500))
    # dpo has seed 0 only (50 %); std_cot's seed 0 is 25 %: Δ = +25, one shared seed.
    assert table["Δ dpo − std_cot"][0] == "1"
    assert table["Δ dpo − std_cot"][1].startswith("+25.0 [")


def test_default_order_puts_the_baseline_first(experiment):
    rows, outcomes = experiment
    table = table_lines(table_markdown(rows[::-1], outcomes, n_resamples=100))
    assert list(table)[:2] == ["condition", "std_cot"]


def test_extra_metrics_table(experiment):
    rows, outcomes = experiment
    tf = [{"condition": c, "seed": s, "benchmark": "heldout", "accuracy": None, "n": 3,
           "pair_accuracy_key": v, "chosen_key_nll": nll}
          for c, s, v, nll in (("std_cot", 0, 0.5, 2.0), ("std_cot", 1, 0.7, 1.0), ("edit", 0, 0.9, 0.5))]
    tf_outcomes = (outcome_rows("std_cot", "heldout", {0: [0.0, 1.0, 0.5], 1: [1.0, 1.0, 0.0]}, "pair_accuracy_key")
                   + outcome_rows("edit", "heldout", {0: [1.0, 1.0, 1.0]}, "pair_accuracy_key"))
    text = extra_metrics_markdown(rows + tf, outcomes + tf_outcomes, n_resamples=500)
    table = table_lines(text)
    assert table["condition"] == ["seeds", "pair_accuracy_key", "chosen_key_nll"]
    assert table["std_cot"] == ["2", "0.600 ± 0.141", "1.500 ± 0.707"]
    assert table["edit"] == ["1", "0.900", "0.500"]
    # Δ from seed 0 only: 1.0 − 0.5; no per-pair outcomes for the NLL → "–".
    assert table["Δ edit − std_cot"][1].startswith("+0.500 [")
    assert table["Δ edit − std_cot"][2] == "–"
    assert "dpo" not in table  # no extra metric for dpo
    # The full report appends it; rows without extra metrics have none.
    assert "### Extra metrics" in table_markdown(rows + tf, outcomes + tf_outcomes, n_resamples=100)
    assert extra_metrics_markdown(rows, outcomes) is None


def test_duplicate_result_rows_are_refused(experiment):
    rows, outcomes = experiment
    with pytest.raises(ValueError, match="two result rows"):
        table_markdown(rows + rows[:1], outcomes)


def test_plot_writes_a_png(tmp_path, experiment):
    rows, _ = experiment
    path = plot(rows, tmp_path / "accuracy.png", benchmarks=["bbh", "arc"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_extra_baselines_add_tables_with_deltas_against_them(experiment):
    rows, outcomes = experiment
    text = table_markdown(rows, outcomes, baseline="std_cot", benchmarks=["bbh", "arc"],
                          conditions=["std_cot", "dpo", "edit"], n_resamples=500, extra_baselines=["edit"])
    first, versus_edit = text.split("\n## Versus edit\n")
    assert "Δ edit − std_cot" in first and "− edit |" not in first
    table = table_lines(versus_edit)
    assert table["Δ std_cot − edit"][1].startswith("-50.0 [")
    assert table["Δ dpo − edit"][1].startswith("-25.0 [")  # seed 0 only: dpo 50 %, edit 75 %
    assert "Δ edit − edit" not in table
