"""Stop and resume: KRSL killed after a saved checkpoint and resumed with
`resume_from_checkpoint` ends as the uninterrupted run does (same losses in
trainer_state.json, same adapter); the same seed twice gives the same curve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from edit_plugin.axolotl_runner import axolotl_env, axolotl_executable, run_axolotl, write_config
from edit_plugin.files.jsonl import write_records
from edit_plugin.synthetic.arithmetic import generate_pairs
from tiny_runs import adapter_tensors, log_history, stage_config

pytestmark = pytest.mark.slow


def wait_for_checkpoint(proc: subprocess.Popen, checkpoint: Path, log: Path, timeout: float = 600) -> None:
    """Until ``checkpoint`` is complete: its trainer_state.json, written last, parses."""
    state = checkpoint / "trainer_state.json"
    deadline = time.time() + timeout
    while True:
        assert proc.poll() is None, f"the run ended before {checkpoint.name}:\n{log.read_text()[-3000:]}"
        assert time.time() < deadline, f"no {checkpoint.name} after {timeout} s"
        try:
            json.loads(state.read_text())
            return
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.05)


def test_krsl_killed_after_a_checkpoint_and_resumed_ends_as_the_uninterrupted_run(tmp_path, tiny_llama):
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(16, seed=7))
    settings = dict(
        micro_batch_size=2, num_epochs=1,  # 8 steps
        save_strategy="steps", save_steps=2,
        warmup_ratio=0.25,  # the schedule's state matters too: warm-up, then cosine
        # lora_dropout stays the recipe's 0.05: the resumed run must restore the RNG states.
    )
    whole = stage_config(tmp_path, "krsl", tiny_llama, data, name="whole", **settings)
    cut = stage_config(tmp_path, "krsl", tiny_llama, data, name="cut", **settings)

    run_axolotl("train", whole, tmp_path / "whole.log", "whole", show_progress=False)

    log = tmp_path / "cut.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([axolotl_executable(), "train", str(cut)], stdout=out, stderr=subprocess.STDOUT,
                                env=axolotl_env(), start_new_session=True)
    try:
        wait_for_checkpoint(proc, tmp_path / "cut" / "checkpoint-2", log)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and its training process
        proc.wait()
    assert not (tmp_path / "cut" / "adapter_model.safetensors").exists(), "the run finished before the kill"
    # The same seed twice: the killed run's first steps are the uninterrupted run's.
    assert log_history(tmp_path / "cut" / "checkpoint-2") == log_history(tmp_path / "whole" / "checkpoint-2")

    resume = write_config(cut, tmp_path / "resume.yml",
                          {"resume_from_checkpoint": str(tmp_path / "cut" / "checkpoint-2")})
    resumed_steps = run_axolotl("train", resume, tmp_path / "resume.log", "resume", show_progress=False)
    assert len(resumed_steps) == 6  # steps 3..8 only

    whole_log = log_history(tmp_path / "whole" / "checkpoint-8")
    resumed_log = log_history(tmp_path / "cut" / "checkpoint-8")
    assert len([e for e in whole_log if "loss" in e]) == 8
    # Every logged number at full precision: loss, grad_norm, learning_rate, krsl/*.
    assert resumed_log == whole_log
    whole_adapter, resumed_adapter = adapter_tensors(tmp_path / "whole"), adapter_tensors(tmp_path / "cut")
    assert whole_adapter.keys() == resumed_adapter.keys()
    for name, tensor in whole_adapter.items():
        assert tensor.equal(resumed_adapter[name]), name
