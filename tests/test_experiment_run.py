"""`edit-cot experiment` end to end on a tiny random Llama: std_cot, edit and
dpo (Axolotl's rl: dpo), one seed, killed after its first stage and started
again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def write_plan(tmp_path: Path, model: Path) -> Path:
    plan = {
        "name": "tiny",
        "student": {"recipes": str(ROOT / "recipes" / "smollm2-135m"), "base_model": str(model)},
        "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8, "mistake_rate": 0.25}},
        "conditions": ["std_cot", "edit", "dpo"],
        "seeds": [0],
        "overrides": {"all": {"micro_batch_size": 4, "num_epochs": 1, "learning_rate": 1.0e-2,
                              "warmup_ratio": 0.0, "sequence_len": 256}},
        "evaluation": {"max_new_tokens": 8, "batch_size": 4, "teacher_forced": 3, "benchmarks": [
            {"name": "ind", "heldout": 3},
            {"name": "bbh", "lm_eval": ["edit_bbh_full_object_counting"], "limit": 2}]},
    }
    path = tmp_path / "tiny.yml"
    path.write_text(yaml.safe_dump(plan))
    return path


def start(plan: Path, out: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "EDIT_DATA_DIR": str(ROOT.parent / "shared" / "data")}
    return subprocess.Popen([sys.executable, "-m", "edit_plugin.cli", "experiment", str(plan), "--out", str(out)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def test_experiment_runs_killed_and_resumed(tmp_path, tiny_llama):
    plan, out = write_plan(tmp_path, tiny_llama), tmp_path / "run"
    first_marker = out / "stages" / "s1-teacher-seed0.json"

    proc = start(plan, out, tmp_path / "first.log")
    deadline = time.time() + 600
    while not first_marker.exists():
        assert proc.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.time() < deadline
        time.sleep(1)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: axolotl too
    proc.wait()
    done_at = first_marker.stat().st_mtime

    proc = start(plan, out, tmp_path / "second.log")
    assert proc.wait(timeout=900) == 0, (tmp_path / "second.log").read_text()[-3000:]
    log = (tmp_path / "second.log").read_text()
    assert "1 done or not needed" in log
    assert "s1-teacher-seed0: stage 1" not in log  # not trained again
    assert first_marker.stat().st_mtime == done_at

    results = [json.loads(line) for line in (out / "results" / "results.jsonl").read_text().splitlines()]
    cells = {(r["condition"], r["benchmark"]) for r in results}
    assert cells == {(c, b) for c in ("std_cot", "edit", "dpo") for b in ("ind", "bbh", "heldout_pairs")}
    for row in results:
        assert row["seed"] == 0 and row["n"] > 0
        if row["benchmark"] == "heldout_pairs":
            assert 0.0 <= row["pair_accuracy_all"] <= 1.0 and row["chosen_key_nll"] > 0
        else:
            assert 0.0 <= row["accuracy"] <= 1.0
    assert {r["n"] for r in results if r["benchmark"] == "bbh"} == {2}
    table = (out / "results" / "table.md").read_text()
    assert "Δ edit − std_cot" in table or "edit − std_cot" in table
    assert (out / "results" / "accuracy.png").stat().st_size > 0
    # Stage-2 models were freed after scoring; their adapters stay.
    for model in ("s2-edit-seed0", "s2-dpo-seed0"):
        assert not (out / "models" / model / "merged").exists()
        assert (out / "models" / model / "adapter_config.json").exists()
    # edit and dpo started from the same stage-1 model; DPO logged its rewards.
    dpo_log = (out / "logs" / "s2-dpo-seed0.log").read_text()
    assert "rewards/chosen" in dpo_log
    for model in ("s2-edit-seed0", "s2-dpo-seed0"):
        config = yaml.safe_load((out / "configs" / f"{model}.yml").read_text())
        assert config["base_model"] == str(out / "models" / "s1-all_correct-seed0" / "merged")

    # A third run finds everything done and trains nothing.
    proc = start(plan, out, tmp_path / "third.log")
    assert proc.wait(timeout=300) == 0
    third = (tmp_path / "third.log").read_text()
    assert "[1/" not in third


def test_a_half_written_merge_is_merged_again(tmp_path, tiny_llama):
    """`axolotl merge-lora` writes config.json before the weights: a merge cut
    short by a kill leaves a folder with config.json alone. The next run must
    merge again (the completion marker is missing), not score that folder;
    a complete merge is used as it is."""
    raw = yaml.safe_load(write_plan(tmp_path, tiny_llama).read_text())
    raw["conditions"] = ["std_cot"]
    raw["evaluation"] = {"max_new_tokens": 8, "batch_size": 4, "benchmarks": [{"name": "ind", "heldout": 2}]}
    plan, out = tmp_path / "merge.yml", tmp_path / "run"
    plan.write_text(yaml.safe_dump(raw))
    merged, model = out / "models" / "s1-teacher-seed0" / "merged", "s1-teacher-seed0"
    outcome = out / "results" / "outcomes" / model / "ind.jsonl"
    merge_log = out / "logs" / f"{model}-merge.log"

    proc = start(plan, out, tmp_path / "first.log")
    assert proc.wait(timeout=900) == 0, (tmp_path / "first.log").read_text()[-3000:]
    assert (merged / "edit-merge-complete.json").is_file()

    # A merge killed after config.json: no weights, no marker; its evaluation to do again.
    for path in merged.iterdir():
        if path.is_file() and path.name != "config.json":
            path.unlink()
    outcome.unlink()
    outcome.with_suffix(".json").unlink()
    first_merge = merge_log.stat().st_mtime_ns
    proc = start(plan, out, tmp_path / "second.log")
    assert proc.wait(timeout=900) == 0, (tmp_path / "second.log").read_text()[-3000:]
    assert "stage 1: SFT" not in (tmp_path / "second.log").read_text()  # not trained again
    assert merge_log.stat().st_mtime_ns != first_merge  # merged again
    assert (merged / "edit-merge-complete.json").is_file() and any(merged.glob("*.safetensors"))
    assert outcome.is_file()

    # A complete merge is trusted.
    outcome.unlink()
    outcome.with_suffix(".json").unlink()
    second_merge = merge_log.stat().st_mtime_ns
    proc = start(plan, out, tmp_path / "third.log")
    assert proc.wait(timeout=900) == 0, (tmp_path / "third.log").read_text()[-3000:]
    assert merge_log.stat().st_mtime_ns == second_merge and outcome.is_file()
