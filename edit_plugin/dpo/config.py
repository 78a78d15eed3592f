"""KRSL-stage Axolotl config -> the DPO baseline's Axolotl config (pure)."""

from __future__ import annotations

import copy
from pathlib import Path

from edit_plugin.text.fields import FieldMap, config_keys

# Axolotl's own transform for tokenizers with a chat template: the string
# ``prompt`` field becomes one user message, the CoTs assistant messages.
CHAT_TEMPLATE_TYPE = "chat_template.default"
# Plugin keys that are not KRSL's: the DPO baseline keeps them (same schedule,
# same field names).
SHARED_EDIT_KEYS = ("edit_lr_epoch_decay", *config_keys())
DPO_PLAIN_TYPE = "edit_plugin.dpo_plain"  # an attribute of the package: see transform.py


def dpo_dataset(path: str, chat_template: bool, split: str | None = None,
                field_map: FieldMap = FieldMap()) -> dict:
    if chat_template:
        ds = {"path": path, "type": CHAT_TEMPLATE_TYPE, "field_messages": field_map.prompt,
              "field_chosen": field_map.chosen, "field_rejected": field_map.rejected}
    else:
        ds = {"path": path, "type": DPO_PLAIN_TYPE}
    if split is not None:
        ds["split"] = split
    return ds


def _sibling(path: str | None, name: str) -> str | None:
    return None if path is None else str(Path(path).parent / name)


def dpo_config(
    krsl_cfg: dict,
    data_path: str,
    beta: float = 0.1,
    chat_template: bool = True,
    output_dir: str | None = None,
    dataset_prepared_path: str | None = None,
) -> dict:
    """The Axolotl config of the DPO baseline on the same pairs as ``krsl_cfg``.

    Everything of ``krsl_cfg`` is kept (base model, LoRA, optimizer, schedule,
    sequence_len, seed, the plugin, which seeds the adapter) except:
    - ``edit_*`` keys: removed, except the schedule ``edit_lr_epoch_decay``
      and the field names ``edit_field_*``;
      ``edit_krsl: false`` so the plugin does not replace TRL's trainer;
    - ``datasets`` (and ``test_datasets``): ``data_path`` through Axolotl's
      ``chat_template.default`` (``chat_template=True``) or
      ``edit_plugin.dpo_plain``;
    - ``output_dir`` / ``dataset_prepared_path``: default to siblings ``dpo`` /
      ``prepared-dpo`` of the KRSL ones, so the two runs never share a folder.

    DPO settings, named explicitly: ``rl: dpo``, ``rl_beta`` (Axolotl's key;
    ``dpo_beta`` is deprecated and ignored), ``dpo_loss_type: [sigmoid]``,
    ``precompute_ref_log_probs: false`` (TRL's default: the reference
    log-probs are computed each step with the adapter disabled). Axolotl has no
    key for TRL's ``disable_dropout``; TRL's default (true) applies, which also
    zeroes ``lora_dropout`` during DPO.
    """
    cfg = {key: copy.deepcopy(value) for key, value in krsl_cfg.items()
           if not key.startswith("edit_") or key in SHARED_EDIT_KEYS}
    cfg["edit_krsl"] = False
    cfg["rl"] = "dpo"
    cfg["rl_beta"] = float(beta)
    cfg["dpo_loss_type"] = ["sigmoid"]
    cfg["precompute_ref_log_probs"] = False
    field_map = FieldMap.from_config(krsl_cfg)
    cfg["datasets"] = [dpo_dataset(str(data_path), chat_template, field_map=field_map)]
    if krsl_cfg.get("test_datasets"):
        cfg["test_datasets"] = [
            dpo_dataset(str(ds["path"]), chat_template, ds.get("split"), field_map)
            for ds in krsl_cfg["test_datasets"]
        ]
    out = output_dir or _sibling(krsl_cfg.get("output_dir"), "dpo")
    prepared = dataset_prepared_path or _sibling(krsl_cfg.get("dataset_prepared_path"), "prepared-dpo")
    for key, value in (("output_dir", out), ("dataset_prepared_path", prepared)):
        if value is not None:
            cfg[key] = value
    return cfg
