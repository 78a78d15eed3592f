"""A built wheel is a working tool: installed outside the checkout, it has the
teacher templates, the lm-eval tasks and manifest, and the recipes the demo
and the plans read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "runs", "outputs",
                              ".pytest_cache")

# Run by the installed copy, from a folder with no checkout in sight.
INSTALLED_CHECK = r'''
import sys
from pathlib import Path
import yaml
import edit_plugin
assert Path(edit_plugin.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), edit_plugin.__file__

from edit_plugin.eval_sets.bbh import bbh_exemplars
from edit_plugin.text.teacher_prompts import Triple, ahp_prompt, ccp_prompt, cep_prompt
ex = bbh_exemplars("boolean_expressions")
for text in (cep_prompt("Evaluate.", "not True", ex), ahp_prompt("Evaluate.", "not True", "False", ex),
             ccp_prompt("Evaluate.", "not True", "False", [Triple(e.question, e.cot, "wrong") for e in ex])):
    assert "not True" in text and len(text) > 200

from edit_plugin.eval_sets.bbsub import MANIFEST
from edit_plugin.evaluation.runner import task_manager
names = set(task_manager().all_subtasks) | set(task_manager().all_groups)
assert {"edit_bbh", "edit_bbsub", "edit_agieval", "edit_arc_easy", "edit_arc_challenge"} <= names, sorted(names)[:20]
assert MANIFEST.is_file()

from edit_plugin.demo import DemoSettings
from edit_plugin.recipes_dir import resolve_recipes
for stage in ("sft", "krsl"):
    assert yaml.safe_load((DemoSettings(workdir=Path(".")).recipe_dir / f"{stage}.yml").read_text())["plugins"]
    assert (resolve_recipes("recipes/llama2-7b") / f"{stage}.yml").is_file()

# `edit-cot recipe` ships with the recipes it re-renders.
from edit_plugin.recipes.facts import read_facts
from edit_plugin.recipes.render import render
shipped = resolve_recipes("recipes/phi3-mini")
for name, text in render(read_facts(shipped)).items():
    assert (shipped / name).read_text() == text, name
print("installed copy OK")
'''


def test_wheel_installs_a_working_tool(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=SKIP)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True)
    (wheel,) = (tmp_path / "dist").glob("edit_plugin-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("edit_plugin/templates/cep.txt", "edit_plugin/eval_tasks/bbsub/manifest.json",
                     "edit_plugin/recipes/smollm2-135m/krsl.yml", "edit_plugin/recipes/detect.py",
                     "edit_plugin/recipes/llama2-7b/student.json"):
        assert expected in names
    assert any(n.startswith("edit_plugin/eval_tasks/bbh/") and n.endswith(".yaml") for n in names)

    site = tmp_path / "site"
    subprocess.run(pip + ["install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], check=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run([sys.executable, "-c", INSTALLED_CHECK, str(site)], cwd=outside, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "installed copy OK" in done.stdout
