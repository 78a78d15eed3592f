"""Config and data checks run when Axolotl registers the plugin.

Axolotl silently drops unknown YAML keys and only logs a failed plugin import,
so a typo would silently fall back to defaults; these checks make it an error.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from edit_plugin.dpo.config import DPO_PLAIN_TYPE
from edit_plugin.plugin.args import EDIT_KEYS
from edit_plugin.text.fields import FieldMap
from edit_plugin.text.schema import REQUIRED_FIELDS, SFT_FIELDS, validate_file

KRSL_TYPE = "edit_plugin.dual_cot"
SFT_TYPE = "edit_plugin.dual_cot.sft"


class EditConfigError(ValueError):
    """An Axolotl config asks for something the EDIT plugin cannot do."""


def check_unknown_keys(cfg) -> None:
    unknown = [key for key in cfg if str(key).startswith("edit_") and key not in EDIT_KEYS]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, EDIT_KEYS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise EditConfigError(
            f"unknown EDIT plugin key '{key}'.{hint} Known keys: {', '.join(EDIT_KEYS)}"
        )


def _datasets(cfg) -> list:
    return list(cfg.get("datasets") or []) + list(cfg.get("test_datasets") or [])


def _dataset_types(cfg) -> list[str]:
    return [str((ds or {}).get("type")) for ds in _datasets(cfg)]


def check_stage2_loss(cfg) -> None:
    from edit_plugin.core.stage2 import STAGE2_LOSSES

    name = cfg.get("edit_loss")
    if name is None:
        return
    if name not in STAGE2_LOSSES:
        raise EditConfigError(f"unknown edit_loss '{name}'; known: {', '.join(STAGE2_LOSSES)}")
    if not cfg.get("edit_krsl"):
        raise EditConfigError(f"edit_loss: {name} is a stage-2 loss; it runs only with edit_krsl: true")
    if STAGE2_LOSSES[name].needs_reference and cfg.get("adapter") not in ("lora", "qlora"):
        raise EditConfigError(
            f"edit_loss: {name} compares with a reference model: the stage-1 model, which is the "
            "stage-2 model with its adapter disabled. Train stage 2 with adapter: lora"
        )


def check_key_marking(cfg) -> None:
    from edit_plugin.core.keysteps import KEY_MARKINGS

    marking = cfg.get("edit_key_marking")
    if marking is not None and marking not in KEY_MARKINGS:
        raise EditConfigError(f"unknown edit_key_marking '{marking}'; known: {', '.join(KEY_MARKINGS)}")


def check_settings(cfg, cuda_available: bool) -> None:
    if cfg.get("fp16") and not cuda_available:
        raise EditConfigError("fp16: true needs a GPU; on CPU set fp16: false and bf16: false")
    check_stage2_loss(cfg)
    check_key_marking(cfg)
    if not cfg.get("edit_krsl"):
        return
    if cfg.get("rl"):
        raise EditConfigError(
            f"edit_krsl: true replaces the trainer, so rl: {cfg.get('rl')} would not run; "
            "set edit_krsl: false for a DPO baseline (edit_plugin.dpo.dpo_config writes one)"
        )
    if cfg.get("sample_packing"):
        raise EditConfigError(
            "edit_krsl: true does not work with sample_packing: true (the chosen and "
            "rejected CoTs of a pair must stay aligned row by row); set sample_packing: false"
        )
    if str(cfg.get("excess_length_strategy") or "").lower() == "truncate":
        raise EditConfigError(
            "excess_length_strategy: truncate would cut only the chosen side; "
            "edit_plugin.dual_cot truncates both sides itself. Remove the key."
        )
    wrong = [t for t in _dataset_types(cfg) if t != KRSL_TYPE]
    if wrong:
        raise EditConfigError(
            f"edit_krsl: true needs every dataset to have type: {KRSL_TYPE} "
            f"(chosen and rejected sides); found type: {wrong[0]}"
        )


def _cut_cross_entropy_on(cfg) -> bool:
    # Its plugin's own key defaults to true: listing the plugin turns it on.
    listed = any("cut_cross_entropy" in str(plugin) for plugin in cfg.get("plugins") or [])
    return listed and cfg.get("cut_cross_entropy") is not False


def check_fused_losses(cfg) -> None:
    """Stage 2 calls the model without labels and reads the head's output at
    key tokens only. Liger's patched forwards then apply the head as usual
    (tests/test_row_logits.py runs them); Cut Cross-Entropy's is refused."""
    if cfg.get("edit_krsl") and _cut_cross_entropy_on(cfg):
        raise EditConfigError(
            "cut_cross_entropy with edit_krsl: true: stage 2 computes its own loss and projects only "
            "the key tokens' hidden states onto the vocabulary, so Cut Cross-Entropy has no logits to "
            "spare, and its patched forward has not been run with the stage-2 forward (its kernels need "
            "a GPU). Set cut_cross_entropy: false or remove CutCrossEntropyPlugin from this stage-2 "
            "config; the stage-1 (SFT) config can keep it"
        )


# Keys whose schedule `edit_lr_epoch_decay` would silently replace.
SCHEDULE_KEYS = ("lr_scheduler", "warmup_ratio", "warmup_steps", "cosine_min_lr_ratio")


def check_lr_schedule(cfg) -> None:
    if cfg.get("edit_lr_epoch_decay") is None:
        return
    clashing = [key for key in SCHEDULE_KEYS if cfg.get(key) not in (None, 0, 0.0)]
    if clashing:
        raise EditConfigError(
            f"edit_lr_epoch_decay replaces the learning-rate schedule (x decay per epoch, no "
            f"warm-up), so {clashing[0]}: {cfg.get(clashing[0])} would be ignored; remove "
            f"{', '.join(clashing)} or edit_lr_epoch_decay"
        )
    deepspeed = cfg.get("deepspeed")
    if deepspeed and _deepspeed_sets_scheduler(deepspeed):
        raise EditConfigError(
            f"the DeepSpeed config {deepspeed} has its own scheduler, which wins over "
            "edit_lr_epoch_decay; remove one of the two"
        )


FSDP_KEYS = ("fsdp", "fsdp_config", "fsdp_version")


def check_one_sharding(cfg) -> None:
    """DeepSpeed or FSDP, not both. Our multi-GPU recipes set FSDP2; the README
    says to replace those keys to use DeepSpeed. Axolotl's own refusal depends
    on its version (0.19 looks only at the FSDP1 `fsdp:` list and lets an
    FSDP2 `fsdp_config` through beside `deepspeed`; 0.21 looks at
    `fsdp_config`), so the plugin refuses every combination itself."""
    fsdp = [key for key in FSDP_KEYS if cfg.get(key)]
    if cfg.get("deepspeed") and fsdp:
        raise EditConfigError(
            f"deepspeed: {cfg.get('deepspeed')} beside {', '.join(fsdp)}: DeepSpeed and FSDP each shard "
            f"the model, use one; to train with DeepSpeed remove {', '.join(fsdp)}"
        )


def _deepspeed_sets_scheduler(deepspeed) -> bool:
    if isinstance(deepspeed, dict):
        return "scheduler" in deepspeed
    try:
        return "scheduler" in json.loads(Path(str(deepspeed)).read_text())
    except (OSError, ValueError):
        return False  # a file DeepSpeed itself will complain about


def _local_jsonl_files(path: str) -> list[Path]:
    candidate = Path(path).expanduser()
    if candidate.is_file():
        return [candidate]
    if candidate.is_dir():
        return sorted(candidate.glob("*.jsonl"))
    return []  # a Hub id: checked row by row while tokenizing


def check_data_files(cfg) -> int:
    """Validate every local file of our dataset types; return the record count."""
    total = 0
    for ds in _datasets(cfg):
        ds_type = str((ds or {}).get("type"))
        if ds_type not in (KRSL_TYPE, SFT_TYPE, DPO_PLAIN_TYPE):
            continue
        fields = FieldMap.from_config(cfg).names(SFT_FIELDS if ds_type == SFT_TYPE else REQUIRED_FIELDS)
        for file in _local_jsonl_files(str(ds.get("path"))):
            total += validate_file(file, fields)
    return total


def check_config(cfg, cuda_available: bool) -> None:
    check_unknown_keys(cfg)
    check_settings(cfg, cuda_available)
    check_fused_losses(cfg)
    check_lr_schedule(cfg)
    check_one_sharding(cfg)
    check_data_files(cfg)
