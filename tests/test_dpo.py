"""The DPO baseline: the config built from a KRSL recipe, the token ids Axolotl
and TRL train on (equal to the KRSL dataset type's), the pure DPO loss, and a
DPO run through `axolotl train`."""

from __future__ import annotations

import math
import types
from pathlib import Path

import pytest
import torch
import yaml

from edit_plugin.core.dpo_loss import completion_logps, dpo_sigmoid_loss, token_logps
from edit_plugin.dpo import DPO_PLAIN_TYPE, dpo_config
from edit_plugin.files.jsonl import write_records

KRSL_RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "smollm2-135m" / "krsl.yml"


@pytest.fixture
def krsl_cfg():
    return yaml.safe_load(KRSL_RECIPE.read_text())


def register_and_validate(cfg: dict):
    from axolotl.utils.config import prepare_plugins, validate_config
    from axolotl.utils.dict import DictDefault

    cfg = DictDefault(cfg)
    prepare_plugins(cfg)
    return validate_config(cfg)


# --- the config -------------------------------------------------------------

@pytest.mark.parametrize("chat_template", [True, False])
def test_dpo_config_keeps_the_krsl_settings_and_names_dpos(krsl_cfg, chat_template):
    cfg = dpo_config(krsl_cfg, "data/x.jsonl", chat_template=chat_template)
    changed = {"edit_krsl", "rl", "rl_beta", "dpo_loss_type", "precompute_ref_log_probs",
               "datasets", "output_dir", "dataset_prepared_path"}
    assert {k: v for k, v in cfg.items() if k not in changed} == {
        k: v for k, v in krsl_cfg.items() if k not in changed and not k.startswith("edit_")
    }
    assert [k for k in cfg if k.startswith("edit_")] == ["edit_krsl"] and cfg["edit_krsl"] is False
    assert cfg["rl"] == "dpo" and cfg["rl_beta"] == 0.1
    assert cfg["dpo_loss_type"] == ["sigmoid"] and cfg["precompute_ref_log_probs"] is False
    assert cfg["output_dir"] == "outputs/smollm2-135m/dpo"
    assert cfg["dataset_prepared_path"] == "outputs/smollm2-135m/prepared-dpo"
    (ds,) = cfg["datasets"]
    assert ds["path"] == "data/x.jsonl"
    assert ds["type"] == ("chat_template.default" if chat_template else DPO_PLAIN_TYPE)
    assert krsl_cfg["edit_krsl"] is True  # the input is not modified

    valid = register_and_validate(cfg)
    assert valid.rl == "dpo" and valid.rl_beta == 0.1 and valid.edit_krsl is False
    assert valid.plugins == ["edit_plugin.EditPlugin"]


def test_plain_transform_is_found_by_axolotls_dpo_loader(krsl_cfg):
    from axolotl.prompt_strategies.dpo import load as load_dpo

    cfg = dpo_config(krsl_cfg, "x.jsonl", chat_template=False)
    transform = load_dpo(DPO_PLAIN_TYPE, cfg, dataset_idx=0)
    tokenizer = types.SimpleNamespace(eos_token="</s>")
    out = transform({"prompt": "Q:1+1\n\nA:", "chosen": "2.", "rejected": "3.", "id": "a"}, tokenizer=tokenizer)
    assert out == {"prompt": "Q:1+1\n\nA:", "chosen": " 2.</s>", "rejected": " 3.</s>"}


# --- the token ids DPO trains on --------------------------------------------

def dpo_token_ids(tmp_path, krsl_cfg, tokenizer, records, chat_template: bool):
    """prompt / chosen / rejected ids per record id, through Axolotl's own RL
    data path (transform, length filter) and TRL's own tokenization."""
    from axolotl.utils.data.rl import _load_split
    from trl import DPOTrainer

    from edit_plugin.student import fetch_student

    tokenizer.save_pretrained(tmp_path / "tokenizer")
    data = tmp_path / "dual.jsonl"
    write_records(data, records)
    cfg = dpo_config(krsl_cfg, str(data), chat_template=chat_template,
                     output_dir=str(tmp_path / "out"), dataset_prepared_path=str(tmp_path / "prepared"))
    cfg.update(base_model=str(fetch_student()), tokenizer_config=str(tmp_path / "tokenizer"), dataset_num_proc=1)
    cfg = register_and_validate(cfg)
    texts = _load_split(cfg, "train")
    # TRL's DPOTrainer._prepare_dataset needs only these of the trainer and its args.
    trainer = types.SimpleNamespace(_tokenizer=tokenizer)
    args = types.SimpleNamespace(dataset_num_proc=None, max_length=cfg.sequence_len, truncation_mode="keep_start")
    tokenized = DPOTrainer._prepare_dataset(trainer, texts, tokenizer, args, "train")
    return cfg.sequence_len, {
        row["id"]: (row["prompt_ids"], row["chosen_ids"], row["rejected_ids"]) for row in tokenized
    }


def krsl_token_ids(tokenizer, records, sequence_len):
    from edit_plugin.dual_cot.tokenize import tokenize_dual_batch

    rows = tokenize_dual_batch(tokenizer, [r["prompt"] for r in records], [r["chosen"] for r in records],
                               [r["rejected"] for r in records], sequence_len)
    out = {}
    for record, (row, reason) in zip(records, rows):
        if row is None:
            continue
        n_prompt = row["labels"].count(-100)
        out[record["id"]] = (row["input_ids"][:n_prompt], row["input_ids"][n_prompt:],
                             row["rejected_input_ids"][n_prompt:])
    return out


@pytest.mark.parametrize("tokenizer_name", ["chat_tokenizer", "plain_tokenizer"])
def test_dpo_trains_on_the_krsl_token_ids(request, tmp_path, krsl_cfg, tokenizer_name, pairs):
    tokenizer = request.getfixturevalue(tokenizer_name)
    chat_template = tokenizer_name == "chat_tokenizer"
    sequence_len, dpo = dpo_token_ids(tmp_path, krsl_cfg, tokenizer, pairs, chat_template)
    krsl = krsl_token_ids(tokenizer, pairs, sequence_len)
    assert sorted(dpo) == sorted(krsl) and len(dpo) == len(pairs)
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]
    assert newline == [198]
    for pair_id, (prompt, chosen, rejected) in krsl.items():
        dpo_prompt, dpo_chosen, dpo_rejected = dpo[pair_id]
        assert dpo_prompt == prompt
        if chat_template:
            # The template closes the assistant turn with "<|im_end|>\n"; Axolotl's
            # chat_template.default strips the "\n" (rstrip), so DPO lacks that last token.
            assert chosen[-2] == rejected[-2] == tokenizer.eos_token_id
            assert dpo_chosen + newline == chosen and dpo_rejected + newline == rejected
        else:
            assert dpo_chosen == chosen and dpo_rejected == rejected
            assert chosen[-1] == tokenizer.eos_token_id


def test_dpo_drops_the_rows_that_krsl_truncates(tmp_path, krsl_cfg, chat_tokenizer, pairs):
    """Axolotl drops a DPO pair when prompt + either CoT exceeds sequence_len;
    the KRSL dataset type cuts both sides and keeps the pair while a key token
    is left. These 8 pairs are 146-155 tokens long."""
    krsl_cfg["sequence_len"] = 150
    _, dpo = dpo_token_ids(tmp_path, krsl_cfg, chat_tokenizer, pairs, chat_template=True)
    full = krsl_token_ids(chat_tokenizer, pairs, 10_000)
    fits = {i for i, (p, c, r) in full.items() if len(p) + max(len(c), len(r)) - 1 <= 150}  # DPO lacks "\n"
    assert set(dpo) == fits and 0 < len(fits) < len(pairs)
    krsl = krsl_token_ids(chat_tokenizer, pairs, 150)
    assert set(krsl) > set(dpo)
    assert all(len(p) + len(c) <= 150 for p, c, _ in krsl.values())


# --- the loss ---------------------------------------------------------------

def test_dpo_sigmoid_loss_by_hand():
    chosen, rejected = torch.tensor([-10.0, -4.0]), torch.tensor([-12.0, -3.0])
    ref_chosen, ref_rejected = torch.tensor([-11.0, -5.0]), torch.tensor([-11.0, -4.0])
    loss, metrics = dpo_sigmoid_loss(chosen, rejected, ref_chosen, ref_rejected, beta=0.1)
    # pair 1: chosen +1, rejected -1 -> margin 0.1 * 2 = 0.2; pair 2: +1, +1 -> margin 0.
    expected = (math.log(1 + math.exp(-0.2)) + math.log(2)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert metrics["rewards/chosen"] == pytest.approx(0.1)
    assert metrics["rewards/rejected"] == pytest.approx(0.0)
    assert metrics["rewards/margins"] == pytest.approx(0.1)
    assert metrics["rewards/accuracies"] == 0.5


def test_completion_logps_sum_only_completion_tokens():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]]))
    ids = torch.tensor([[0, 2, 1]])  # token 0 is the prompt; 2 and 1 are the completion
    mask = torch.tensor([[0, 1, 1]])
    # logits[0] predicts ids[1] = 2 (p 0.25), logits[1] predicts ids[2] = 1 (p 0.2).
    assert completion_logps(logits, ids, mask).item() == pytest.approx(math.log(0.25) + math.log(0.2))
    assert completion_logps(logits, ids, torch.tensor([[0, 0, 1]])).item() == pytest.approx(math.log(0.2))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_token_logps_match_trl(dtype):
    from trl.trainer.utils import selective_log_softmax

    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(3, 7, 50, generator=g) * 4).to(dtype)
    targets = torch.randint(0, 50, (3, 7), generator=g)
    ours = token_logps(logits, targets)
    exact = torch.log_softmax(logits.double(), -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(ours.double(), exact, rtol=0, atol=1e-5)
    # TRL keeps bf16 for the log-softmax; we upcast, hence the looser tolerance.
    tol = 1e-5 if dtype == torch.float32 else 0.1
    torch.testing.assert_close(ours.double(), selective_log_softmax(logits, targets).double(), rtol=0, atol=tol)


def test_dpo_forward_with_a_fresh_adapter_is_log_2(tiny_llama):
    """A new LoRA adapter (B = 0) leaves the policy equal to the reference:
    every reward is 0 and the loss is log 2; one optimizer step moves it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from edit_plugin.dpo.step import dpo_forward

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_llama),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    chosen = torch.tensor([[5, 6, 7, 8, 9, 10]])
    rejected = torch.tensor([[5, 6, 7, 8, 11, 12]])
    labels = chosen.clone()
    labels[:, :3] = -100
    rejected_labels = rejected.clone()
    rejected_labels[:, :3] = -100
    batch = {"input_ids": chosen, "attention_mask": torch.ones_like(chosen), "labels": labels,
             "rejected_input_ids": rejected, "rejected_attention_mask": torch.ones_like(rejected),
             "rejected_labels": rejected_labels}
    loss, metrics, _ = dpo_forward(model, batch, beta=0.1)
    assert loss.item() == pytest.approx(math.log(2), abs=1e-6)
    assert metrics["rewards/chosen"] == metrics["rewards/rejected"] == 0.0
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    loss.backward()
    optimizer.step()
    loss_after, metrics_after, _ = dpo_forward(model, batch, beta=0.1)
    assert loss_after.item() < math.log(2)
    assert metrics_after["rewards/margins"] > 0


# --- through `axolotl train` ------------------------------------------------

def train_dpo(tmp: Path, name: str, krsl_cfg: dict, base_model: Path, data: Path):
    """(logged steps, adapter tensors) of one DPO run through `axolotl train`."""
    from safetensors.torch import load_file

    from edit_plugin.axolotl_runner import run_axolotl

    cfg = dpo_config(krsl_cfg, str(data), output_dir=str(tmp / name),
                     dataset_prepared_path=str(tmp / f"prepared-{name}"))
    cfg.update(base_model=str(base_model), micro_batch_size=4, num_epochs=1, learning_rate=1.0e-2,
               warmup_ratio=0.0, save_strategy="no")
    config = tmp / f"{name}.yml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    steps = run_axolotl("train", config, tmp / f"{name}.log", name, show_progress=False)
    return steps, load_file(tmp / name / "adapter_model.safetensors")


@pytest.mark.slow
def test_dpo_baseline_runs_through_axolotl_train(tmp_path, krsl_cfg, tiny_llama):
    from edit_plugin.synthetic.arithmetic import generate_pairs

    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=11))
    steps, adapter = train_dpo(tmp_path, "a", krsl_cfg, tiny_llama, data)
    assert len(steps) == 2
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                "logps/chosen", "logps/rejected"):
        assert key in steps[0], key
    # Step 1: the fresh adapter is the reference, so DPO's loss is log 2.
    assert steps[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert steps[1]["rewards/margins"] != 0.0

    # TRL makes the adapter inside the trainer; without the plugin's seeding the
    # step-1 gradient norms of two such runs differed (0.2565 vs 0.2296).
    steps_again, adapter_again = train_dpo(tmp_path, "b", krsl_cfg, tiny_llama, data)
    assert [(s["loss"], s["grad_norm"]) for s in steps] == [(s["loss"], s["grad_norm"]) for s in steps_again]
    assert all(torch.equal(tensor, adapter_again[name]) for name, tensor in adapter.items())
