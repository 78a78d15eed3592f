"""`--dry-run` tells the truth: every stage of a plan, which conditions each
stage-1 model serves, where on-policy pairs come from, and the real number
of items of each lm-eval benchmark."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from edit_plugin.eval_sets import count_items
from edit_plugin.eval_sets.source import use_data_beside_checkout
from edit_plugin.experiment.plan import load_plan
from edit_plugin.experiment.runner import ExperimentRunner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def shared_data():
    if not (ROOT.parent / "shared" / "data").is_dir():
        pytest.skip("needs ../shared/data")
    use_data_beside_checkout()


def test_lm_eval_benchmarks_count_their_real_documents(shared_data):
    assert count_items(["edit_bbh"]) == 1301
    assert count_items(["edit_bbh_full_object_counting", "edit_bbh_full_boolean_expressions"], limit=100) == 200
    assert count_items(["not_a_task_of_ours"]) is None


def test_the_onpolicy_plan_lists_every_stage(tmp_path, shared_data):
    plan = load_plan(ROOT / "experiments" / "cpu_onpolicy.yml")
    out = io.StringIO()
    stages = ExperimentRunner(plan, tmp_path / "run", results_dir=tmp_path / "results", stream=out).dry_run()
    text = out.getvalue()
    lines = [line for line in text.splitlines() if re.match(r"\[\d+/\d+\]", line)]
    assert len(lines) == len(stages) == 93
    for seed in (1, 2, 3):
        assert f"mine-s1-all_correct-seed{seed} (to run)" in text
        assert (f"s1-all_correct-seed{seed} (to run): stage 1: SFT on all_correct (seed {seed}); serves "
                "edit_wo_krsl, onpolicy_sft, onpolicy_edit, onpolicy_edit_divergence, onpolicy_key_dpo, "
                "edit_more_pairs") in text
    assert "at most 360 rows (made by the mine stage), 45 steps" in text
    # Each stage 2 names the loss its config trains with, overrides included.
    assert "stage 2 of onpolicy_edit: KRSL on onpolicy pairs (seed 1)" in text
    assert "stage 2 of onpolicy_edit_divergence: KRSL, key tokens by divergence on onpolicy pairs" in text
    assert "stage 2 of onpolicy_key_dpo: edit_loss key_dpo on onpolicy pairs" in text
    assert "stage 2 of onpolicy_sft: SFT on onpolicy pairs" in text
    assert "on ood_bbh; 200 items" in text and "on ind; 400 items" in text
    # The mine stage comes before the evaluations that read its held-out pairs; exploratory conditions last.
    ids = [s.id for s in stages]
    assert ids.index("mine-s1-all_correct-seed1") < ids.index("eval-s1-all_correct-seed1-heldout_onpolicy")
    assert ids.index("s2-onpolicy_edit-seed3") < ids.index("s2-onpolicy_key_dpo-seed1")
    assert not (tmp_path / "results").exists()  # a dry run writes nothing there


def test_results_carried_to_a_fresh_machine_show_as_done(tmp_path, shared_data):
    """A committed results folder, a new machine, the same --out: the dry run
    shows the finished stages as done (their fingerprints name the work
    folder's data, which the dry run prepares as the run would)."""
    import shutil

    from edit_plugin.files.jsonl import write_json, write_records

    plan = load_plan(ROOT / "experiments" / "cpu_onpolicy.yml")
    work, results = tmp_path / "run", tmp_path / "results"
    first = ExperimentRunner(plan, work, results_dir=results, stream=io.StringIO())
    first.prepare(dry_run=True)
    stage = first.stages["eval-s1-all_correct-seed1-ind"]
    write_records(first.outcome_file(stage.model, stage.benchmark), [{"question_id": 0, "correct": True}])
    write_json(first._record(stage), {"fingerprint": first.fingerprint(stage)})
    shutil.rmtree(work)  # the machine is gone; the results were committed

    out = io.StringIO()
    ExperimentRunner(plan, work, results_dir=results, stream=out).dry_run()
    text = out.getvalue()
    assert "eval-s1-all_correct-seed1-ind (done)" in text
    assert "eval-s1-all_correct-seed2-ind (to run)" in text


def test_results_and_work_folder_moved_elsewhere_still_resume(tmp_path, shared_data):
    """Fingerprints do not name where the work and results folders lie: a
    committed results folder resumes under any --out and any checkout, and a
    work folder moved elsewhere keeps its finished training stages."""
    import shutil

    from edit_plugin.files.jsonl import write_json, write_records

    plan = load_plan(ROOT / "experiments" / "cpu_onpolicy.yml")
    first = ExperimentRunner(plan, tmp_path / "run", results_dir=tmp_path / "results", stream=io.StringIO())
    first.prepare()
    stage = first.stages["eval-s1-all_correct-seed1-ind"]
    write_records(first.outcome_file(stage.model, stage.benchmark), [{"question_id": 0, "correct": True}])
    write_json(first._record(stage), {"fingerprint": first.fingerprint(stage)})
    write_json(first.marker("s1-all_correct-seed2"), {"fingerprint": first.fingerprint(first.stages["s1-all_correct-seed2"])})
    shutil.move(tmp_path / "results", tmp_path / "checkout" / "results")
    shutil.move(tmp_path / "run", tmp_path / "disk" / "run")

    out = io.StringIO()
    ExperimentRunner(plan, tmp_path / "disk" / "run", results_dir=tmp_path / "checkout" / "results",
                     stream=out).dry_run()
    text = out.getvalue()
    assert "eval-s1-all_correct-seed1-ind (done)" in text
    assert "s1-all_correct-seed2 (done)" in text
    assert "eval-s1-all_correct-seed2-ind (to run)" in text
    # A fresh work folder elsewhere: the committed evaluation is still done.
    out = io.StringIO()
    ExperimentRunner(plan, tmp_path / "elsewhere", results_dir=tmp_path / "checkout" / "results", stream=out).dry_run()
    assert "eval-s1-all_correct-seed1-ind (done)" in out.getvalue()
