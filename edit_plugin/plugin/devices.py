"""Where each process loads the model when several run on CPU.

With more than one process Axolotl's ``normalize_config`` sets
``device_map = {"": LOCAL_RANK}``, an accelerator index. On a machine with no
accelerator (CPU processes joined by gloo: ``ACCELERATE_USE_CPU=true axolotl
train CFG -- --multi_gpu --num_processes 2``) ``from_pretrained`` then fails
with "Cannot access accelerator device when none is available". Each process
holds its own full copy on the CPU, so the map becomes ``{"": "cpu"}``.
Nothing else is touched: one process, a machine with an accelerator, or a
device map that is not that rank index keep theirs.
"""

from __future__ import annotations

import os

CPU_DEVICE_MAP = {"": "cpu"}


def cpu_process_device_map(device_map, world_size: int, local_rank: int, accelerator_available: bool):
    """``{"": "cpu"}`` in place of Axolotl's ``{"": local_rank}`` for one of
    several processes on a machine without an accelerator; otherwise
    ``device_map`` unchanged."""
    if accelerator_available or world_size <= 1:
        return device_map
    if device_map == {"": local_rank}:
        return dict(CPU_DEVICE_MAP)
    return device_map


def accelerator_available() -> bool:
    import torch

    return torch.accelerator.is_available()


def fix_cpu_device_map(cfg) -> bool:
    """Apply `cpu_process_device_map` to ``cfg.device_map`` from the launcher's
    environment; True when it changed."""
    new = cpu_process_device_map(
        cfg.get("device_map"),
        world_size=int(os.environ.get("WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        accelerator_available=accelerator_available(),
    )
    changed = new != cfg.get("device_map")
    cfg["device_map"] = new
    return changed
