"""`make demo` is a one-seed experiment plan: base, SFT and SFT + KRSL on the
families where the student moves, scored with intervals. Its training and
scoring run in `make demo` itself (and in the experiment runner's slow
tests); here: the plan is valid and lists the stages the README promises, and
the maths of its table."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml

from edit_plugin.eval_sets.source import use_data_beside_checkout
from edit_plugin.demo import BBH_TASKS, MODELS, DemoSettings, accuracy_table, demo_plan, pair_table, wilson_interval
from edit_plugin.experiment.plan import load_plan
from edit_plugin.experiment.runner import ExperimentRunner

ROOT = Path(__file__).resolve().parents[1]


def test_wilson_interval_matches_known_values():
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(0.0370, abs=1e-4)
    low, high = wilson_interval(50, 100)
    assert (low, high) == (pytest.approx(0.4038, abs=1e-4), pytest.approx(0.5962, abs=1e-4))
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_accuracy_table_gives_counts_and_intervals_per_model():
    rows = [{"condition": "base", "benchmark": "generated", "accuracy": 0.02, "n": 100},
            {"condition": "edit_wo_krsl", "benchmark": "generated", "accuracy": 0.5, "n": 100},
            {"condition": "edit", "benchmark": "bbh", "accuracy": 0.4, "n": 50},
            {"condition": "edit", "benchmark": "heldout_pairs", "accuracy": None, "n": 48,
             "pair_accuracy_key": 0.75, "chosen_key_nll": 0.5, "rejected_key_nll": 1.25}]
    table = accuracy_table(rows, ["generated", "bbh"])
    assert "| base SmolLM2-135M-Instruct | 2.0% (2/100) [1, 7] | – |" in table
    assert "| SFT (stage 1) | 50.0% (50/100) [40, 60] | – |" in table
    assert "| SFT + KRSL (EDIT) | – | 40.0% (20/50) [28, 54] |" in table
    assert "| SFT + KRSL (EDIT) | 48 | 0.750 | 0.500 | 1.250 |" in pair_table(rows)


def test_the_demo_plan_runs_base_sft_and_krsl_on_one_seed(tmp_path):
    if not (ROOT.parent / "shared" / "data").is_dir():
        pytest.skip("needs ../shared/data")
    use_data_beside_checkout()
    settings = DemoSettings(workdir=tmp_path)
    plan_file = tmp_path / "plan.yml"
    plan_file.write_text(yaml.safe_dump(demo_plan(settings), sort_keys=False))
    plan = load_plan(plan_file)
    assert set(plan.conditions) == set(MODELS) and plan.conditions["edit"] == [settings.seed]
    out = io.StringIO()
    stages = ExperimentRunner(plan, tmp_path / "run", results_dir=tmp_path / "results", stream=out).dry_run()
    text = out.getvalue()
    ids = [s.id for s in stages]
    # One stage 1 serves both SFT and EDIT; one stage 2 (KRSL).
    assert sum(i.startswith("s1-") for i in ids) == 1 and sum(i.startswith("s2-") for i in ids) == 1
    assert "serves edit_wo_krsl, edit" in text
    assert f"on generated; {2 * settings.heldout_per_task} items" in text
    assert f"on bbh; {len(BBH_TASKS) * settings.bbh_limit} items" in text
    assert sum(bool(re.search(r"-heldout_pairs$", i)) for i in ids) == 3
    assert sum(bool(re.search(r"-generated$", i)) for i in ids) == 3
    # Real BBH for the two trained models only (`skip_base`).
    assert sorted(i for i in ids if i.endswith("-bbh")) == ["eval-s1-all_correct-seed1-bbh", "eval-s2-edit-seed1-bbh"]
