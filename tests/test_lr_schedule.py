"""The authors' schedule (`edit_lr_epoch_decay`): lr x decay per epoch, no warm-up."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from edit_plugin.dpo import dpo_config
from edit_plugin.plugin.checks import EditConfigError, check_lr_schedule
from edit_plugin.plugin.schedule import epoch_decay_factor, epoch_decay_scheduler, steps_per_epoch

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def test_factor_steps_once_per_epoch():
    factor = epoch_decay_factor(steps_per_epoch=3, decay=0.95)
    assert [factor(s) for s in range(7)] == pytest.approx([1, 1, 1, 0.95, 0.95, 0.95, 0.95**2])
    with pytest.raises(ValueError):
        epoch_decay_factor(0, 0.95)


def test_steps_per_epoch_from_the_trainers_total():
    assert steps_per_epoch(num_training_steps=30, num_epochs=10) == 3
    assert steps_per_epoch(num_training_steps=31, num_epochs=10) == 4  # rounds up, never 0
    assert steps_per_epoch(num_training_steps=5, num_epochs=0.5) == 5


def test_scheduler_drives_the_optimizer():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = epoch_decay_scheduler(optimizer, num_training_steps=4, num_epochs=2, decay=0.5)
    seen = []
    for _ in range(4):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05])


@pytest.mark.parametrize("clash", [{"lr_scheduler": "cosine"}, {"warmup_ratio": 0.03}, {"warmup_steps": 10}])
def test_a_second_schedule_is_refused(clash):
    with pytest.raises(EditConfigError, match=f"{next(iter(clash))}.*would be ignored"):
        check_lr_schedule({"edit_lr_epoch_decay": 0.95, **clash})
    check_lr_schedule({"edit_lr_epoch_decay": 0.95, "warmup_ratio": 0.0})
    check_lr_schedule(clash)  # without the key, nothing to refuse


def test_a_deepspeed_scheduler_is_refused(tmp_path):
    ds = tmp_path / "zero2.json"
    ds.write_text('{"zero_optimization": {"stage": 2}, "scheduler": {"type": "WarmupLR"}}')
    with pytest.raises(EditConfigError, match="DeepSpeed"):
        check_lr_schedule({"edit_lr_epoch_decay": 0.95, "deepspeed": str(ds)})
    ds.write_text('{"zero_optimization": {"stage": 2}}')
    check_lr_schedule({"edit_lr_epoch_decay": 0.95, "deepspeed": str(ds)})


def test_paper_recipes_use_the_authors_schedule_and_threshold():
    for folder in sorted(p for p in RECIPES.iterdir() if (p / "krsl.yml").exists()):
        sft = yaml.safe_load((folder / "sft.yml").read_text())
        krsl = yaml.safe_load((folder / "krsl.yml").read_text())
        if folder.name == "smollm2-135m":  # the CPU recipe: a short cosine run, threshold 5
            assert krsl["edit_neg_nll_threshold"] == 5.0 and "edit_lr_epoch_decay" not in krsl
            continue
        for cfg in (sft, krsl):
            assert cfg["edit_lr_epoch_decay"] == 0.95, folder
            assert not any(key in cfg for key in ("lr_scheduler", "warmup_ratio", "warmup_steps")), folder
        assert krsl["edit_neg_nll_threshold"] == 20.0
        # The DPO baseline of the same recipe trains on the same schedule.
        assert dpo_config(krsl, "x.jsonl")["edit_lr_epoch_decay"] == 0.95


@pytest.mark.slow
def test_axolotl_train_follows_the_schedule(tmp_path, tiny_llama):
    """`axolotl train` (SFT, 2 epochs of 2 steps): the logged lr halves each epoch."""
    from edit_plugin.axolotl_runner import run_axolotl, write_config
    from edit_plugin.files.jsonl import write_records
    from edit_plugin.synthetic.arithmetic import generate_pairs

    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=5))
    config = write_config(RECIPES / "smollm2-135m" / "sft.yml", tmp_path / "sft.yml", {
        "base_model": str(tiny_llama),
        "dataset_path": str(data),
        "dataset_prepared_path": str(tmp_path / "prepared"),
        "output_dir": str(tmp_path / "out"),
        "micro_batch_size": 4,
        "num_epochs": 2,
        "learning_rate": 1.0e-3,
        "lr_scheduler": None,
        "warmup_ratio": None,
        "edit_lr_epoch_decay": 0.5,
    })
    steps = run_axolotl("train", config, tmp_path / "train.log", "sft", show_progress=False)
    # The Trainer logs the lr each optimizer step used.
    assert [s["learning_rate"] for s in steps] == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4])
