"""End to end: `axolotl train` as a subprocess, both stages, on a tiny random
Llama that uses the SmolLM2 tokenizer (seconds per stage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edit_plugin.axolotl_runner import AxolotlRunError, run_axolotl
from edit_plugin.cpu_threads import physical_cores
from edit_plugin.files.jsonl import write_records
from edit_plugin.synthetic.arithmetic import generate_pairs
from tiny_runs import log_history, stage_config

pytestmark = pytest.mark.slow


def assert_loads_and_runs(model_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        logits = model(torch.tensor([[1, 2, 3]])).logits
    assert torch.isfinite(logits).all()


def test_sft_then_krsl_through_axolotl_train(tmp_path, tiny_llama):
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=11))

    sft_cfg = stage_config(tmp_path, "sft", tiny_llama, data)
    sft_steps = run_axolotl("train", sft_cfg, tmp_path / "sft.log", "sft", show_progress=False)
    assert len(sft_steps) == 4
    # accelerate would give the training process one thread; it gets the machine's cores.
    cores = physical_cores()
    assert f"CPU threads of this training process: {cores} (OMP_NUM_THREADS={cores})" in \
        (tmp_path / "sft.log").read_text()
    assert sft_steps[-1]["loss"] < sft_steps[0]["loss"]
    run_axolotl("merge-lora", sft_cfg, tmp_path / "sft-merge.log", "merge", show_progress=False)
    assert_loads_and_runs(tmp_path / "sft" / "merged")

    krsl_cfg = stage_config(tmp_path, "krsl", tmp_path / "sft" / "merged", data)
    # A user's own thread setting is kept.
    krsl_steps = run_axolotl("train", krsl_cfg, tmp_path / "krsl.log", "krsl", show_progress=False,
                             env={"OMP_NUM_THREADS": "1"})
    assert len(krsl_steps) == 4
    assert "CPU threads of this training process: 1 (OMP_NUM_THREADS=1)" in (tmp_path / "krsl.log").read_text()
    # The extra columns reached compute_loss: the KRSL metrics are in the log.
    for key in ("krsl/chosen_key_nll", "krsl/rejected_key_nll", "krsl/key_nll_margin",
                "krsl/chosen_key_accuracy", "krsl/key_token_fraction"):
        assert key in krsl_steps[0], key
    assert 0 < krsl_steps[0]["krsl/key_token_fraction"] < 0.5
    run_axolotl("merge-lora", krsl_cfg, tmp_path / "krsl-merge.log", "merge", show_progress=False)
    assert_loads_and_runs(tmp_path / "krsl" / "merged")
    # Training changed the model in KRSL's direction: the same pairs, scored by
    # the same code, before (the SFT model) and after.
    from edit_plugin.evaluation.teacher_forced import pair_metrics
    from edit_plugin.text.schema import iter_records

    records = list(iter_records(data))
    before = pair_metrics(str(tmp_path / "sft" / "merged"), records)
    after = pair_metrics(str(tmp_path / "krsl" / "merged"), records)
    assert after["chosen_key_nll"] < before["chosen_key_nll"]


def test_key_dpo_is_one_key_away(tmp_path, tiny_llama):
    """`edit_loss: key_dpo` through `axolotl train`: the reference is the model
    without its fresh adapter, so the first step's loss is log 2."""
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=11))
    cfg = stage_config(tmp_path, "krsl", tiny_llama, data, edit_loss="key_dpo", edit_dpo_beta=0.5)
    steps = run_axolotl("train", cfg, tmp_path / "key_dpo.log", "key_dpo", show_progress=False)
    assert len(steps) == 4
    assert steps[0]["loss"] == pytest.approx(0.6931, abs=1e-4)
    assert steps[0]["key_dpo/margin"] == 0.0 and "krsl/chosen_key_nll" not in steps[0]
    assert any(s["key_dpo/margin"] != 0.0 for s in steps[1:])


def test_krsl_on_the_embedded_student_logs_the_curve_of_the_full_logits(tmp_path, student_path):
    """Stage 2 projects only the key tokens' hidden states onto the vocabulary;
    through `axolotl train` on the embedded SmolLM2-135M, every logged number
    equals that of a run with every position's logits (`edit_full_logits: true`)."""
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(8, seed=11))
    # 4 steps of 2 pairs; checkpoint-4 keeps the full-precision log. The recipe's
    # LoRA dropout stays: both paths draw the same masks (no adapter on the head).
    common = dict(micro_batch_size=2, num_epochs=1, learning_rate=2.0e-4, save_strategy="steps", save_steps=4)
    runs = {}
    for name, extra in (("rows", {}), ("full", {"edit_full_logits": True})):
        cfg = stage_config(tmp_path, "krsl", student_path, data, name=name, **common, **extra)
        run_axolotl("train", cfg, tmp_path / f"{name}.log", name, show_progress=False)
        runs[name] = [e for e in log_history(tmp_path / name / "checkpoint-4") if "loss" in e]
    assert "stage-2 forward: projecting only the positions the loss reads onto the vocabulary" in \
        (tmp_path / "rows.log").read_text()
    assert "stage-2 forward: full logits of every position (edit_full_logits: true)" in \
        (tmp_path / "full.log").read_text()
    rows, full = runs["rows"], runs["full"]
    assert len(rows) == len(full) == 4
    assert rows[-1]["loss"] != rows[0]["loss"]  # it trained
    for a, b in zip(rows, full):
        assert a.keys() == b.keys() and any(key.startswith("krsl/") for key in a)
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-12), (a["step"], key)


def test_invalid_json_fails_axolotl_with_file_and_line(tmp_path, tiny_llama):
    data = tmp_path / "dual.jsonl"
    write_records(data, generate_pairs(2, seed=1))
    with open(data, "a") as handle:
        handle.write('{"prompt": "Q", "chosen": \n')
    cfg = stage_config(tmp_path, "krsl", tiny_llama, data)
    with pytest.raises(AxolotlRunError) as err:
        run_axolotl("train", cfg, tmp_path / "bad.log", "bad", show_progress=False)
    assert f"{data}, line 3: invalid JSON" in str(err.value)


def test_a_key_marking_never_reuses_data_prepared_under_the_other(tmp_path, tiny_llama):
    """Both runs name the same dataset_prepared_path; Axolotl's cache key is
    the same for both, the plugin's folder per marking is not."""
    from edit_plugin.synthetic import object_counting

    data = tmp_path / "dual.jsonl"
    # Objects of another category counted: an inserted step, where divergence adds key tokens.
    write_records(data, object_counting.generate_pairs(8, seed=11, error_types=("knowledge",)))
    fractions = {}
    for marking in ("min_edit", "divergence"):
        cfg = stage_config(tmp_path, "krsl", tiny_llama, data, name=f"krsl-{marking}", num_epochs=1,
                           dataset_prepared_path=str(tmp_path / "prepared"), edit_key_marking=marking)
        steps = run_axolotl("train", cfg, tmp_path / f"{marking}.log", marking, show_progress=False)
        fractions[marking] = steps[0]["krsl/key_token_fraction"]
    assert fractions["divergence"] > fractions["min_edit"]
    assert (tmp_path / "prepared" / "edit_key_marking-divergence").is_dir()
