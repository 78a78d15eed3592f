"""`lm_eval --tasks edit_bbh` with no --include_path: the installed ``.pth``
hook adds our tasks to lm-eval's default index, never over a task lm-eval
ships; ``EDIT_PLUGIN_LM_EVAL_TASKS=0`` and ``pip uninstall`` take it away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from edit_plugin.eval_sets import source
from edit_plugin.lm_eval_index import PTH_NAME, SWITCH_ENV, search_paths, tasks_folder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# Run in a fresh interpreter: the hook acts when lm_eval.tasks is first imported.
INDEX_REPORT = r'''
import json, sys
import edit_plugin.lm_eval_index as hook
if sys.argv[1] == "install":
    hook.install()
from lm_eval.tasks import TaskManager
index = TaskManager().task_index
def yaml_path(entry):  # a dict up to lm-eval 0.4.11, an Entry object from 0.4.12
    return entry["yaml_path"] if isinstance(entry, dict) else entry.yaml_path
print(json.dumps({name: str(yaml_path(entry)) for name, entry in index.items()}))
'''


def default_index(install: bool, **env) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", INDEX_REPORT, "install" if install else "no"],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ours_come_first_so_every_other_folder_wins_a_name(tmp_path):
    ours, lm_eval_tasks, mine = tmp_path / "ours", tmp_path / "lm_eval" / "tasks", tmp_path / "mine"
    assert search_paths(None, lm_eval_tasks, ours) == [str(ours), str(lm_eval_tasks) + os.sep]
    assert search_paths(str(mine), lm_eval_tasks, ours) == [str(ours), str(lm_eval_tasks) + os.sep, str(mine)]
    # `--include_path "$(edit-cot tasks-path)"`: indexed once, where the caller put it.
    assert search_paths([str(mine), str(ours)], lm_eval_tasks, ours) == [
        str(lm_eval_tasks) + os.sep, str(mine), str(ours)]


@pytest.fixture(scope="module")
def indexes():
    """lm-eval's own default index, and the one the hook builds."""
    return default_index(install=False, **{SWITCH_ENV: "0"}), default_index(install=True)


def test_the_hook_adds_every_task_of_ours_and_changes_none_of_lm_evals(indexes):
    plain, hooked = indexes
    assert "edit_bbh" not in plain and {"edit_bbh", "edit_bbh_boolean_expressions", "edit_all"} <= set(hooked)
    assert all(hooked[name] == path for name, path in plain.items())  # lm-eval's entries, untouched
    ours = {name for name in hooked if name not in plain}
    assert ours and all(name.startswith("edit_") for name in ours)
    folder = str(tasks_folder())
    assert all(hooked[name] in ("-1", "None") or hooked[name].startswith(folder) for name in ours)


def test_no_name_of_ours_is_a_task_lm_eval_ships(indexes):
    from lm_eval.tasks import TaskManager

    plain, _ = indexes
    ours = set(TaskManager(include_path=str(tasks_folder()), include_defaults=False).task_index)
    assert ours and not ours & set(plain)


def test_the_switch_turns_the_hook_off():
    assert "edit_bbh" not in default_index(install=True, **{SWITCH_ENV: "0"})


def installed_hook() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / PTH_NAME


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data beside the checkout")
def test_plain_lm_eval_run_finds_our_task(tmp_path, tiny_llama):
    """What a user types after `pip install edit-plugin`: no --include_path."""
    assert installed_hook().is_file(), f"{installed_hook()} missing: install the project again (pip install -e .)"
    lm_eval = Path(sys.executable).parent / "lm_eval"
    cmd = [str(lm_eval), "run", "--model", "hf", "--model_args", f"pretrained={tiny_llama},dtype=float32",
           "--tasks", "edit_bbh_boolean_expressions", "--limit", "2", "--device", "cpu",
           "--gen_kwargs", "max_gen_toks=8", "--output_path", str(tmp_path / "out")]
    env = {**os.environ, source.DATA_DIR_ENV: str(SHARED)}
    env.pop(SWITCH_ENV, None)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (results,) = (tmp_path / "out").rglob("results_*.json")
    payload = json.loads(results.read_text())
    assert payload["n-samples"]["edit_bbh_boolean_expressions"]["effective"] == 2
    assert "edit_bbh_boolean_expressions" in payload["results"]
