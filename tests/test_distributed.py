"""Several processes: `axolotl train` with 2 CPU processes (gloo) trains as one
process does with the same global batch, both stages; the CPU device-map
fix, the cross-process mean of the KRSL metrics, the multi-GPU settings
(FSDP2 of the recipes, the DeepSpeed ZeRO-2/3 configs) that pass Axolotl's
validation, and the stage-2 row projection under FSDP2 on 2 CPU processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from unittest import mock

import pytest
import yaml

from edit_plugin.axolotl_runner import run_axolotl
from edit_plugin.files.jsonl import write_records
from edit_plugin.plugin.devices import cpu_process_device_map
from edit_plugin.plugin.metrics import is_stage2_metric, named_for, pack_means, unpack_means
from edit_plugin.synthetic.arithmetic import generate_pairs
from tiny_runs import adapter_tensors, log_history, max_abs_diff, stage_config

ROOT = Path(__file__).resolve().parents[1]
# What 1 and 2 processes may differ by: float32 sums taken in another order
# (measured: losses within a relative 1.2e-7, adapter weights within 1.2e-6).
LOSS_RTOL = 1e-6
WEIGHT_ATOL = 1e-5
# Axolotl rounds the stored metrics it logs to 5 decimals.
LOGGED_ATOL = 2e-5


# --- the CPU device map -------------------------------------------------------

def test_cpu_processes_load_on_cpu_instead_of_an_accelerator_index():
    assert cpu_process_device_map({"": 1}, world_size=2, local_rank=1, accelerator_available=False) == {"": "cpu"}
    assert cpu_process_device_map({"": 0}, world_size=2, local_rank=0, accelerator_available=False) == {"": "cpu"}


@pytest.mark.parametrize("device_map, world_size, local_rank, accelerator", [
    ({"": 1}, 2, 1, True),         # GPUs: Axolotl's map is right
    ("auto", 1, 0, False),         # one process
    ({"": 0}, 1, 0, False),        # one process, whatever the map
    ("auto", 2, 1, False),         # not Axolotl's rank map
    ({"": 0}, 2, 1, False),        # another rank's index
    ({"model": 1, "lm_head": 1}, 2, 1, False),
    (None, 2, 0, False),
])
def test_every_other_device_map_is_left_alone(device_map, world_size, local_rank, accelerator):
    assert cpu_process_device_map(device_map, world_size, local_rank, accelerator) == device_map


def test_the_plugin_fixes_the_map_after_axolotl_normalised_it(monkeypatch):
    from axolotl.utils.dict import DictDefault

    from edit_plugin import EditPlugin

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    cfg = DictDefault({"device_map": {"": 1}})
    with mock.patch("edit_plugin.plugin.devices.accelerator_available", return_value=False):
        assert EditPlugin().load_datasets(cfg, preprocess=False) is None  # Axolotl still loads the data
    assert cfg.device_map == {"": "cpu"}
    with mock.patch("edit_plugin.plugin.devices.accelerator_available", return_value=True):
        cfg = DictDefault({"device_map": {"": 1}})
        EditPlugin().load_datasets(cfg)
    assert cfg.device_map == {"": 1}


# --- the KRSL metrics over processes -----------------------------------------

def test_metrics_are_the_mean_over_every_micro_batch_of_every_process():
    rank0 = {"krsl/chosen_key_nll": [2.0, 4.0], "krsl/key_nll_margin": [1.0, 1.0]}
    rank1 = {"krsl/chosen_key_nll": [6.0, 8.0], "krsl/key_nll_margin": [3.0, 3.0]}
    names0, rows0 = pack_means(rank0)
    names1, rows1 = pack_means(dict(reversed(rank1.items())))  # insertion order does not matter
    assert names0 == names1
    summed = [[a + b for a, b in zip(r0, r1)] for r0, r1 in zip(rows0, rows1)]  # the all-reduce
    assert unpack_means(names0, summed) == {"krsl/chosen_key_nll": 5.0, "krsl/key_nll_margin": 2.0}
    assert unpack_means(*pack_means({"krsl/x": [3.0]})) == {"krsl/x": 3.0}  # one process: unchanged


def test_evaluation_metrics_get_their_own_prefix():
    metrics = {"krsl/chosen_key_nll": 1.5}
    assert named_for(metrics, training=True) == metrics
    assert named_for(metrics, training=False) == {"eval_krsl/chosen_key_nll": 1.5}
    assert is_stage2_metric("krsl/chosen_key_nll") and is_stage2_metric("eval_krsl/chosen_key_nll")
    assert not is_stage2_metric("loss") and not is_stage2_metric("eval_loss")
    assert is_stage2_metric("key_dpo/margin") and is_stage2_metric("eval_key_dpo/margin")


# --- multi-GPU settings: validation only (no GPU, no deepspeed here) --------

GPU_CAPABILITIES = {"bf16": True, "fp8": False, "tf32": True, "n_gpu": 4, "compute_capability": "sm_90"}
PAPER_RECIPES = [ROOT / "recipes" / m / f"{s}.yml" for m in ("llama2-7b", "llama2-13b") for s in ("sft", "krsl")]


def validate_on_gpus(raw: dict):
    import torch
    from axolotl.utils.config import prepare_plugins, validate_config
    from axolotl.utils.dict import DictDefault

    cfg = DictDefault(raw)
    prepare_plugins(cfg)
    return validate_config(cfg, capabilities=GPU_CAPABILITIES,
                           env_capabilities={"torch_version": torch.__version__.split("+")[0]})


@pytest.mark.parametrize("recipe", PAPER_RECIPES, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_fsdp2_settings_of_the_paper_recipes_pass_validation(recipe):
    from axolotl.utils.trainer import setup_fsdp_envs

    cfg = validate_on_gpus(yaml.safe_load(recipe.read_text()))
    assert str(cfg.fsdp_version) == "2" and cfg.deepspeed is None
    with mock.patch.dict(os.environ):  # what Axolotl hands accelerate
        setup_fsdp_envs(cfg)
        assert os.environ["ACCELERATE_USE_FSDP"] == "true" and os.environ["FSDP_VERSION"] == "2"
        assert os.environ["FSDP_TRANSFORMER_CLS_TO_WRAP"] == "LlamaDecoderLayer"
        assert os.environ["FSDP_STATE_DICT_TYPE"] == "FULL_STATE_DICT"


def deepspeed_variant(recipe: Path, stage: int) -> dict:
    """The recipe with DeepSpeed instead of FSDP, as docs/training.md says to write it."""
    raw = yaml.safe_load(recipe.read_text())
    raw.pop("fsdp_version")
    raw.pop("fsdp_config")
    raw["deepspeed"] = str(ROOT / "recipes" / "deepspeed" / f"zero{stage}.json")
    return raw


@pytest.mark.parametrize("stage", [2, 3])
@pytest.mark.parametrize("recipe", PAPER_RECIPES, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_deepspeed_zero_configs_pass_validation(recipe, stage):
    ds = json.loads((ROOT / "recipes" / "deepspeed" / f"zero{stage}.json").read_text())
    assert ds["zero_optimization"]["stage"] == stage
    # The Trainer fills these from the recipe, and builds AdamW and the schedule itself.
    assert ds["train_micro_batch_size_per_gpu"] == ds["gradient_accumulation_steps"] == "auto"
    assert "optimizer" not in ds and "scheduler" not in ds
    cfg = validate_on_gpus(deepspeed_variant(recipe, stage))
    assert cfg.deepspeed.endswith(f"zero{stage}.json") and not cfg.fsdp_config


@pytest.mark.parametrize("fsdp", [
    {},                                  # the recipe's FSDP2 keys, left in (Axolotl 0.19 accepts this)
    {"fsdp": ["full_shard"]},            # FSDP1's list as well (0.19 and 0.21 refuse it, each its own way)
], ids=["fsdp2-keys", "fsdp1-list"])
def test_deepspeed_beside_fsdp_is_refused_by_the_plugin(fsdp):
    from edit_plugin.plugin.checks import EditConfigError

    raw = yaml.safe_load(PAPER_RECIPES[1].read_text())
    raw.update(fsdp)
    raw["deepspeed"] = str(ROOT / "recipes" / "deepspeed" / "zero2.json")
    with pytest.raises(EditConfigError, match=r"beside fsdp.*use one; to train with DeepSpeed remove"):
        validate_on_gpus(raw)


# --- 2 CPU processes against 1, through `axolotl train` ----------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Both launchers Axolotl offers; ACCELERATE_USE_CPU makes them join over gloo.
CPU_PROCESSES = {"ACCELERATE_USE_CPU": "true"}


def accelerate_two_processes() -> list[str]:
    return ["--", "--multi_gpu", "--num_processes", "2", "--main_process_port", str(free_port())]


def torchrun_two_processes() -> list[str]:
    return ["--launcher", "torchrun", "--", "--nproc_per_node", "2", "--master_port", str(free_port())]


def train(tmp: Path, config: Path, name: str, extra_args=(), env=None) -> None:
    run_axolotl("train", config, tmp / f"{name}.log", name, show_progress=False, extra_args=extra_args, env=env)


def assert_same_numbers(one: list[dict], two: list[dict], keys: tuple[str, ...]):
    assert len(one) == len(two)
    for a, b in zip(one, two):
        assert a["step"] == b["step"]
        for key in keys:
            if key in a or key in b:
                assert b[key] == pytest.approx(a[key], rel=LOSS_RTOL), (a["step"], key)


@pytest.fixture
def sixteen_pairs(tmp_path):
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(16, seed=11))
    return data


@pytest.mark.slow
def test_krsl_two_processes_equal_one_with_the_same_global_batch(tmp_path, tiny_llama, sixteen_pairs):
    common = dict(
        num_epochs=1, val_set_size=0.25,  # 12 training pairs: 3 steps of 4; 4 evaluation pairs
        eval_strategy="steps", eval_steps=1,
        lora_dropout=0.0,  # dropout masks are drawn per process: the one thing that cannot match
        save_strategy="steps", save_steps=3,  # checkpoint-3 keeps the full-precision log
    )
    one = stage_config(tmp_path, "krsl", tiny_llama, sixteen_pairs, name="one", micro_batch_size=4, **common)
    two = stage_config(tmp_path, "krsl", tiny_llama, sixteen_pairs, name="two", micro_batch_size=2, **common)
    train(tmp_path, one, "one")
    train(tmp_path, two, "two", accelerate_two_processes(), CPU_PROCESSES)

    log_one, log_two = log_history(tmp_path / "one" / "checkpoint-3"), log_history(tmp_path / "two" / "checkpoint-3")
    train_one, train_two = [e for e in log_one if "loss" in e], [e for e in log_two if "loss" in e]
    eval_one, eval_two = [e for e in log_one if "eval_loss" in e], [e for e in log_two if "eval_loss" in e]
    assert len(train_one) == 3 and len(eval_one) >= 3
    assert_same_numbers(train_one, train_two, ("loss", "grad_norm", "learning_rate"))
    assert_same_numbers(eval_one, eval_two, ("eval_loss",))
    assert max_abs_diff(adapter_tensors(tmp_path / "one"), adapter_tensors(tmp_path / "two")) < WEIGHT_ATOL

    beta = 0.025
    for entry in train_one + train_two:
        # Reduced over processes, the logged terms give back the logged (global) loss;
        # rank 0's terms alone would not.
        assert entry["loss"] == pytest.approx(
            entry["krsl/chosen_term"] - beta * entry["krsl/rejected_term"], abs=LOGGED_ATOL)
        assert not any(k.startswith("eval_krsl/") for k in entry)
    for entry in eval_one + eval_two:
        assert entry["eval_loss"] == pytest.approx(
            entry["eval_krsl/chosen_term"] - beta * entry["eval_krsl/rejected_term"], abs=LOGGED_ATOL)
        assert not any(k.startswith("krsl/") for k in entry)
    for a, b in zip(train_one, train_two):
        assert b["krsl/chosen_term"] == pytest.approx(a["krsl/chosen_term"], abs=LOGGED_ATOL)


def equal_length_pairs(tokenizer, n: int, seed: int) -> list[dict]:
    """``n`` pairs whose chosen CoTs (the SFT labels) are all equally many tokens."""
    by_length = defaultdict(list)
    for pair in generate_pairs(40 * n, seed=seed):
        by_length[len(tokenizer(pair["chosen"], add_special_tokens=False)["input_ids"])].append(pair)
    rows = max(by_length.values(), key=len)[:n]
    assert len(rows) == n
    return rows


def label_counts(prepared: Path) -> set[int]:
    from datasets import load_from_disk

    (folder,) = {p.parent for p in prepared.rglob("dataset_info.json")}
    return {sum(label != -100 for label in row) for row in load_from_disk(str(folder))["labels"]}


@pytest.mark.slow
def test_sft_two_processes_equal_one_with_the_same_global_batch(tmp_path, tiny_llama, chat_tokenizer):
    # 2 processes x 2 rows against one process with 2 rows x 2 accumulation steps.
    # The reductions are not the same function: each process takes its token mean
    # and the processes are averaged with equal weight (Axolotl sets
    # average_tokens_across_devices: false), while accumulation steps are averaged
    # equally by Axolotl 0.19 but pooled by token count by Axolotl 0.21 (its loss
    # takes num_items_in_batch). docs/compatibility.md has the source. They agree
    # exactly when every micro-batch has as many label tokens: so every row here has.
    data = tmp_path / "dual.jsonl"
    write_records(data, equal_length_pairs(chat_tokenizer, 16, seed=11))
    common = dict(num_epochs=1, micro_batch_size=2, lora_dropout=0.0, save_strategy="steps", save_steps=4)
    one = stage_config(tmp_path, "sft", tiny_llama, data, name="one", gradient_accumulation_steps=2, **common)
    two = stage_config(tmp_path, "sft", tiny_llama, data, name="two", gradient_accumulation_steps=1, **common)
    train(tmp_path, one, "one")
    train(tmp_path, two, "two", torchrun_two_processes(), CPU_PROCESSES)
    assert len(label_counts(tmp_path / "prepared-one")) == 1  # the premise, as Axolotl tokenized it

    log_one, log_two = log_history(tmp_path / "one" / "checkpoint-4"), log_history(tmp_path / "two" / "checkpoint-4")
    assert len([e for e in log_one if "loss" in e]) == 4
    assert_same_numbers(log_one, log_two, ("loss", "grad_norm", "learning_rate"))
    assert max_abs_diff(adapter_tensors(tmp_path / "one"), adapter_tensors(tmp_path / "two")) < WEIGHT_ATOL


# --- the row projection under FSDP2, 2 CPU processes --------------------------

@pytest.mark.slow
def test_fsdp2_row_projection_equals_the_full_logits_and_the_unsharded_model(tmp_path):
    """tests/fsdp2_stage2.py shards tiny float64 LoRA Llamas with FSDP2 (tied
    embeddings; LoRA on lm_head) and runs both stage-2 losses each way."""
    out = tmp_path / "fsdp2.pt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"),
                                                        os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", str(free_port()), str(ROOT / "tests" / "fsdp2_stage2.py"), str(out)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    import torch

    results = torch.load(out, weights_only=False)
    assert len(results) == 4
    for case, paths in results.items():
        rows, full, unsharded = paths["rows"], paths["full"], paths["unsharded"]
        assert rows["logits_shape"][0] == 1 and len(full["logits_shape"]) == 3 and full["logits_shape"][0] > 1
        assert rows["loss"] == pytest.approx(full["loss"], abs=1e-10) and rows["loss"] == pytest.approx(
            unsharded["loss"], abs=1e-10), case
        assert all(rows["metrics"][k] == pytest.approx(full["metrics"][k], abs=1e-10) for k in full["metrics"])
        assert rows["grads"].keys() == full["grads"].keys() == unsharded["grads"].keys() and rows["grads"]
        for name, grad in rows["grads"].items():
            assert torch.allclose(grad, full["grads"][name], rtol=0, atol=1e-10), (case, name)
            assert torch.allclose(grad, unsharded["grads"][name], rtol=0, atol=1e-10), (case, name)
