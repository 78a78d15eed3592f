"""Names are names: a plan's names become folders and files, so they are
checked when the plan is read (the error names the field), and every path
the runner writes or removes is checked to lie inside its folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edit_plugin.experiment.data import ExperimentData
from edit_plugin.experiment.paths import OutsideFolderError, inside, name_problem
from edit_plugin.experiment.plan import PlanError, load_plan, parse_plan
from edit_plugin.experiment.runner import ExperimentError, ExperimentRunner
from edit_plugin.experiment.stages import build_stages

ROOT = Path(__file__).resolve().parents[1]


def minimal(**changes) -> dict:
    raw = {"name": "p", "student": {"recipes": str(ROOT / "recipes" / "smollm2-135m")},
           "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8}},
           "conditions": ["std_cot"], "evaluation": {"benchmarks": [{"name": "ind", "heldout": 4}]}}
    raw.update(changes)
    return raw


@pytest.mark.parametrize("name", ["ind", "BBH-test", "edit_beta_0.25", "edit_lr_5e-4", "a" * 100])
def test_names_that_are_names(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "", "a b", "x\\y", "/abs", "a" * 101, 7,
                                  "-flag", "tab\t"])
def test_names_that_are_not(name):
    assert name_problem(name)


@pytest.mark.parametrize("change, field", [
    ({"name": "../../x"}, "name: '../../x' is not a name"),
    ({"conditions": ["std_cot", "../x"]}, r"conditions\[1\]: '../x' is not a name"),
    ({"custom_conditions": {"a/b": {"like": "edit"}}, "conditions": ["std_cot"]}, "custom_conditions: 'a/b'"),
    ({"custom_conditions": {"mine": {"like": "edit", "pairs": "error:../../x"}}, "conditions": ["mine"]},
     "conditions.mine: the error type of its pairs: '../../x' is not a name"),
    ({"conditions": ["edit_error_../x"]}, "is not a name"),
    ({"evaluation": {"benchmarks": [{"name": "../b", "heldout": 2}]}},
     r"evaluation.benchmarks\[0\].name: '../b' is not a name"),
])
def test_a_plan_with_a_name_that_is_a_path_is_refused_naming_the_field(change, field):
    with pytest.raises(PlanError, match=field):
        parse_plan(minimal(**change))


def test_a_name_from_the_file_name_is_checked_too(tmp_path):
    raw = minimal()
    del raw["name"]
    path = tmp_path / "my plan.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PlanError, match=r"name \(from the plan's file name; set `name:`\)"):
        load_plan(path)


def test_a_dry_run_of_a_plan_named_like_a_path_writes_nothing(tmp_path):
    plan = tmp_path / "plans" / "evil.yml"
    plan.parent.mkdir()
    plan.write_text(yaml.safe_dump(minimal(name="../../escaped")))
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, "-m", "edit_plugin.cli", "experiment", str(plan), "--dry-run"],
                          cwd=work, capture_output=True, text=True)
    assert done.returncode == 1 and "name: '../../escaped' is not a name" in done.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "plans", "plans/evil.yml", "work"]


def test_inside_resolves_dot_dot_without_following_links(tmp_path):
    assert inside(tmp_path / "a" / "b.json", tmp_path) == tmp_path / "a" / "b.json"
    with pytest.raises(OutsideFolderError, match="lies outside"):
        inside(tmp_path / "a" / ".." / ".." / "b.json", tmp_path)
    with pytest.raises(OutsideFolderError):
        inside("/etc/passwd", tmp_path, tmp_path / "results")


def test_every_path_the_runner_builds_lies_in_its_folders(tmp_path):
    runner = ExperimentRunner(parse_plan(minimal()), tmp_path / "run", results_dir=tmp_path / "results")
    assert runner.outcome_file("s1-teacher-seed0", "ind").is_relative_to(tmp_path / "results")
    for build in (lambda: runner.merged("../../x"), lambda: runner.marker("../../x"),
                  lambda: runner.config_path("../../x"), lambda: runner.outcome_file("m", "../../../b"),
                  lambda: runner.log_path("../../x")):
        with pytest.raises(ExperimentError, match="lies outside"):
            build()
    data = ExperimentData(tmp_path / "data")
    with pytest.raises(OutsideFolderError):
        data.questions("/../../../x")
    with pytest.raises(OutsideFolderError):
        data.pairs("error:/../../../x")


def test_the_runner_removes_no_folder_outside_its_own(tmp_path):
    """A stage whose config points its output outside the work folder (no
    plan can, but a bug could) is refused before anything is removed."""
    runner = ExperimentRunner(parse_plan(minimal()), tmp_path / "run")
    stage = build_stages(runner.plan, runner.out, ExperimentData(tmp_path / "run" / "data"), "BASE")[0]
    keep = tmp_path / "precious"
    (keep / "sub").mkdir(parents=True)
    stage.config["output_dir"] = str(runner.out / ".." / "precious")
    with pytest.raises(ExperimentError, match="lies outside"):
        runner._train(stage)
    assert (keep / "sub").is_dir()
