"""Experiment plans, conditions and the stages derived from them (no training)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edit_plugin.experiment.conditions import CONDITIONS, condition, select_pairs
from edit_plugin.experiment.data import ExperimentData
from edit_plugin.experiment.plan import PlanError, load_plan, parse_plan
from edit_plugin.experiment.stages import build_stages, model_of

ROOT = Path(__file__).resolve().parents[1]


def minimal(**changes) -> dict:
    raw = {"student": {"recipes": str(ROOT / "recipes" / "smollm2-135m")},
           "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8}},
           "conditions": ["std_cot", "edit", {"dpo": [2]}], "seeds": [1, 2],
           "evaluation": {"benchmarks": [{"name": "ind", "heldout": 4}]}}
    raw.update(changes)
    return raw


def test_conditions_say_what_they_train_on():
    assert CONDITIONS["std_cot"].stage1 == "teacher" and CONDITIONS["std_cot"].stage2 is None
    assert CONDITIONS["edit"].stage1 == "all_correct" and CONDITIONS["edit"].stage2 == "krsl"
    assert (CONDITIONS["edit"].alpha, CONDITIONS["edit"].beta) == (1.0, 0.025)
    assert CONDITIONS["edit_correct_only"].beta == 0.0 and CONDITIONS["edit_incorrect_only"].alpha == 0.0
    assert CONDITIONS["edit_wo_rwc"].stage1 == "teacher" and CONDITIONS["edit_wo_rwc"].pairs == "corrupted"
    assert condition("edit_error_logic").pairs == "error:logic"
    assert all(c.description for c in CONDITIONS.values())
    custom = condition("edit_b01", {"edit_b01": {"like": "edit", "beta": 0.1}})
    assert (custom.stage2, custom.beta, custom.alpha) == ("krsl", 0.1, 1.0)
    with pytest.raises(ValueError, match="unknown condition 'edt'"):
        condition("edt")
    with pytest.raises(ValueError, match="not both 0"):
        condition("x", {"x": {"like": "edit", "alpha": 0, "beta": 0}})


def test_select_pairs():
    rows = [{"source": "rectified", "error_type": "logic"}, {"source": "corrupted", "error_type": "knowledge"}]
    assert select_pairs(rows, "all") == rows
    assert select_pairs(rows, "corrupted") == rows[1:]
    assert select_pairs(rows, "error:logic") == rows[:1]


@pytest.mark.parametrize("change, message", [
    ({"conditions": ["std_cot", "std_cot"]}, "listed twice"),
    ({"conditions": ["sdt_cot"]}, "unknown condition"),
    ({"seeds": [1, 1]}, "repeated seeds"),
    ({"overrides": {"stage3": {}}}, "overrides: unknown keys"),
    ({"data": {"synthetic": {"tasks": ["nope"], "questions_per_task": 2}}}, "unknown"),
    ({"data": {"dir": "x", "synthetic": {"tasks": ["object_counting"], "questions_per_task": 2}}}, "exactly one"),
    ({"evaluation": {"benchmarks": [{"name": "a", "heldout": 2, "lm_eval": ["edit_bbh"]}]}}, "exactly one of"),
    ({"evaluation": {"benchmarks": [{"name": "a", "heldout": 2}, {"name": "a", "heldout": 3}]}}, "repeated names"),
    ({"evalution": {}}, "unknown keys"),
])
def test_plan_errors_name_the_key(change, message):
    with pytest.raises(PlanError, match=message):
        parse_plan(minimal(**change))


def test_stages_share_stage1_and_derive_configs(tmp_path):
    plan = parse_plan(minimal(overrides={"all": {"sequence_len": 256}, "stage2": {"num_epochs": 3}}))
    stages = build_stages(plan, tmp_path, ExperimentData(tmp_path / "data"), "BASE")
    ids = [s.id for s in stages if s.kind == "train"]
    # Seed-major; edit and dpo share the D+ ∪ D-+ stage 1 of seed 2.
    assert ids == ["s1-teacher-seed1", "s1-all_correct-seed1", "s2-edit-seed1",
                   "s1-teacher-seed2", "s1-all_correct-seed2", "s2-edit-seed2", "s2-dpo-seed2"]
    by_id = {s.id: s for s in stages}
    recipe = yaml.safe_load((ROOT / "recipes" / "smollm2-135m" / "krsl.yml").read_text())
    s1, krsl, dpo = by_id["s1-teacher-seed1"].config, by_id["s2-edit-seed1"].config, by_id["s2-dpo-seed2"].config
    assert s1["base_model"] == "BASE" and s1["seed"] == 1 and s1["sequence_len"] == 256
    assert s1["datasets"] == [{"path": str(tmp_path / "data" / "sft_teacher.jsonl"), "type": "edit_plugin.dual_cot.sft"}]
    assert krsl["base_model"] == str(tmp_path / "models" / "s1-all_correct-seed1" / "merged")
    assert krsl["edit_krsl"] is True and (krsl["edit_alpha"], krsl["edit_beta"]) == (1.0, 0.025)
    assert krsl["learning_rate"] == recipe["learning_rate"] and krsl["num_epochs"] == 3
    assert dpo["rl"] == "dpo" and dpo["edit_krsl"] is False and dpo["num_epochs"] == 3
    assert dpo["learning_rate"] == recipe["learning_rate"]
    assert model_of(plan, "std_cot", 1) == "s1-teacher-seed1" and model_of(plan, "edit", 2) == "s2-edit-seed2"
    evals = [s for s in stages if s.kind == "eval"]
    assert {s.model for s in evals} == {"s1-teacher-seed1", "s2-edit-seed1", "s1-teacher-seed2",
                                        "s2-edit-seed2", "s2-dpo-seed2"}


def test_shipped_plans_load():
    for name in ("paper.yml", "cpu.yml"):
        plan = load_plan(ROOT / "experiments" / name)
        assert {"std_cot", "edit", "dpo", "edit_wo_krsl"} <= set(plan.conditions)


def test_paper_plan_dry_run_without_data(tmp_path):
    """The paper's plan prints every stage with its config before any data exists."""
    out = subprocess.run([sys.executable, "-m", "edit_plugin.cli", "experiment", str(ROOT / "experiments" / "paper.yml"),
                          "--dry-run", "--out", str(tmp_path / "run")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for condition_name in ("std_cot_repeat", "std_cot_dual", "dpo", "edit", "edit_wo_rwc",
                           "edit_correct_only", "edit_incorrect_only"):
        assert f"s2-{condition_name}-seed42" in text or condition_name in ("std_cot_repeat",)
    assert "s1-repeat-seed42" in text and "? (data not built)" in text
    assert "base_model: meta-llama/Llama-2-7b-hf" in text and "rl: dpo" in text
    assert "eval-s2-edit-seed42-BBH-test" in text
    assert not (tmp_path / "run").exists()  # nothing was run or written


def test_every_training_stage_has_its_own_folders(tmp_path):
    names = ["std_cot", "edit_wo_krsl", "std_cot_dual", "dpo", "edit", "edit_wo_rwc", "edit_correct_only",
             "edit_incorrect_only", "edit_error_logic"]
    plan = parse_plan(minimal(conditions=names, seeds=[1, 2]))
    stages = [s for s in build_stages(plan, tmp_path, ExperimentData(tmp_path / "data"), "BASE") if s.kind == "train"]
    for key in ("output_dir", "dataset_prepared_path"):
        folders = [s.config[key] for s in stages]
        assert len(set(folders)) == len(folders), key
        assert all(Path(f).name == s.id for f, s in zip(folders, stages)) or key == "dataset_prepared_path"
    by_id = {s.id: s for s in stages}
    # Stage 2 of std_cot_dual is SFT on the same pairs, batch and epochs as KRSL.
    dual, krsl = by_id["s2-std_cot_dual-seed1"].config, by_id["s2-edit-seed1"].config
    assert dual["datasets"][0]["type"] == "edit_plugin.dual_cot.sft"
    assert dual["datasets"][0]["path"] == krsl["datasets"][0]["path"]
    assert all(dual[k] == krsl[k] for k in ("learning_rate", "num_epochs", "micro_batch_size"))
    assert not any(k.startswith("edit_") and k != "edit_krsl" for k in dual) and dual["edit_krsl"] is False
    assert by_id["s2-edit_wo_rwc-seed1"].config["base_model"].endswith("s1-teacher-seed1/merged")
    assert by_id["s2-edit_wo_rwc-seed1"].config["datasets"][0]["path"].endswith("pairs_corrupted.jsonl")
    assert by_id["s2-edit_error_logic-seed1"].config["datasets"][0]["path"].endswith("pairs_error-logic.jsonl")


def test_dpo_without_chat_template_uses_the_plain_transform(tmp_path):
    plan = parse_plan(minimal(conditions=["dpo"], seeds=[1]))
    stages = build_stages(plan, tmp_path, ExperimentData(tmp_path / "data"), "BASE", chat_template=False)
    dpo = next(s for s in stages if s.id == "s2-dpo-seed1").config
    assert dpo["datasets"][0]["type"] == "edit_plugin.dpo_plain"


def test_steps_count_as_axolotl_does(tmp_path):
    plan = parse_plan(minimal(conditions=["std_cot"], seeds=[1],
                              overrides={"stage1": {"micro_batch_size": 8, "num_epochs": 2}}))
    stage = build_stages(plan, tmp_path, ExperimentData(tmp_path / "data"), "BASE")[0]
    stage.rows = 180
    assert stage.steps == 45  # ceil(180 * 2 / 8), not ceil(180 / 8) * 2 = 46


@pytest.mark.parametrize("change, message", [
    ({"overrides": {"all": {"seed": 3}}}, "set by the runner"),
    ({"overrides": {"stage2": {"output_dir": "x"}}}, "set by the runner"),
    ({"conditions": ["teacher"]}, "unknown condition|scored teacher"),
    ({"evaluation": {"benchmarks": [{"name": "heldout_pairs", "heldout": 2}]}}, "teacher-forced"),
    ({"evaluation": {"benchmarks": [{"name": "a", "heldout": 2}], "teacher": {"backnd": "vllm"}}}, "unknown keys"),
])
def test_reserved_names_and_keys(change, message):
    with pytest.raises(PlanError, match=message):
        parse_plan(minimal(**change))


def test_a_changed_plan_does_not_reuse_finished_work(tmp_path):
    """A finished stage whose config changed since is an error, also when all
    of its evaluations are done (nothing would be trained again)."""
    import json

    from edit_plugin.experiment.runner import ExperimentError, ExperimentRunner

    raw = minimal(conditions=["std_cot"], seeds=[1])
    runner = ExperimentRunner(parse_plan(raw), tmp_path / "run")
    runner.base_model = "BASE"
    runner.data = ExperimentData(tmp_path / "data")
    stages = build_stages(runner.plan, runner.out, runner.data, "BASE")
    runner.stages = {s.id: s for s in stages}
    for stage in stages:
        stage.benchmark_kind = "questions"
        record = runner._record(stage)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"fingerprint": runner.fingerprint(stage)}))
        if stage.kind == "eval":
            runner.outcome_file(stage.model, stage.benchmark).write_text("")
    assert runner._todo(stages) == []

    changed = ExperimentRunner(parse_plan({**raw, "overrides": {"stage1": {"learning_rate": 1.0e-4}}}), tmp_path / "run")
    changed.base_model, changed.data = "BASE", runner.data
    stages = build_stages(changed.plan, changed.out, changed.data, "BASE")
    changed.stages = {s.id: s for s in stages}
    with pytest.raises(ExperimentError, match="s1-teacher-seed1 finished with another config"):
        changed._todo(stages)


def test_evaluation_files_that_overlap_training_are_refused(tmp_path):
    from edit_plugin.experiment.data import prepare_data
    from edit_plugin.files.jsonl import write_records
    from edit_plugin.synthetic.teacher import synthetic_teacher_run

    dual, _, _ = synthetic_teacher_run("object_counting", 8, seed=0, mistake_rate=0.25)
    leaked = tmp_path / "leaked.jsonl"
    # The same question under another task description is still a training question.
    write_records(leaked, [{"prompt": dual[0]["prompt"].replace("Questions that involve", "Other words:"),
                            "answer": dual[0]["answer"]}])
    plan = parse_plan(minimal(evaluation={"benchmarks": [{"name": "mine", "questions": str(leaked)}]}))
    with pytest.raises(PlanError, match="1 of 1 questions are training questions"):
        prepare_data(plan, tmp_path / "data")


def test_custom_stage2_overrides_for_a_sweep(tmp_path):
    custom = {"edit_lr": {"like": "edit", "stage2_overrides": {"learning_rate": 5.0e-4, "num_epochs": 2}}}
    plan = parse_plan(minimal(conditions=["edit", "edit_lr"], seeds=[1], custom_conditions=custom))
    by_id = {s.id: s for s in build_stages(plan, tmp_path, ExperimentData(tmp_path / "data"), "BASE")}
    assert by_id["s2-edit_lr-seed1"].config["learning_rate"] == 5.0e-4
    assert by_id["s2-edit_lr-seed1"].config["num_epochs"] == 2
    assert by_id["s2-edit-seed1"].config["learning_rate"] != 5.0e-4
    assert by_id["s2-edit_lr-seed1"].config["base_model"] == by_id["s2-edit-seed1"].config["base_model"]
    with pytest.raises(PlanError, match="set by the runner"):
        parse_plan(minimal(conditions=["x"], custom_conditions={"x": {"like": "edit", "stage2_overrides": {"seed": 1}}}))
    with pytest.raises(PlanError, match="no stage 2"):
        parse_plan(minimal(conditions=["x"], custom_conditions={"x": {"like": "std_cot", "stage2_overrides": {"a": 1}}}))


def test_a_development_set_of_pairs_is_disjoint_from_the_reported_one(tmp_path):
    from edit_plugin.experiment.data import prepare_data
    from edit_plugin.text.schema import iter_records

    def pairs(teacher_forced, name):
        evaluation = {"benchmarks": [], "teacher_forced": teacher_forced}
        data = prepare_data(parse_plan(minimal(name=name, evaluation=evaluation)), tmp_path / "data")
        return [r["prompt"] for r in iter_records(data.heldout_pairs)], data

    reported, data = pairs(5, "report")
    development, dev_data = pairs({"pairs": 5, "seed": 7}, "sweep")
    assert len(reported) == len(development) == 5
    assert not set(reported) & set(development)
    # One training folder, one evaluation folder per plan.
    assert data.folder == dev_data.folder and data.eval_folder != dev_data.eval_folder
    train = {r["prompt"] for r in iter_records(data.stage1("all_correct"), fields=("prompt",))}
    assert not (set(reported) | set(development)) & train


def test_a_development_set_of_questions_is_disjoint_from_the_reported_one(tmp_path):
    from edit_plugin.experiment.data import prepare_data
    from edit_plugin.text.schema import iter_records

    def questions(spec, name):
        evaluation = {"benchmarks": [{"name": "ind", "heldout": 6, **spec}]}
        data = prepare_data(parse_plan(minimal(name=name, evaluation=evaluation)), tmp_path / "data")
        return [r["prompt"] for r in iter_records(data.questions("ind"), fields=("prompt",))], data

    reported, data = questions({}, "report")
    development, _ = questions({"seed": 7}, "sweep")
    assert len(reported) == len(development) == len(set(development)) > 0
    assert not set(reported) & set(development)
    train = {r["prompt"] for r in iter_records(data.stage1("all_correct"), fields=("prompt",))}
    assert not (set(reported) | set(development)) & train
    with pytest.raises(PlanError, match="`seed`"):
        parse_plan(minimal(evaluation={"benchmarks": [{"name": "b", "lm_eval": ["x"], "seed": 7}]}))


def test_extra_baselines_must_be_conditions_of_the_plan():
    plan = parse_plan(minimal(evaluation={"benchmarks": [], "extra_baselines": ["edit"]}))
    assert plan.extra_baselines == ["edit"]
    with pytest.raises(PlanError, match="extra_baselines"):
        parse_plan(minimal(evaluation={"benchmarks": [], "extra_baselines": ["edit_wo_krsl"]}))
