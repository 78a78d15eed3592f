"""Helpers of the tests that run `axolotl train` on conftest's tiny random
Llama: a stage config from the CPU recipe, and what a run leaves behind."""

from __future__ import annotations

import json
from pathlib import Path

from edit_plugin.axolotl_runner import write_config

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "smollm2-135m"


def stage_config(tmp: Path, stage: str, base_model: Path, data: Path, name: str | None = None,
                 **overrides) -> Path:
    """``<tmp>/<name>.yml`` from the CPU recipe of ``stage`` (sft | krsl),
    output in ``<tmp>/<name>``; by default 8 rows make two batches of 4."""
    name = name or stage
    return write_config(RECIPES / f"{stage}.yml", tmp / f"{name}.yml", {
        "base_model": str(base_model),
        "dataset_path": str(data),
        "dataset_prepared_path": str(tmp / f"prepared-{name}"),
        "output_dir": str(tmp / name),
        "micro_batch_size": 4,
        "num_epochs": 2,
        "learning_rate": 1.0e-2,
        "warmup_ratio": 0.0,
        **overrides,
    })


def log_history(checkpoint: Path) -> list[dict]:
    """The Trainer's full-precision log of a checkpoint (not the 4-digit console log)."""
    return json.loads((Path(checkpoint) / "trainer_state.json").read_text())["log_history"]


def adapter_tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(Path(folder) / "adapter_model.safetensors")


def max_abs_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys() and a
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
