"""The plugin seeds torch before the LoRA adapter is made: one config run twice
gives the same training, a different seed a different one (`axolotl train`,
SFT stage with LoRA, on the tiny random Llama)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edit_plugin.axolotl_runner import run_axolotl
from edit_plugin.files.jsonl import write_records
from edit_plugin.synthetic.arithmetic import generate_pairs
from tiny_runs import adapter_tensors, stage_config

pytestmark = pytest.mark.slow


def train_sft(tmp: Path, name: str, base_model: Path, data: Path, seed: int):
    """(logged steps, adapter tensors) of one SFT run in its own folders."""
    config = stage_config(tmp, "sft", base_model, data, name=name, num_epochs=1, seed=seed)  # 8 rows: 2 steps
    steps = run_axolotl("train", config, tmp / f"{name}.log", name, show_progress=False)
    return steps, adapter_tensors(tmp / name)


def test_same_seed_same_run_other_seed_other_run(tmp_path, tiny_llama):
    import torch

    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=5))
    steps_a, adapter_a = train_sft(tmp_path, "a", tiny_llama, data, seed=42)
    steps_b, adapter_b = train_sft(tmp_path, "b", tiny_llama, data, seed=42)
    steps_c, adapter_c = train_sft(tmp_path, "c", tiny_llama, data, seed=7)

    assert len(steps_a) == 2
    logged = ("loss", "grad_norm")
    # The step-1 loss does not see the adapter (lora_B starts at 0); its gradient norm does.
    assert [[s[k] for k in logged] for s in steps_a] == [[s[k] for k in logged] for s in steps_b]
    assert adapter_a.keys() == adapter_b.keys() and any("lora_A" in k for k in adapter_a)
    for name, tensor in adapter_a.items():
        assert torch.equal(tensor, adapter_b[name]), name

    assert steps_c[0]["grad_norm"] != steps_a[0]["grad_norm"]
    assert any(not torch.equal(tensor, adapter_c[name]) for name, tensor in adapter_a.items() if "lora_A" in name)
