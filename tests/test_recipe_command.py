"""`edit-cot recipe`: detection on real config classes and the real student,
the paper's arithmetic, and the shipped recipes as the command's output."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import torch

from edit_plugin.cli import main
from edit_plugin.recipes import detect, paper
from edit_plugin.recipes.facts import FACTS_FILE, read_facts
from edit_plugin.recipes.render import STAGE_FILES, render

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
SHIPPED = sorted(p.parent for p in RECIPES.glob(f"*/{FACTS_FILE}"))
# Written by hand, not by the command: the CPU default of `make demo` (LoRA r 16
# on q/k/v/o, sequence_len 192, no mixed precision). Its student.json holds the
# detected facts only.
HAND_WRITTEN = {"smollm2-135m"}
# Tiny sizes, through each architecture's real config class.
TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=8, vocab_size=128, pad_token_id=0, bos_token_id=1, eos_token_id=2)


def meta_model(model_type: str, **changes):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(model_type, **{**TINY, **changes})
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


# --- the shipped recipes are the command's output -------------------------------------------

def test_every_recipe_folder_has_its_facts():
    folders = sorted(p.parent for p in RECIPES.glob("*/sft.yml"))
    assert folders == SHIPPED and len(SHIPPED) >= 9


@pytest.mark.parametrize("folder", [f for f in SHIPPED if f.name not in HAND_WRITTEN], ids=lambda f: f.name)
def test_shipped_recipe_is_rerendered_byte_for_byte(folder):
    facts = read_facts(folder)
    assert facts.name == folder.name
    rendered = render(facts)
    assert sorted(rendered) == sorted(STAGE_FILES)
    for name, text in rendered.items():
        assert (folder / name).read_text() == text, f"{folder.name}/{name}: run edit-cot recipe --facts"


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda f: f.name)
def test_detection_on_a_tiny_model_of_the_type_agrees_with_the_facts(folder):
    facts = read_facts(folder)
    model = meta_model(facts.model_type)
    assert detect.decoder_layer_class(model) == facts.decoder_layer_class
    attention = detect.lora_targets(model, include_mlp=False)
    assert attention == facts.attention_projections
    assert sorted(set(detect.lora_targets(model, include_mlp=True)) - set(attention)) == facts.mlp_projections
    assert detect.query_value_targets(attention) == (facts.lora_targets, facts.lora_targets_reason)


# --- detection -----------------------------------------------------------------------------

def test_lora_targets_never_take_the_head_embeddings_or_a_router():
    for model_type in ("llama", "phi3", "qwen2_moe", "mixtral"):
        model = meta_model(model_type, num_experts=4, num_local_experts=4, num_experts_per_tok=2)
        names = detect.lora_targets(model, include_mlp=True)
        assert names == sorted(set(names))
        assert not {"lm_head", "embed_tokens", "gate", "router", "shared_expert_gate"} & set(names), model_type
    assert detect.lora_targets(meta_model("phi3"), include_mlp=False) == ["o_proj", "qkv_proj"]
    assert detect.lora_targets(meta_model("phi3"), include_mlp=True) == ["down_proj", "gate_up_proj", "o_proj",
                                                                         "qkv_proj"]


def test_query_value_targets_keep_fused_projections():
    assert detect.query_value_targets(["k_proj", "o_proj", "q_proj", "v_proj"])[0] == ["q_proj", "v_proj"]
    assert detect.query_value_targets(["o_proj", "qkv_proj"]) == (["qkv_proj"], "query and value (fused in qkv_proj)")
    assert detect.query_value_targets(["dense", "query_key_value"])[0] == ["query_key_value"]
    names, reason = detect.query_value_targets(["in_proj", "out_proj"])
    assert names == ["in_proj", "out_proj"] and "every attention projection" in reason


def test_pad_token_is_never_eos_nor_a_template_token(chat_tokenizer, plain_tokenizer):
    # SmolLM2 pads with its eos <|im_end|>, which the template ends each turn with.
    assert chat_tokenizer.pad_token == chat_tokenizer.eos_token == "<|im_end|>"
    for tokenizer in (chat_tokenizer, plain_tokenizer):
        pad, reason = detect.pad_token(tokenizer)
        assert pad == "<|endoftext|>" and "is its eos" in reason
        assert tokenizer.convert_tokens_to_ids(pad) == tokenizer.unk_token_id  # in the vocabulary, not new
    own = copy.deepcopy(plain_tokenizer)
    own.pad_token = "<repo_name>"
    assert detect.pad_token(own) == ("<repo_name>", "the tokenizer's own pad token")
    templated_pad = copy.deepcopy(chat_tokenizer)
    templated_pad.pad_token = "<|im_start|>"
    assert detect.pad_token(templated_pad)[0] == "<|endoftext|>"


def test_pad_token_without_unk_takes_an_unused_special_token(chat_tokenizer):
    tokenizer = copy.deepcopy(chat_tokenizer)
    tokenizer.unk_token = None
    tokenizer.pad_token = None
    pad, reason = detect.pad_token(tokenizer)
    assert pad not in {"<|im_start|>", "<|im_end|>"} and "no pad token" in reason
    assert pad in tokenizer.get_vocab()


def test_chat_or_base_follows_the_tokenizer_and_warns_on_the_name(chat_tokenizer, plain_tokenizer):
    assert detect.is_chat_model(chat_tokenizer, "HuggingFaceTB/SmolLM2-135M-Instruct") == (
        True, "the tokenizer has a chat template: prompt as the user turn, CoT as the assistant turn")
    chat, reason = detect.is_chat_model(chat_tokenizer, "Qwen/Qwen2.5-7B")
    assert chat and "reads as a base model" in reason
    chat, reason = detect.is_chat_model(plain_tokenizer, "google/gemma-2-2b-it")
    assert not chat and "reads as instruct" in reason
    assert detect.is_chat_model(plain_tokenizer, "meta-llama/Llama-2-7b-hf") == (
        False, "no chat template: plain prompt + ' ' + CoT + eos")


# --- the paper's arithmetic ----------------------------------------------------------------

def test_gradient_accumulation_keeps_the_effective_batch():
    assert paper.gradient_accumulation(4, 16) == 4
    assert paper.gradient_accumulation(8, 16) == 2
    assert paper.gradient_accumulation(1, 4) == 64
    for gpus, micro in ((3, 16), (0, 16), (2, 256)):
        with pytest.raises(paper.RecipeError):
            paper.gradient_accumulation(gpus, micro)


def test_sequence_len_from_the_model_or_the_data():
    assert paper.sequence_len(8192) == (1024, "the model's 8,192 positions, capped at the paper's 1,024")
    assert paper.sequence_len(512)[0] == 512
    assert paper.sequence_len(None)[0] == 1024
    assert paper.sequence_len(8192, longest_row=1500)[0] == 1536  # the data wins over the cap: no row cut
    assert paper.sequence_len(8192, longest_row=64)[0] == 64
    with pytest.raises(paper.RecipeError, match="more than the model's"):
        paper.sequence_len(512, longest_row=600)


# --- the command on the real student -------------------------------------------------------

def recipe(*argv):
    return main(["recipe", *map(str, argv)])


def test_command_on_the_real_student_reproduces_its_facts(student_path, tmp_path, capsys):
    out = tmp_path / "smollm2-135m"
    assert recipe(student_path, "--out", out, "--base-model", "HuggingFaceTB/SmolLM2-135M-Instruct") == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["student", "layer", "lora", "pad", "prompt", "sequence",
                                                     "head", "batch", "checked", "wrote"]
    written = json.loads((out / FACTS_FILE).read_text())
    shipped = json.loads((RECIPES / "smollm2-135m" / FACTS_FILE).read_text())
    assert {k: v for k, v in written.items() if k != "notes"} == {k: v for k, v in shipped.items() if k != "notes"}
    assert sorted(p.name for p in out.iterdir()) == sorted([*STAGE_FILES, FACTS_FILE])


def test_sequence_len_from_the_data_cuts_no_row(student_path, tmp_path, chat_tokenizer, pairs, capsys):
    from edit_plugin.experiment.data import token_lengths
    from edit_plugin.files.jsonl import write_records

    data = tmp_path / "dual.jsonl"
    write_records(data, pairs)
    assert recipe(student_path, "--out", tmp_path / "r", "--data", data, "--no-check") == 0
    facts = read_facts(tmp_path / "r")
    longest = token_lengths(chat_tokenizer, data)["max_tokens"]
    assert facts.sequence_len == 64 * math.ceil(longest / 64) >= longest
    assert str(data) in facts.sequence_len_source
    assert f"sequence  {facts.sequence_len}: the data's longest row is {longest} tokens" in capsys.readouterr().out


def test_batch_shape_and_mlp_targets_rerender_from_facts(tmp_path):
    out = tmp_path / "phi3"
    assert recipe("--facts", RECIPES / "phi3-mini" / FACTS_FILE, "--out", out, "--gpus", 8, "--micro-batch", 8,
                  "--lora-mlp", "--no-check") == 0
    import yaml

    sft = yaml.safe_load((out / "sft.yml").read_text())
    assert sft["micro_batch_size"] * sft["gradient_accumulation_steps"] * 8 == 256
    assert sft["lora_target_modules"] == ["down_proj", "gate_up_proj", "qkv_proj"]
    assert sft["output_dir"] == "outputs/phi3-mini/sft"  # the facts' name, not the folder's


def test_refusals(tmp_path, capsys):
    assert recipe("--facts", RECIPES / "llama2-7b" / FACTS_FILE, "--out", tmp_path, "--gpus", 3) == 2
    assert "does not divide" in capsys.readouterr().err
    assert recipe("--out", tmp_path) == 2
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / "sft.yml").write_text((RECIPES / "smollm2-135m" / "sft.yml").read_text())
    assert recipe("--facts", RECIPES / "smollm2-135m" / FACTS_FILE, "--out", hand, "--no-check") == 2
    assert "written by hand" in capsys.readouterr().err


# --- the written recipe trains (axolotl train as a subprocess) ------------------------------

def cpu_copy(recipe_yml: Path, out: Path, tmp: Path, name: str, base_model: Path, data: Path) -> Path:
    """A generated GPU recipe shrunk for 2 CPU steps: no FSDP, no mixed
    precision, no CUDA LoRA kernels; the student's facts (LoRA targets, pad
    token, sequence_len, plugin keys, dataset type) are kept as written."""
    import yaml

    cfg = yaml.safe_load(recipe_yml.read_text())
    for key in ("fsdp_version", "fsdp_config"):
        cfg.pop(key)
    for ds in cfg["datasets"]:
        ds["path"] = str(data)
    cfg.update({"base_model": str(base_model), "dataset_prepared_path": str(tmp / f"prepared-{name}"),
                "output_dir": str(tmp / name), "bf16": False, "fp16": False, "tf32": False,
                "gradient_checkpointing": False, "lora_mlp_kernel": False, "lora_qkv_kernel": False,
                "lora_o_kernel": False, "micro_batch_size": 4, "gradient_accumulation_steps": 1,
                "max_steps": 2, "learning_rate": 1.0e-3, "save_strategy": "no", "logging_steps": 1})
    out.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


@pytest.mark.slow
def test_a_written_recipe_trains_both_stages_and_dpo(tiny_llama, tmp_path, pairs):
    import yaml

    from edit_plugin.axolotl_runner import run_axolotl
    from edit_plugin.files.jsonl import write_records

    data = tmp_path / "dual.jsonl"
    write_records(data, pairs)
    written = tmp_path / "recipe"
    assert recipe(tiny_llama, "--out", written, "--data", data, "--gpus", 1, "--micro-batch", 4) == 0
    facts = read_facts(written)
    assert facts.pad_token == "<|endoftext|>" and facts.sequence_len < 1024

    sft = cpu_copy(written / "sft.yml", tmp_path / "sft.yml", tmp_path, "sft", tiny_llama, data)
    assert len(run_axolotl("train", sft, tmp_path / "sft.log", "sft", show_progress=False)) == 2
    run_axolotl("merge-lora", sft, tmp_path / "sft-merge.log", "merge", show_progress=False)
    merged = tmp_path / "sft" / "merged"
    for stage in ("krsl", "dpo"):
        cfg = cpu_copy(written / f"{stage}.yml", tmp_path / f"{stage}.yml", tmp_path, stage, merged, data)
        steps = run_axolotl("train", cfg, tmp_path / f"{stage}.log", stage, show_progress=False, expected_steps=2)
        assert len(steps) == 2 and all(math.isfinite(s["loss"]) for s in steps), stage
        adapter = yaml.safe_load(cfg.read_text())["lora_target_modules"]
        config = json.loads((tmp_path / stage / "adapter_config.json").read_text())
        assert sorted(config["target_modules"]) == adapter == facts.lora_targets
