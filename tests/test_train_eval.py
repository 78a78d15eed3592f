"""Evaluation during KRSL training: it runs, its metrics carry their own
prefix, `compute_loss(..., return_outputs=True)` works, and the eval loss is
on the training loss's scale (the same pairs, unchanged weights: equal)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from edit_plugin.axolotl_runner import run_axolotl
from edit_plugin.files.jsonl import write_records
from edit_plugin.synthetic.arithmetic import generate_pairs
from tiny_runs import log_history, stage_config


def krsl_batch(tokenizer, pairs):
    from datasets import Dataset

    from edit_plugin.dual_cot.strategy import DualCoTStrategy
    from edit_plugin.plugin.collator import DualCoTCollator

    rows = DualCoTStrategy(tokenizer, 256, True, source="pairs").wrap_dataset(Dataset.from_list(pairs))
    return DualCoTCollator(tokenizer)([rows[i] for i in range(len(rows))])


def test_compute_loss_returns_the_outputs_and_names_eval_metrics(chat_tokenizer, pairs, tiny_llama):
    import torch
    from transformers import AutoModelForCausalLM

    from edit_plugin.core.stage2 import stage2_loss
    from edit_plugin.plugin.trainer import KRSLTrainer

    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    batch = krsl_batch(chat_tokenizer, pairs[:3])
    stored = []
    trainer = SimpleNamespace(  # what compute_loss reads of the trainer
        args=SimpleNamespace(edit_alpha=1.0, edit_beta=0.025, edit_neg_nll_threshold=None, edit_sft_weight=0.0,
                             gradient_checkpointing_kwargs=None),
        stage2_loss=stage2_loss("krsl"),
        full_logits_reason=None,
        accelerator=SimpleNamespace(unwrap_model=lambda m: m),
        store_metrics=lambda metrics, train_eval: stored.append((train_eval, metrics)),
    )
    model.eval()
    with torch.no_grad():
        loss, outputs = KRSLTrainer.compute_loss(trainer, model, batch, return_outputs=True)
        # One forward over chosen and rejected; only their key tokens' rows reach the vocabulary.
        n_key_rows = sum(int((batch[keys].bool() & (batch[labels] != -100))[:, 1:].sum())
                         for keys, labels in (("chosen_key_mask", "labels"), ("rejected_key_mask", "rejected_labels")))
        assert outputs.logits.shape[:2] == (1, n_key_rows) and n_key_rows > 0
        assert torch.equal(loss, KRSLTrainer.compute_loss(trainer, model, batch))
    model.train()
    KRSLTrainer.compute_loss(trainer, model, batch)

    (first, eval_metrics), _, (last, train_metrics) = stored
    assert first == "eval" and set(eval_metrics) == {"eval_" + name for name in train_metrics}
    assert last == "train" and all(name.startswith("krsl/") for name in train_metrics)
    assert eval_metrics["eval_krsl/chosen_term"] - 0.025 * eval_metrics["eval_krsl/rejected_term"] == pytest.approx(
        float(loss), rel=1e-6)


@pytest.mark.slow
def test_krsl_evaluates_during_training_on_the_training_loss_scale(tmp_path, tiny_llama):
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=5))
    config = stage_config(
        tmp_path, "krsl", tiny_llama, data, name="eval",
        micro_batch_size=2, num_epochs=1,  # 4 steps
        # The training pairs once more as the evaluation set, and weights that do
        # not move (learning rate 0, no dropout): every evaluation must then give
        # the mean of the training losses.
        test_datasets=[{"path": str(data), "type": "edit_plugin.dual_cot", "split": "train"}],
        learning_rate=0.0, lora_dropout=0.0,
        eval_strategy="steps", eval_steps=2,
        save_strategy="steps", save_steps=4,
    )
    run_axolotl("train", config, tmp_path / "eval.log", "eval", show_progress=False)

    history = log_history(tmp_path / "eval" / "checkpoint-4")
    train = [entry for entry in history if "loss" in entry]
    evals = [entry for entry in history if "eval_loss" in entry]
    assert len(train) == 4 and len(evals) >= 2
    mean_train_loss = sum(entry["loss"] for entry in train) / len(train)
    for entry in evals:
        assert entry["eval_loss"] == pytest.approx(mean_train_loss, rel=1e-5)
        # The KRSL metrics of evaluation have their own names, beside eval_loss.
        terms = entry["eval_krsl/chosen_term"] - 0.025 * entry["eval_krsl/rejected_term"]
        assert terms == pytest.approx(entry["eval_loss"], abs=2e-5)
        assert {"eval_krsl/chosen_key_nll", "eval_krsl/key_nll_margin"} <= entry.keys()
        assert not any(key.startswith("krsl/") for key in entry)
    for entry in train:
        assert "krsl/chosen_key_nll" in entry
        assert not any(key.startswith("eval_") for key in entry)
