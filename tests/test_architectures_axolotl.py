"""Three architectures the whole way through real `axolotl train`, with the
configs `edit-cot recipe` writes for each tiny student, shrunk for CPU:
2 steps of SFT, `axolotl merge-lora`, 2 steps of KRSL from the merged model.
Phi-3 (fused qkv_proj and gate_up_proj), Qwen2 (its chat template injects a
default system prompt), Mistral (no pad token)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edit_plugin.axolotl_runner import run_axolotl
from edit_plugin.cli import main
from edit_plugin.files.jsonl import write_records
from edit_plugin.synthetic.arithmetic import generate_pairs
from tiny_students import build_student

pytestmark = pytest.mark.slow

# What makes a GPU recipe run in seconds on a CPU.
CPU_SHRINK = {
    "bf16": False, "fp16": False, "tf32": False, "optimizer": "adamw_torch",
    "lora_mlp_kernel": False, "lora_qkv_kernel": False, "lora_o_kernel": False,
    "gradient_checkpointing": False, "sequence_len": 256, "lora_r": 8,
    "micro_batch_size": 2, "gradient_accumulation_steps": 1, "num_epochs": 1, "max_steps": 2,
    "learning_rate": 1.0e-3, "logging_steps": 1, "save_strategy": "no",
}
GPU_ONLY = ("fsdp_version", "fsdp_config", "deepspeed")


def shrunk(recipe: Path, out: Path, **overrides) -> Path:
    cfg = yaml.safe_load(recipe.read_text())
    for key in GPU_ONLY:
        cfg.pop(key, None)
    dataset_path = overrides.pop("dataset_path")
    for dataset in cfg["datasets"]:
        dataset["path"] = str(dataset_path)
    cfg.update(CPU_SHRINK, **overrides)
    out.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


@pytest.mark.parametrize("name", ["phi3", "qwen2", "mistral"])
def test_recipe_then_sft_merge_krsl_through_axolotl(tmp_path, capsys, name):
    from transformers import AutoTokenizer

    student = build_student(name, tmp_path / "student")
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(4, seed=11))

    recipe = tmp_path / "recipe"
    assert main(["recipe", str(student), "--out", str(recipe)]) == 0  # in this process: one start-up less
    printed = capsys.readouterr().out
    pad = yaml.safe_load((recipe / "sft.yml").read_text())["special_tokens"]["pad_token"]
    assert f"pad       {pad}: " in printed

    common = {"dataset_path": data}
    sft = shrunk(recipe / "sft.yml", tmp_path / "sft.yml", base_model=str(student),
                 output_dir=str(tmp_path / "sft"), dataset_prepared_path=str(tmp_path / "prepared-sft"), **common)
    steps = run_axolotl("train", sft, tmp_path / "sft.log", f"{name} sft", show_progress=False)
    assert len(steps) == 2 and all(0 < s["loss"] < 100 for s in steps)
    run_axolotl("merge-lora", sft, tmp_path / "merge.log", f"{name} merge", show_progress=False)
    merged = tmp_path / "sft" / "merged"
    # Training padded with the recipe's pad token (the trainer saves the
    # tokenizer it used; merge-lora copies the base model's files instead).
    assert AutoTokenizer.from_pretrained(tmp_path / "sft").pad_token == pad

    krsl = shrunk(recipe / "krsl.yml", tmp_path / "krsl.yml", base_model=str(merged),
                  output_dir=str(tmp_path / "krsl"), dataset_prepared_path=str(tmp_path / "prepared-krsl"), **common)
    steps = run_axolotl("train", krsl, tmp_path / "krsl.log", f"{name} krsl", show_progress=False)
    assert len(steps) == 2
    for step in steps:
        assert 0 < step["krsl/key_token_fraction"] < 0.5
        assert step["krsl/chosen_key_nll"] > 0 and step["krsl/rejected_key_nll"] > 0
    assert "projecting only the positions the loss reads" in (tmp_path / "krsl.log").read_text()
    assert AutoTokenizer.from_pretrained(tmp_path / "krsl").pad_token == pad
